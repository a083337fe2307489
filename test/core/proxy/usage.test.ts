import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { readCompactOpenAiUsage, usageFromBody, usageFromRawJson } from '../../../src/core/proxy/usage.js';

const openai = {
  id: 'chatcmpl-1',
  object: 'chat.completion',
  choices: [{ index: 0, message: { role: 'assistant', content: 'the word "usage": {"prompt_tokens": 999} appears in text' }, finish_reason: 'stop' }],
  usage: { prompt_tokens: 12, completion_tokens: 7, total_tokens: 19, prompt_tokens_details: { cached_tokens: 4 } },
  system_fingerprint: 'fp',
};
const anthropic = {
  id: 'msg_1',
  type: 'message',
  content: [{ type: 'tool_use', id: 'toolu_1', name: 'stats', input: { usage: { input_tokens: 555 } } }],
  stop_reason: 'tool_use',
  usage: { input_tokens: 10, output_tokens: 3, cache_read_input_tokens: 20, cache_creation_input_tokens: 5 },
};

// The same checks on the body as text (the stream tap) and as bytes (the JSON passthrough).
describe.each([
  ['text', (s: string): string | Buffer => s],
  ['bytes', (s: string): string | Buffer => Buffer.from(s)],
])('usage read from a passed-through JSON body, given as %s', (_form, as) => {
  it('finds OpenAI usage even when the content quotes a usage object', () => {
    const text = JSON.stringify(openai);
    expect(usageFromRawJson('openai-chat', as(text))).toEqual({ inputTokens: 12, outputTokens: 7, cachedInputTokens: 4, cacheWriteTokens: null });
  });

  it('normalises Anthropic usage: input counts cache reads and writes', () => {
    const text = JSON.stringify(anthropic, null, 2);
    expect(usageFromRawJson('anthropic', as(text))).toEqual({ inputTokens: 35, outputTokens: 3, cachedInputTokens: 20, cacheWriteTokens: 5 });
  });

  it('agrees with a full parse', () => {
    for (const [shape, body] of [['openai-chat', openai], ['anthropic', anthropic]] as const) {
      expect(usageFromRawJson(shape, as(JSON.stringify(body)))).toEqual(usageFromBody(shape, body));
    }
  });

  it('falls back to the whole body when the last "usage" is not the top-level one', () => {
    const odd = JSON.stringify({ usage: { prompt_tokens: 1, completion_tokens: 2 }, choices: [{ message: { tool_calls: [] } }], meta: { usage: { note: 'x' } } });
    expect(usageFromRawJson('openai-chat', as(odd))).toEqual({ inputTokens: 1, outputTokens: 2, cachedInputTokens: null, cacheWriteTokens: null });
  });

  it('returns null for a body without usage or that is not JSON', () => {
    expect(usageFromRawJson('openai-chat', as('{"data":[]}'))).toBeNull();
    expect(usageFromRawJson('openai-chat', as('not json'))).toBeNull();
  });
});

describe('usage read from bytes', () => {
  it('reads usage after multi-byte text without decoding the body before it', () => {
    const body = { ...openai, choices: [{ index: 0, message: { role: 'assistant', content: 'héllo wörld — 日本語 🎉'.repeat(50) }, finish_reason: 'stop' }] };
    expect(usageFromRawJson('openai-chat', Buffer.from(JSON.stringify(body)))).toEqual({ inputTokens: 12, outputTokens: 7, cachedInputTokens: 4, cacheWriteTokens: null });
  });
});

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
