import { GatewayError } from '../gateway-error.js';

/**
 * Per-tenant rate limits as two token buckets: requests per minute and tokens per minute. A bucket
 * holds at most one minute's allowance and refills continuously (limit / 60 000 per ms), which
 * behaves like a sliding window without storing a log of requests.
 *
 * Tokens are reserved up front (estimated input + requested output) and reconciled with real usage
 * afterwards: unused tokens flow back, overuse is charged as debt (the bucket may go negative and
 * later requests wait it out). A single request larger than the whole per-minute allowance would
 * never fit, so it is admitted when the bucket is full and leaves the bucket in debt.
 *
 * Pure in time: every call takes `nowMs`.
 */

export interface RateLimits {
  rpm?: number | undefined;
  tpm?: number | undefined;
}

export interface RateReservation {
  readonly tenant: string;
  readonly tokens: number;
  /** Set once reconciled or released; later calls are no-ops. */
  settled: boolean;
}

export type AdmitResult =
  | { ok: true; reservation: RateReservation }
  | { ok: false; retryAfterSeconds: number; limit: 'rpm'; tokensWanted?: undefined; tokensFree?: undefined }
  /** `tokensFree` may be negative: earlier requests used more than they reserved. */
  | { ok: false; retryAfterSeconds: number; limit: 'tpm'; tokensWanted: number; tokensFree: number };

interface Bucket {
  capacity: number;
  level: number;
  lastMs: number;
}

interface TenantBuckets {
  requests?: Bucket;
  tokens?: Bucket;
}

const MINUTE_MS = 60_000;

function refill(b: Bucket, capacity: number, nowMs: number): void {
  if (b.capacity !== capacity) {
    // The profile changed: keep the level, within the new capacity.
    b.level = Math.min(b.level, capacity);
    b.capacity = capacity;
  }
  const elapsed = nowMs - b.lastMs;
  if (elapsed > 0) {
    b.level = Math.min(capacity, b.level + (elapsed * capacity) / MINUTE_MS);
    b.lastMs = nowMs;
  }
}

/** Seconds until `needed` fits in the bucket, at least 1 (Retry-After has one-second granularity). */
function secondsUntil(b: Bucket, needed: number): number {
  const deficit = needed - b.level;
  return Math.max(1, Math.ceil((deficit * MINUTE_MS) / b.capacity / 1000));
}

export class RateLimiter {
  private readonly tenants = new Map<string, TenantBuckets>();

  admit(tenant: string, limits: RateLimits | undefined, estimatedTokens: number, nowMs: number): AdmitResult {
    const rpm = limits?.rpm;
    const tpm = limits?.tpm;
    const tokensWanted = Math.max(0, Math.ceil(estimatedTokens));
    let state = this.tenants.get(tenant);
    if (!state) {
      state = {};
      this.tenants.set(tenant, state);
    }

    let req: Bucket | undefined;
    if (rpm !== undefined) {
      req = state.requests ??= { capacity: rpm, level: rpm, lastMs: nowMs };
      refill(req, rpm, nowMs);
      if (req.level < 1) return { ok: false, retryAfterSeconds: secondsUntil(req, 1), limit: 'rpm' };
    }
    let tok: Bucket | undefined;
    if (tpm !== undefined) {
      tok = state.tokens ??= { capacity: tpm, level: tpm, lastMs: nowMs };
      refill(tok, tpm, nowMs);
      // Oversized requests need a full bucket rather than an impossible amount.
      const needed = Math.min(tokensWanted, tok.capacity);
      if (tok.level < needed) {
        return { ok: false, retryAfterSeconds: secondsUntil(tok, needed), limit: 'tpm', tokensWanted, tokensFree: Math.floor(tok.level) };
      }
    }

    if (req) req.level -= 1;
    if (tok) tok.level -= tokensWanted;
    return { ok: true, reservation: { tenant, tokens: tpm === undefined ? 0 : tokensWanted, settled: false } };
  }

  /** Replaces the reservation with the tokens actually used (input + output as reported). */
  reconcile(reservation: RateReservation, actualTokens: number): void {
    if (reservation.settled) return;
    reservation.settled = true;
    const tok = this.tenants.get(reservation.tenant)?.tokens;
    if (!tok || reservation.tokens === 0) return;
    tok.level = Math.min(tok.capacity, tok.level + reservation.tokens - Math.max(0, actualTokens));
  }

  /** The request never reached a provider: give its tokens back (the request itself still counts). */
  release(reservation: RateReservation): void {
    this.reconcile(reservation, 0);
  }

  /** Forget a tenant's buckets (profile removed). */
  forget(tenant: string): void {
    this.tenants.delete(tenant);
  }
}

export function rateLimitedError(denial: { retryAfterSeconds: number; limit: 'rpm' | 'tpm' }, tenant: string): GatewayError {
  const what = denial.limit === 'rpm' ? 'requests per minute' : 'tokens per minute';
  return new GatewayError(
    'rate_limited',
    `Tenant "${tenant}" is over its ${what} limit; retry in ${denial.retryAfterSeconds}s.`,
    { headers: { 'retry-after': String(denial.retryAfterSeconds) } },
  );
}
