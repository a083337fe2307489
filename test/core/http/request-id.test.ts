import { describe, expect, it } from 'vitest';
import { newRequestId } from '../../../src/core/http/request-id.js';

describe('request ids', () => {
  it('are RFC 9562 version-7 UUIDs carrying the millisecond time', () => {
    const now = Date.UTC(2026, 10, 27, 10, 0, 0, 123);
    const id = newRequestId(now);
    expect(id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(now);
  });

  it('sort in time order and do not repeat', () => {
    const ids = Array.from({ length: 1000 }, (_, i) => newRequestId(1_800_000_000_000 + Math.floor(i / 10)));
    expect([...ids].sort().map((x) => x.slice(0, 13))).toEqual(ids.map((x) => x.slice(0, 13)));
    expect(new Set(ids).size).toBe(ids.length);
  });
});
