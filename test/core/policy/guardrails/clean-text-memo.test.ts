import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CleanTextMemo } from '../../../../src/core/policy/guardrails/clean-text-memo.js';
import { applyGuardrails, compileGuardrails } from '../../../../src/core/policy/index.js';

const LIMITS = { hashedBelow: 4, minCharge: 3, maxTextLength: 100, maxChars: 200, maxPerLength: 3 };

/** A copy with the same content but not the same string object, as a new request's JSON.parse gives. */
const fresh = (s: string): string => JSON.parse(JSON.stringify(s)) as string;

describe('CleanTextMemo', () => {
  it('finds a remembered text by content, not by identity', () => {
    const memo = new CleanTextMemo(LIMITS);
    memo.add('hello world');
    expect(memo.has(fresh('hello world'))).toBe(true);
    expect(memo.has('hello worle')).toBe(false);
    expect(memo.has('hello')).toBe(false);
  });

  it('keeps no text longer than maxTextLength, and no empty one', () => {
    const memo = new CleanTextMemo(LIMITS);
    memo.add('x'.repeat(101));
    memo.add('');
    expect(memo.has('x'.repeat(101))).toBe(false);
    expect(memo.has('')).toBe(false);
    expect(memo.chars).toBe(0);
  });

  it('remembers short texts by content too, each charged at least minCharge', () => {
    const memo = new CleanTextMemo(LIMITS);
    memo.add('ab');
    memo.add('abc');
    memo.add('abc');
    expect(memo.has(fresh('ab'))).toBe(true);
    expect(memo.has(fresh('abc'))).toBe(true);
    expect(memo.has('abd')).toBe(false);
    expect(memo.has('a')).toBe(false);
    expect(memo.chars).toBe(2 * LIMITS.minCharge);
  });

  it('holds a bounded number of short texts: a flood of two-letter texts cannot grow it', () => {
    const memo = new CleanTextMemo(LIMITS);
    const letters = 'abcdefghijklmnopqrstuvwxyz';
    const text = (i: number): string => `${letters[i % 26]}${letters[Math.floor(i / 26) % 26]}`;
    for (let i = 0; i < 676; i++) {
      memo.add(text(i));
      // Each is charged minCharge, not its two characters: at most maxChars / minCharge are held.
      expect(memo.chars).toBeLessThanOrEqual(LIMITS.maxChars);
    }
    expect(memo.size).toBeLessThanOrEqual(LIMITS.maxChars / LIMITS.minCharge);
    expect(memo.has(text(0))).toBe(false);
    expect(memo.has(text(675))).toBe(true);
  });

  it('keeps many short texts of one length, not only maxPerLength of them', () => {
    const memo = new CleanTextMemo(LIMITS);
    const texts = Array.from({ length: 20 }, (_, i) => `t${String(i).padStart(2, '0')}`.slice(0, 3));
    for (const t of texts) memo.add(t);
    expect(texts.every((t) => memo.has(fresh(t)))).toBe(true);
    expect(memo.size).toBe(20);
  });

  it('holds at most maxChars characters, however many texts are added', () => {
    const memo = new CleanTextMemo(LIMITS);
    for (let i = 0; i < 500; i++) {
      memo.add(`text number ${i} `.repeat(1 + (i % 5)));
      expect(memo.chars).toBeLessThanOrEqual(LIMITS.maxChars);
    }
  });

  it('keeps a text that keeps being asked for, and forgets one that is not', () => {
    const memo = new CleanTextMemo(LIMITS);
    const resent = 'the system prompt, resent on every turn';
    memo.add(resent);
    memo.add('asked only once');
    for (let turn = 0; turn < 50; turn++) {
      expect(memo.has(fresh(resent))).toBe(true);
      memo.add(`a new message on turn ${turn}`);
    }
    expect(memo.has('asked only once')).toBe(false);
  });

  it('compares at most maxPerLength texts of one length per generation', () => {
    const memo = new CleanTextMemo(LIMITS);
    for (const t of ['aaaa1', 'aaaa2', 'aaaa3', 'aaaa4']) memo.add(t);
    expect(memo.has('aaaa1')).toBe(false);
    expect(['aaaa2', 'aaaa3', 'aaaa4'].every((t) => memo.has(t))).toBe(true);
    expect(memo.chars).toBe(15);
  });
});

