import { describe, expect, it } from 'vitest';
import { breakerKey, createCircuitBreakers, tenantOfBreakerKey } from '../../../src/core/routing/circuit-breaker.js';

function breakers(failureThreshold = 2, coolDownMs = 1_000) {
  let now = 0;
  const b = createCircuitBreakers(() => ({ failureThreshold, coolDownMs, now: () => now }));
  return { b, advance: (ms: number) => (now += ms) };
}

describe('circuit breaker', () => {
  it('starts closed and stays closed below the threshold', () => {
    const { b } = breakers(3);
    expect(b.state('p')).toBe('closed');
    b.onFailure('p');
    b.onFailure('p');
    expect(b.state('p')).toBe('closed');
    expect(b.tryAcquire('p')).toBe(true);
  });

  it('counts consecutive failures only: a success resets the count', () => {
    const { b } = breakers(2);
    b.onFailure('p');
    b.onSuccess('p');
    b.onFailure('p');
    expect(b.state('p')).toBe('closed');
    b.onFailure('p');
    expect(b.state('p')).toBe('open');
  });

  it('opens after N consecutive failures and refuses until the cool-down has passed', () => {
    const { b, advance } = breakers(2, 1_000);
    b.onFailure('p');
    b.onFailure('p');
    expect(b.state('p')).toBe('open');
    expect(b.tryAcquire('p')).toBe(false);
    advance(999);
    expect(b.tryAcquire('p')).toBe(false);
    advance(1);
    expect(b.state('p')).toBe('half-open');
  });

  it('lets exactly one trial through when half-open; success closes it', () => {
    const { b, advance } = breakers(1, 100);
    b.onFailure('p');
    advance(100);
    expect(b.tryAcquire('p')).toBe(true);
    expect(b.tryAcquire('p')).toBe(false); // the trial is in flight
    b.onSuccess('p');
    expect(b.state('p')).toBe('closed');
    expect(b.tryAcquire('p')).toBe(true);
    expect(b.tryAcquire('p')).toBe(true);
  });

  it('reopens for a full cool-down when the trial fails', () => {
    const { b, advance } = breakers(3, 100);
    for (let i = 0; i < 3; i++) b.onFailure('p');
    advance(150);
    expect(b.tryAcquire('p')).toBe(true);
    b.onFailure('p');
    expect(b.state('p')).toBe('open');
    advance(99);
    expect(b.tryAcquire('p')).toBe(false);
    advance(1);
    expect(b.tryAcquire('p')).toBe(true);
  });

  it('release frees the trial without a verdict', () => {
    const { b, advance } = breakers(1, 100);
    b.onFailure('p');
    advance(100);
    expect(b.tryAcquire('p')).toBe(true);
    b.release('p');
    expect(b.state('p')).toBe('half-open');
    expect(b.tryAcquire('p')).toBe(true);
  });

  it('release does not reset the failure count of a closed breaker', () => {
    const { b } = breakers(2);
    b.onFailure('p');
    b.release('p');
    b.onFailure('p');
    expect(b.state('p')).toBe('open');
  });

  it('keeps providers apart', () => {
    const { b } = breakers(1);
    b.onFailure('a');
    expect(b.state('a')).toBe('open');
    expect(b.state('b')).toBe('closed');
    expect(b.tryAcquire('b')).toBe(true);
  });

  it('keeps tenants apart for a provider id they share, each with its own thresholds', () => {
    let now = 0;
    const thresholds: Record<string, number> = { a: 1, 'b/with/slashes': 3 };
    const b = createCircuitBreakers((key) => ({ failureThreshold: thresholds[tenantOfBreakerKey(key)] ?? 5, coolDownMs: 100, now: () => now }));
    const [ka, kb] = [breakerKey('a', 'openai'), breakerKey('b/with/slashes', 'openai')];
    expect(tenantOfBreakerKey(kb)).toBe('b/with/slashes');
    b.onFailure(ka);
    b.onFailure(kb);
    expect(b.state(ka)).toBe('open');
    expect(b.state(kb)).toBe('closed');
    b.onFailure(kb);
    b.onFailure(kb);
    expect(b.state(kb)).toBe('open');
    now += 100;
    expect(b.state(ka)).toBe('half-open');
  });
});
