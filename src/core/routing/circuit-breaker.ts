/**
 * One breaker per provider: after `failureThreshold` consecutive failures the provider is skipped
 * for `coolDownMs`; then one trial request is let through (half-open). Success closes it, failure
 * opens it again. Breakers are keyed with `breakerKey`: per tenant and provider.
 */
export type BreakerState = 'closed' | 'open' | 'half-open';

export interface CircuitBreakers {
  /** Whether a request may go to the provider now; reserves the half-open trial when it does. */
  tryAcquire(providerId: string): boolean;
  onSuccess(providerId: string): void;
  onFailure(providerId: string): void;
  /**
   * Gives back a reservation without a verdict (no credential, untranslatable request, client gone):
   * the provider's health is unknown, so neither the failure count nor the state changes, but a
   * half-open trial slot is freed for the next request instead of staying taken forever.
   */
  release(providerId: string): void;
  state(providerId: string): BreakerState;
}

export interface BreakerOptions {
  failureThreshold: number;
  coolDownMs: number;
  now?: () => number;
}

interface Entry {
  failures: number;
  openedAt: number | null;
  trialInFlight: boolean;
}

export function createCircuitBreakers(optsFor: (providerId: string) => BreakerOptions): CircuitBreakers {
  const entries = new Map<string, Entry>();
  const entry = (id: string): Entry => {
    let e = entries.get(id);
    if (!e) {
      e = { failures: 0, openedAt: null, trialInFlight: false };
      entries.set(id, e);
    }
    return e;
  };
  const now = (id: string): number => (optsFor(id).now ?? Date.now)();

  function state(id: string): BreakerState {
    const e = entries.get(id);
    if (!e || e.openedAt === null) return 'closed';
    return now(id) - e.openedAt >= optsFor(id).coolDownMs ? 'half-open' : 'open';
  }

  return {
    state,
    tryAcquire(id) {
      const s = state(id);
      if (s === 'closed') return true;
      if (s === 'open') return false;
      const e = entry(id);
      if (e.trialInFlight) return false;
      e.trialInFlight = true;
      return true;
    },
    onSuccess(id) {
      const e = entries.get(id);
      if (!e) return;
      e.failures = 0;
      e.openedAt = null;
      e.trialInFlight = false;
    },
    release(id) {
      const e = entries.get(id);
      if (e) e.trialInFlight = false;
    },
    onFailure(id) {
      const e = entry(id);
      const wasTrial = e.trialInFlight;
      e.trialInFlight = false;
      e.failures += 1;
      if (wasTrial || e.failures >= optsFor(id).failureThreshold) e.openedAt = now(id);
    },
  };
}

/**
 * A provider's breaker belongs to the profile that names it: two profiles may send the same provider
 * id to different endpoints or regions, and each profile sets its own thresholds.
 */
export function breakerKey(tenant: string, providerId: string): string {
  return `${tenant}\u0000${providerId}`;
}

export function tenantOfBreakerKey(key: string): string {
  const cut = key.indexOf('\u0000');
  return cut === -1 ? key : key.slice(0, cut);
}
