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
