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
});
