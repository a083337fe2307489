import { describe, expect, it } from 'vitest';
import { usageFromBody, usageFromRawJson } from '../../../src/core/proxy/usage.js';

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
