import { describe, expect, it } from 'vitest';
import { compileProfilePolicy } from '../../../src/core/policy/compile-profile.js';
import type { Profile } from '../../../src/shared/policy-schema.js';

const base = { tenant: 'acme', version: 1, providers: [{ id: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1' }] } as unknown as Profile;

describe('the rate-limit admission decision', () => {
  it('names the limits a request is admitted under, only those the profile sets', () => {
    expect(compileProfilePolicy({ ...base, rateLimits: { rpm: 600, tpm: 100_000 } }).rateLimitsAllowed).toEqual({
      rule: 'rate_limits',
      outcome: 'allow',
      detail: 'within rpm 600, tpm 100000',
    });
    expect(compileProfilePolicy({ ...base, rateLimits: { tpm: 5000 } }).rateLimitsAllowed?.detail).toBe('within tpm 5000');
    expect(compileProfilePolicy({ ...base, rateLimits: {} }).rateLimitsAllowed?.detail).toBe('no limit set');
  });

  it('is one frozen object per profile, shared by its requests; none without rate limits', () => {
    const profile = { ...base, rateLimits: { rpm: 10 } };
    const d = compileProfilePolicy(profile).rateLimitsAllowed;
    expect(Object.isFrozen(d)).toBe(true);
    expect(compileProfilePolicy(profile).rateLimitsAllowed).toBe(d);
    expect(compileProfilePolicy({ ...base }).rateLimitsAllowed).toBeNull();
  });
});
