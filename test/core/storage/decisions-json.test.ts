import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { decisionsJson } from '../../../src/core/storage/trace-rows.js';
import type { Decision } from '../../../src/shared/trace.js';

const text = fc.string({ unit: fc.oneof(fc.constantFrom('é', '東', '😀', '"', '\\', '\n', '\u2028', '→'), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' })), maxLength: 16 });
const decision: fc.Arbitrary<Decision> = fc.record(
  { rule: text, outcome: fc.constantFrom('allow', 'deny', 'redact', 'clamp', 'warn', 'skip'), detail: text },
  { requiredKeys: ['rule', 'outcome'] },
);

describe('decisionsJson', () => {
  it('writes what JSON.stringify writes, for shared frozen decisions and per-request ones, call after call', () => {
    fc.assert(
      fc.property(
        fc.array(decision, { minLength: 1, maxLength: 4 }).map((ds) => ds.map((d) => Object.freeze(d))),
        fc.array(fc.array(fc.oneof(fc.nat({ max: 3 }), decision), { maxLength: 6 }), { minLength: 1, maxLength: 8 }),
        (shared, requests) => {
          for (const picks of requests) {
            const decisions = picks.map((p) => (typeof p === 'number' ? (shared[p % shared.length] as Decision) : p));
            expect(decisionsJson(decisions)).toBe(JSON.stringify(decisions));
          }
        },
      ),
      { numRuns: 300 },
    );
  });

  it('writes what JSON.stringify writes for objects of other shapes: keys in another order, extra or missing keys, values that are not strings', () => {
    const value = fc.oneof(text, fc.integer(), fc.constant(null), fc.constant(undefined), fc.boolean());
    const key = fc.constantFrom('rule', 'outcome', 'detail', 'extra', 'toString');
    fc.assert(
      fc.property(fc.array(fc.tuple(key, value), { maxLength: 5 }), fc.boolean(), (entries, freeze) => {
        const d = Object.fromEntries(entries) as unknown as Decision;
        if (freeze) Object.freeze(d);
        expect(decisionsJson([d, d])).toBe(JSON.stringify([d, d]));
      }),
      { numRuns: 500 },
    );
  });

  it('a decision with its own toJSON, or made from a class, is written as JSON.stringify writes it', () => {
    class Made {
      constructor(readonly rule: string, readonly outcome: string) {}
    }
    const withToJson = { rule: 'r', outcome: 'allow', toJSON: () => 'custom' } as unknown as Decision;
    const made = new Made('r', 'allow') as unknown as Decision;
    expect(decisionsJson([withToJson, made])).toBe(JSON.stringify([withToJson, made]));
  });

  it('a decision that is not frozen is written as it is now, not as it was', () => {
    const d: Decision = { rule: 'rate_limits', outcome: 'allow', detail: 'reserved 10 tokens' };
    expect(decisionsJson([d])).toBe(JSON.stringify([d]));
    d.detail = 'reserved 20 tokens';
    expect(decisionsJson([d])).toBe('[{"rule":"rate_limits","outcome":"allow","detail":"reserved 20 tokens"}]');
  });

  it('an entry that is not a decision object is written as JSON.stringify writes it, without throwing', () => {
    const odd = [undefined, null, 'x', Object.freeze({ rule: 'r', outcome: 'allow' })] as unknown as Decision[];
    expect(decisionsJson(odd)).toBe(JSON.stringify(odd));
    expect(decisionsJson(odd)).toBe('[null,null,"x",{"rule":"r","outcome":"allow"}]');
  });
});