describe('guardrails with the clean-text memo', () => {
  const g = () => compileGuardrails({ pii: 'redact', secrets: 'block', deny: ['internal[-_ ]only'] });
  const prose = 'The deployment failed again after the migration ran; the retry loop never released its sockets. '.repeat(4);
  const chat = (...contents: string[]) => ({ model: 'gpt-4.1', messages: contents.map((content) => ({ role: 'user', content })) });

  it('remembers only the texts it found clean', () => {
    const compiled = g();
    const withEmail = `${prose} Mail jane.doe@example.com about it.`;
    const withSecret = `${prose} OPENAI_API_KEY=sk-proj-${'a1B2'.repeat(10)}`;
    const denied = `${prose} This roadmap is internal-only.`;
    applyGuardrails('openai-chat', chat(prose, withEmail), compiled);
    applyGuardrails('openai-chat', chat(withSecret), compiled);
    applyGuardrails('openai-chat', chat(denied), compiled);
    expect(compiled.cleanTexts!.has(fresh(prose))).toBe(true);
    expect(compiled.cleanTexts!.has(fresh(withEmail))).toBe(false);
    expect(compiled.cleanTexts!.has(fresh(withSecret))).toBe(false);
    expect(compiled.cleanTexts!.has(fresh(denied))).toBe(false);
  });

  it('blocks and redacts on every resend of the same conversation', () => {
    const compiled = g();
    const withEmail = `${prose} Mail jane.doe@example.com about it.`;
    const denied = `${prose} This roadmap is internal-only.`;
    for (let turn = 0; turn < 3; turn++) {
      const redacted = applyGuardrails('openai-chat', chat(prose, fresh(withEmail)), compiled);
      expect((redacted.body.messages as { content: string }[])[1]!.content).toContain('[EMAIL_1]');
      expect(applyGuardrails('openai-chat', chat(prose, fresh(denied)), compiled).blocked?.code).toBe('guardrail_blocked');
    }
  });

  it('a profile that scans nothing keeps no memo', () => {
    expect(compileGuardrails({ pii: 'off', secrets: 'off' }).cleanTexts).toBeNull();
    expect(compileGuardrails({ pii: 'off', secrets: 'off', deny: ['x'] }).cleanTexts).not.toBeNull();
  });

  it('gives the same result as a fresh scan, request after request', () => {
    const piece = fc.oneof(
      { arbitrary: fc.constantFrom(prose, prose.slice(0, 300), `${prose.slice(0, 280)}!`), weight: 4 },
      { arbitrary: fc.constantFrom(' jane@example.com ', ' 123-45-6789 ', ` ghp_${'Ab1'.repeat(12)} `, ' internal only ', ' 10.0.0.7 '), weight: 1 },
    );
    const message = fc.array(piece, { minLength: 1, maxLength: 3 }).map((parts) => parts.join(''));
    const conversation = fc.array(message, { minLength: 1, maxLength: 4 });
    const remembering = g();
    fc.assert(
      fc.property(fc.array(conversation, { minLength: 1, maxLength: 6 }), (requests) => {
        for (const contents of requests) {
          const withMemo = applyGuardrails('openai-chat', chat(...contents.map(fresh)), remembering);
          const scanned = applyGuardrails('openai-chat', chat(...contents), { ...g(), cleanTexts: null });
          expect(withMemo.body).toEqual(scanned.body);
          expect(withMemo.decisions).toEqual(scanned.decisions);
          expect(withMemo.findings).toEqual(scanned.findings);
          expect(withMemo.blocked?.message).toEqual(scanned.blocked?.message);
        }
      }),
      { numRuns: 200 },
    );
    expect(remembering.cleanTexts!.chars).toBeGreaterThan(0);
  });
});
