import { describe, expect, it } from 'vitest';
import { RateLimiter, rateLimitedError } from '../../../src/core/policy/index.js';

const T0 = Date.UTC(2026, 10, 27, 12, 0, 0);

describe('RateLimiter', () => {
  it('no limits admits everything', () => {
    const rl = new RateLimiter();
    for (let i = 0; i < 1000; i++) expect(rl.admit('t', undefined, 1e6, T0).ok).toBe(true);
  });

  it('rpm admits the per-minute allowance, then asks to retry when one request has refilled', () => {
    const rl = new RateLimiter();
    for (let i = 0; i < 60; i++) expect(rl.admit('t', { rpm: 60 }, 0, T0).ok).toBe(true);
    const denied = rl.admit('t', { rpm: 60 }, 0, T0);
    expect(denied).toEqual({ ok: false, retryAfterSeconds: 1, limit: 'rpm' });
    expect(rl.admit('t', { rpm: 60 }, 0, T0 + 1000).ok).toBe(true);
  });

  it('tenants have separate limits', () => {
    const rl = new RateLimiter();
    expect(rl.admit('a', { rpm: 1 }, 0, T0).ok).toBe(true);
    expect(rl.admit('a', { rpm: 1 }, 0, T0).ok).toBe(false);
    expect(rl.admit('b', { rpm: 1 }, 0, T0).ok).toBe(true);
  });

  it('tpm reserves estimated tokens and says how long until they fit', () => {
    const rl = new RateLimiter();
    expect(rl.admit('t', { tpm: 6000 }, 5000, T0).ok).toBe(true);
    const denied = rl.admit('t', { tpm: 6000 }, 2000, T0);
    // 1000 missing at 100 tokens/s → 10 s.
    expect(denied).toEqual({ ok: false, retryAfterSeconds: 10, limit: 'tpm', tokensWanted: 2000, tokensFree: 1000 });
  });

  it('reconciling with real usage returns unused reserved tokens', () => {
    const rl = new RateLimiter();
    const a = rl.admit('t', { tpm: 6000 }, 5000, T0);
    if (!a.ok) throw new Error('expected admission');
    rl.reconcile(a.reservation, 1000);
    expect(rl.admit('t', { tpm: 6000 }, 5000, T0).ok).toBe(true);
  });

  it('usage above the reservation is charged as debt that later requests wait out', () => {
    const rl = new RateLimiter();
    const a = rl.admit('t', { tpm: 6000 }, 1000, T0);
    if (!a.ok) throw new Error('expected admission');
    rl.reconcile(a.reservation, 9000); // level 6000 - 9000 = -3000
    const denied = rl.admit('t', { tpm: 6000 }, 100, T0);
    expect(denied.ok).toBe(false);
    if (!denied.ok) expect(denied.retryAfterSeconds).toBe(31);
  });

  it('reconciling twice has no further effect', () => {
    const rl = new RateLimiter();
    const a = rl.admit('t', { tpm: 1000 }, 1000, T0);
    if (!a.ok) throw new Error('expected admission');
    rl.reconcile(a.reservation, 0);
    rl.reconcile(a.reservation, 0);
    expect(rl.admit('t', { tpm: 1000 }, 1000, T0).ok).toBe(true);
    expect(rl.admit('t', { tpm: 1000 }, 1, T0).ok).toBe(false);
  });

  it('a request larger than the whole minute is admitted on a full bucket rather than never', () => {
    const rl = new RateLimiter();
    expect(rl.admit('t', { tpm: 1000 }, 5000, T0).ok).toBe(true);
    expect(rl.admit('t', { tpm: 1000 }, 5000, T0 + 60_000).ok).toBe(false);
  });

  it('a rate-limit denial is a 429 rate_limited with Retry-After', () => {
    const e = rateLimitedError({ retryAfterSeconds: 7, limit: 'tpm' }, 'acme');
    expect(e.code).toBe('rate_limited');
    expect(e.status).toBe(429);
    expect(e.headers).toEqual({ 'retry-after': '7' });
    expect(e.message).toContain('tokens per minute');
  });
});
