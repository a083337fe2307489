import { describe, expect, it } from 'vitest';
import { estimateInputTokens } from '../../../src/core/translate/index.js';
import { IMAGE_TOKEN_ESTIMATE } from '../../../src/core/translate/token-estimate.js';

describe('estimateInputTokens', () => {
  it('counts ~4 characters per token over system, messages, tool calls, tool results and tool schemas', () => {
    const base = estimateInputTokens('anthropic-messages', { messages: [{ role: 'user', content: 'x'.repeat(400) }] });
    expect(base).toBeGreaterThanOrEqual(100);
    expect(base).toBeLessThan(110);
    const more = estimateInputTokens('anthropic-messages', {
      system: 'y'.repeat(400),
      tools: [{ name: 'f', input_schema: { type: 'object' } }],
      messages: [
        { role: 'user', content: 'x'.repeat(400) },
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_1', name: 'f', input: { q: 'z'.repeat(40) } }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_1', content: 'w'.repeat(400) }] },
      ],
    });
    expect(more).toBeGreaterThan(base + 200);
  });

  it('counts images with a fixed estimate instead of their base64 length', () => {
    const withImage = estimateInputTokens('openai-chat', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: `data:image/png;base64,${'A'.repeat(100_000)}` } }] }] });
    expect(withImage).toBe(IMAGE_TOKEN_ESTIMATE + 4);
  });

  it('counts exactly the text: every string except ids, roles, type tags and cache_control, over messages and system only', () => {
    const body = {
      model: 'not-counted-model-name',
      metadata: { user_id: 'not counted either' },
      system: [{ type: 'text', text: 'sys!', cache_control: { type: 'ephemeral' } }], // 4
      messages: [
        { role: 'user', content: 'abcdefgh' }, // 8
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_123456', name: 'read', input: { path: '/a/b', depth: 3, deep: [null, 'xy'] } }] }, // read 4 + /a/b 4 + xy 2
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_123456', content: [{ type: 'text', text: '0123456789' }] }] }, // 10
        { role: 'tool', tool_call_id: 'call_abcdef', content: 'z' }, // 1
        { role: 'user', content: [{ type: 'image', source: { type: 'base64', data: 'A'.repeat(5000) } }, { type: 'input_image', image_url: 'x' }] },
      ],
    };
    // 4 + 8 + 10 + 10 + 1 = 33 characters → 9 tokens; two images; five messages.
    expect(estimateInputTokens('anthropic-messages', body)).toBe(9 + 2 * IMAGE_TOKEN_ESTIMATE + 5 * 4);
    // Tool schemas count as their JSON text.
    const tools = [{ name: 'f', input_schema: { type: 'object' } }];
    expect(estimateInputTokens('anthropic-messages', { ...body, tools })).toBe(Math.ceil((33 + JSON.stringify(tools).length) / 4) + 2 * IMAGE_TOKEN_ESTIMATE + 5 * 4);
    expect(estimateInputTokens('openai-chat', { messages: 'not an array', system: 42 })).toBe(0);
  });
});
