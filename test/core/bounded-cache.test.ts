import { describe, expect, it } from 'vitest';
import { BoundedCache } from '../../src/core/bounded-cache.js';

describe('BoundedCache', () => {
  it('remembers values by key and returns what it stores', () => {
    const c = new BoundedCache<string, number>(4);
    expect(c.get('a')).toBeUndefined();
    expect(c.set('a', 1)).toBe(1);
    expect(c.get('a')).toBe(1);
  });

  it('never holds more than its bound: it starts over when full', () => {
    const c = new BoundedCache<string, number>(3);
    for (let i = 0; i < 10; i++) c.set(`k${i}`, i);
    expect(c.size).toBeLessThanOrEqual(3);
    expect(c.get('k9')).toBe(9);
    expect(c.get('k0')).toBeUndefined();
  });
});
