import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { applyGuardrails, compileGuardrails } from '../../../../src/core/policy/index.js';
import type { GuardedFormat } from '../../../../src/core/policy/index.js';

const formats: GuardedFormat[] = ['openai-chat', 'anthropic-messages', 'openai-responses', 'openai-embeddings', 'mistral-fim'];
const everything = compileGuardrails({ pii: 'redact', secrets: 'redact', deny: ['forbidden'], maxOutputTokens: 100 });

describe('guardrail properties', () => {
  it('any JSON body, in any format, is handled without throwing and never mutated', () => {
    fc.assert(
      fc.property(fc.constantFrom(...formats), fc.jsonValue(), fc.jsonValue(), (format, messages, input) => {
        const body = { messages, input, prompt: typeof input === 'string' ? input : 'x', system: messages } as Record<string, unknown>;
        const before = JSON.stringify(body);
        const r = applyGuardrails(format, body, everything);
        expect(JSON.stringify(body)).toBe(before);
        expect(r.changed).toBe(r.body !== body);
      }),
      { numRuns: 300 },
    );
  });

  it('any Luhn-valid 16-digit Visa-range number in a message is redacted', () => {
    const luhnComplete = (prefix: string): string => {
      for (let d = 0; d <= 9; d++) {
        const candidate = prefix + String(d);
        let sum = 0;
        for (let i = 0; i < candidate.length; i++) {
          let n = Number(candidate[candidate.length - 1 - i]);
          if (i % 2 === 1) n = n * 2 > 9 ? n * 2 - 9 : n * 2;
          sum += n;
        }
        if (sum % 10 === 0) return candidate;
      }
      throw new Error('unreachable');
    };
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 9 }), { minLength: 14, maxLength: 14 }), (digits) => {
        const card = luhnComplete('4' + digits.join(''));
        if (/^(\d)\1+$/.test(card)) return;
        const r = applyGuardrails('openai-chat', { messages: [{ role: 'user', content: `pay with ${card} thanks` }] }, everything);
        expect((r.body.messages as { content: string }[])[0]?.content).toBe('pay with [CARD_1] thanks');
      }),
      { numRuns: 300 },
    );
  });

  it('the joined deny pattern matches a text exactly when one of the rules does', () => {
    const pieces = ['secret', 'internal[-_ ]only', '^draft', 'end$', '\\bq\\d+\\b', '(?<=re)view', 'a(b|c)+d', '(?<tag>x)y\\k<tag>', 'n[^a-z]o', 'do not (share|distribute)'];
    const rules = fc.uniqueArray(fc.constantFrom(...pieces), { minLength: 2, maxLength: 5 });
    const text = fc.array(fc.constantFrom('secret', 'internal only', 'draft', ' end', 'q12', 'review', 'abcbd', 'xyxy', 'xyx', 'n1o', 'do not share', 'SeCrEt', 'x', ' ', 'a', 'd', '\n'), { maxLength: 8 }).map((p) => p.join(''));
    fc.assert(
      fc.property(rules, text, (deny, t) => {
        const g = compileGuardrails({ deny });
        expect(g.anyDeny).not.toBeNull();
        expect(g.anyDeny!.test(t)).toBe(g.deny.some((rule) => rule.re.test(t)));
      }),
      { numRuns: 500 },
    );
  });
});
