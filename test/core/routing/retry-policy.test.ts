import { describe, expect, it } from 'vitest';
import { backoffMs, isRetryableStatus, retryAfterMs } from '../../../src/core/routing/retry-policy.js';

describe('isRetryableStatus', () => {
  it('retries 429, 5xx and Anthropic 529, nothing else', () => {
    for (const s of [429, 500, 502, 503, 504, 529]) expect(isRetryableStatus(s)).toBe(true);
    for (const s of [200, 400, 401, 403, 404, 409, 413, 422]) expect(isRetryableStatus(s)).toBe(false);
  });
});

describe('retryAfterMs', () => {
  const now = Date.parse('2025-01-01T00:00:00Z');

  it('reads retry-after in seconds, fractions rounded up to whole ms', () => {
    expect(retryAfterMs({ 'retry-after': '2' }, now)).toBe(2_000);
    expect(retryAfterMs({ 'retry-after': '0.25' }, now)).toBe(250);
    expect(retryAfterMs({ 'retry-after': ' 3 ' }, now)).toBe(3_000);
  });

  it('prefers retry-after-ms (OpenAI) over retry-after', () => {
    expect(retryAfterMs({ 'retry-after-ms': '150', 'retry-after': '5' }, now)).toBe(150);
    expect(retryAfterMs({ 'retry-after-ms': '12.2' }, now)).toBe(13);
  });

  it('reads an HTTP date relative to now, never negative', () => {
    expect(retryAfterMs({ 'retry-after': 'Wed, 01 Jan 2025 00:00:05 GMT' }, now)).toBe(5_000);
    expect(retryAfterMs({ 'retry-after': 'Tue, 31 Dec 2024 23:59:00 GMT' }, now)).toBe(0);
  });

  it('returns null for no or unusable hints', () => {
    expect(retryAfterMs({}, now)).toBeNull();
    expect(retryAfterMs({ 'retry-after': 'soon' }, now)).toBeNull();
    expect(retryAfterMs({ 'retry-after-ms': 'abc' }, now)).toBeNull();
    expect(retryAfterMs({ 'retry-after': '-1' }, now)).toBeNull();
    expect(retryAfterMs({ 'retry-after': 'in 5 minutes' }, now)).toBeNull();
  });

  it('takes the first value of a repeated header', () => {
    expect(retryAfterMs({ 'retry-after': ['1', '9'] }, now)).toBe(1_000);
  });
});

describe('backoffMs', () => {
  it('is full jitter within [0, base·2^attempt]', () => {
    expect(backoffMs(0, () => 0)).toBe(0);
    expect(backoffMs(0, () => 1)).toBe(250);
    expect(backoffMs(1, () => 1)).toBe(500);
    expect(backoffMs(3, () => 0.5)).toBe(1_000);
  });

  it('is capped', () => {
    expect(backoffMs(20, () => 1)).toBe(8_000);
    expect(backoffMs(5, () => 1, 100, 1_000)).toBe(1_000);
  });

  it('stays within bounds for any random value', () => {
    for (let attempt = 0; attempt < 12; attempt++) {
      for (const r of [0, 0.1, 0.5, 0.999, 1]) {
        const ms = backoffMs(attempt, () => r);
        expect(ms).toBeGreaterThanOrEqual(0);
        expect(ms).toBeLessThanOrEqual(Math.min(8_000, 250 * 2 ** attempt));
      }
    }
  });
});
