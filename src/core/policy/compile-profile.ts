import type { Budget, Profile } from '../../shared/policy-schema.js';
import type { Decision } from '../../shared/trace.js';
import { assertTimeZone, DEFAULT_RESERVATION_CEILING_USD } from './budget-ledger.js';
import { compileGuardrails, type CompiledGuardrails } from './guardrails/compile-guardrails.js';
import { compileModelAllowList } from './model-glob.js';
import type { PriceOverrides } from './pricing.js';
import type { RateLimits } from './rate-limiter.js';

/**
 * Everything the per-request policy path needs from a profile, compiled once when the profile is
 * loaded (globs and deny patterns to RegExps, time zones checked, defaults filled in). Throws on a
 * profile that parses but cannot be enforced (bad regex, unknown time zone): fail closed at load.
 */
export interface CompiledProfilePolicy {
  readonly profile: Profile;
  readonly isModelAllowed: (model: string) => boolean;
  /** Allowed provider regions, or null when the profile has no residency rule. */
  readonly residencyRegions: ReadonlySet<string> | null;
  readonly guardrails: CompiledGuardrails;
  readonly budgets: readonly Budget[];
  readonly reservationCeilingUsd: number;
  readonly rateLimits: RateLimits | undefined;
  /**
   * The decision a request admitted under the rate limits records: the limits it was admitted
   * under, the same frozen object for every request of the profile. What a request reserved is
   * bookkeeping, reconciled when it ends; a denial says what was wanted and what was free.
   */
  readonly rateLimitsAllowed: Decision | null;
  readonly prices: PriceOverrides | undefined;
}

const compiledCache = new WeakMap<Profile, CompiledProfilePolicy>();

export function compileProfilePolicy(profile: Profile): CompiledProfilePolicy {
  const cached = compiledCache.get(profile);
  if (cached) return cached;
  (profile.budgets ?? []).forEach((b, i) => {
    if (b.timeZone === undefined) return;
    try {
      assertTimeZone(b.timeZone);
    } catch {
      throw new Error(`budgets[${i}].timeZone "${b.timeZone}" is not a time zone this runtime knows`);
    }
  });
  const compiled: CompiledProfilePolicy = {
    profile,
    isModelAllowed: compileModelAllowList(profile.models?.allow),
    residencyRegions: profile.residency ? new Set(profile.residency.regions) : null,
    guardrails: compileGuardrails(profile.guardrails),
    budgets: profile.budgets ?? [],
    reservationCeilingUsd: profile.reservationCeilingUsd ?? DEFAULT_RESERVATION_CEILING_USD,
    rateLimits: profile.rateLimits,
    rateLimitsAllowed: rateLimitsAllowedDecision(profile.rateLimits),
    prices: profile.prices,
  };
  compiledCache.set(profile, compiled);
  return compiled;
}

function rateLimitsAllowedDecision(limits: RateLimits | undefined): Decision | null {
  if (limits === undefined) return null;
  const set = (['rpm', 'tpm'] as const).filter((k) => limits[k] !== undefined).map((k) => `${k} ${limits[k]}`);
  return Object.freeze({ rule: 'rate_limits', outcome: 'allow', detail: set.length > 0 ? `within ${set.join(', ')}` : 'no limit set' } as const);
}
