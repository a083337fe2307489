import { describe, expect, it } from 'vitest';
import { applyGuardrails, compileGuardrails, compileModelAllowList, estimateTokensFromChars, isModelAllowed, matchesModelGlob } from '../../../src/core/policy/index.js';

describe('model globs', () => {
  it('a pattern without * matches only the exact model', () => {
    expect(matchesModelGlob('gpt-4o', 'gpt-4o')).toBe(true);
    expect(matchesModelGlob('gpt-4o', 'gpt-4o-mini')).toBe(false);
  });
  it('* matches any run of characters, including none', () => {
    expect(matchesModelGlob('gpt-4o*', 'gpt-4o')).toBe(true);
    expect(matchesModelGlob('gpt-4o*', 'gpt-4o-mini-2024-07-18')).toBe(true);
    expect(matchesModelGlob('claude-*-4-5*', 'claude-sonnet-4-5-20250929')).toBe(true);
    expect(matchesModelGlob('*-mini', 'o4-mini')).toBe(true);
  });
  it('matching is case-sensitive and whole-string', () => {
    expect(matchesModelGlob('GPT-4o', 'gpt-4o')).toBe(false);
    expect(matchesModelGlob('4o', 'gpt-4o')).toBe(false);
  });
  it('regex characters in a pattern are literal', () => {
    expect(matchesModelGlob('gpt-4.1', 'gpt-4x1')).toBe(false);
    expect(matchesModelGlob('gpt-4.1', 'gpt-4.1')).toBe(true);
    expect(matchesModelGlob('a+(b)', 'a+(b)')).toBe(true);
  });
  it('an absent or empty allow-list allows every model', () => {
    expect(isModelAllowed(undefined, 'anything')).toBe(true);
    expect(isModelAllowed([], 'anything')).toBe(true);
  });
  it('a model is allowed when any pattern matches', () => {
    const allowed = compileModelAllowList(['gpt-4.1*', 'claude-haiku-*']);
    expect(allowed('gpt-4.1-mini')).toBe(true);
    expect(allowed('claude-haiku-4-5')).toBe(true);
    expect(allowed('claude-opus-4-1')).toBe(false);
  });
});

describe('input token estimate', () => {
  it('counts scanned text at about four characters per token, images excluded', () => {
    const body = {
      messages: [
        { role: 'system', content: 'x'.repeat(40) },
        { role: 'user', content: [{ type: 'text', text: 'y'.repeat(41) }, { type: 'image_url', image_url: { url: 'data:image/png;base64,' + 'A'.repeat(1000) } }] },
      ],
    };
    const scanned = applyGuardrails('openai-chat', body, compileGuardrails({ pii: 'off', secrets: 'off' })).inputChars;
    expect(estimateTokensFromChars(scanned)).toBe(21);
  });
});
