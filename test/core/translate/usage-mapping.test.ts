import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { usageFromBody, usageFromRawJson } from '../../../src/core/proxy/usage.js';
import { readCompactOpenAiUsage } from '../../../src/core/translate/usage-mapping.js';

describe('compact OpenAI usage, read without JSON.parse', () => {
  const chunk = (usage: unknown): string =>
    JSON.stringify({ id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1-mini', choices: [], usage });

  it('reads the usage chunk OpenAI streams, with and without cached-token details', () => {
    const full = { prompt_tokens: 9, completion_tokens: 11, total_tokens: 20, prompt_tokens_details: { cached_tokens: 3, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 0 } };
    expect(readCompactOpenAiUsage(chunk(full))).toEqual({ inputTokens: 9, outputTokens: 11, cachedInputTokens: 3, cacheWriteTokens: null });
    expect(readCompactOpenAiUsage(chunk({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6 }))).toEqual({ inputTokens: 5, outputTokens: 1, cachedInputTokens: null, cacheWriteTokens: null });
    expect(readCompactOpenAiUsage(chunk({ prompt_tokens: 5, completion_tokens: 1, total_tokens: 6, prompt_tokens_details: { audio_tokens: 2, cached_tokens: 4 } }))?.cachedInputTokens).toBe(4);
  });

  it('leaves other layouts to the general reader', () => {
    expect(readCompactOpenAiUsage(JSON.stringify({ usage: { prompt_tokens: 1, completion_tokens: 2, total_tokens: 3 } }, null, 1))).toBeNull();
    expect(readCompactOpenAiUsage(chunk({ total_tokens: 3, prompt_tokens: 1, completion_tokens: 2 }))).toBeNull();
    expect(readCompactOpenAiUsage(chunk({ prompt_tokens: 1, completion_tokens: 2, total_tokens: 3, prompt_tokens_details: { audio_tokens: 0 } }))).toBeNull();
    expect(readCompactOpenAiUsage(chunk({ prompt_tokens: 1.5, completion_tokens: 2, total_tokens: 3 }))).toBeNull();
    expect(readCompactOpenAiUsage(chunk(null))).toBeNull();
  });

  it('never disagrees with the general reader (property)', () => {
    const count = fc.oneof(fc.nat({ max: 10 ** 7 }), fc.constantFrom(0, 1.5, -1, 1e20, null, '3'));
    const details = fc.oneof(
      fc.constant(undefined),
      fc.dictionary(fc.constantFrom('cached_tokens', 'audio_tokens', 'text_tokens', 'image_tokens'), count, { maxKeys: 4 }),
      fc.record({ cached_tokens: count, nested: fc.record({ cached_tokens: count }) }, { requiredKeys: [] }),
    );
    const usage = fc
      .tuple(
        fc.record({ prompt_tokens: count, completion_tokens: count, total_tokens: count }, { requiredKeys: [] }),
        details,
        fc.option(fc.record({ reasoning_tokens: count, cached_tokens: count }, { requiredKeys: [] }), { nil: undefined }),
        fc.constantFrom('as-openai', 'reversed', 'completion-details-first'),
      )
      .map(([counts, prompt, completion, order]) => {
        const head = Object.entries(counts);
        const details: [string, unknown][] = [];
        if (prompt !== undefined) details.push(['prompt_tokens_details', prompt]);
        if (completion !== undefined) details.push(['completion_tokens_details', completion]);
        if (order === 'reversed') return Object.fromEntries([...head, ...details].reverse());
        if (order === 'completion-details-first') details.reverse();
        return Object.fromEntries([...head, ...details]);
      });
    fc.assert(
      fc.property(usage, fc.boolean(), (u, spaced) => {
        const text = spaced ? JSON.stringify({ choices: [], usage: u }, null, 1) : chunk(u);
        const quick = readCompactOpenAiUsage(text);
        if (quick !== null) expect(quick).toEqual(usageFromBody('openai-chat', JSON.parse(text)));
        expect(usageFromRawJson('openai-chat', text)).toEqual(usageFromRawJson('openai-chat', Buffer.from(text)));
      }),
      { numRuns: 2000 },
    );
    // The form OpenAI sends is always read by the quick path.
    fc.assert(
      fc.property(fc.nat(), fc.nat(), fc.option(fc.nat(), { nil: undefined }), (p, c, cached) => {
        const u = { prompt_tokens: p, completion_tokens: c, total_tokens: p + c, ...(cached === undefined ? {} : { prompt_tokens_details: { cached_tokens: cached, audio_tokens: 0 } }) };
        expect(readCompactOpenAiUsage(chunk(u))).toEqual({ inputTokens: p, outputTokens: c, cachedInputTokens: cached ?? null, cacheWriteTokens: null });
      }),
    );
  });
});
