import { describe, expect, it } from 'vitest';
import { translateResponse } from '../../../src/core/translate/index.js';
import { CTX, readFixtureJson } from './stream-assembly.js';

describe('Anthropic response → OpenAI chat completion', () => {
  it('carries text and parallel tool calls, drops thinking with a warning, maps finish and usage', () => {
    const warnings: string[] = [];
    const out = translateResponse('anthropic-messages', 'openai-chat', readFixtureJson('anthropic-message-tool-use.json'), CTX, warnings);
    expect(out).toEqual({
      id: 'msg_01Aq9w938a90dw8q',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: 'client-model',
      choices: [{
        index: 0,
        message: {
          role: 'assistant',
          content: "I'll check both cities.",
          refusal: null,
          tool_calls: [
            { id: 'toolu_01A09q90qw90lq917835lq9', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris, FR","unit":"celsius"}' } },
            { id: 'toolu_01B19q90qw90lq917835lq8', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Tokyo, JP"}' } },
          ],
        },
        logprobs: null,
        finish_reason: 'tool_calls',
      }],
      // prompt_tokens includes cache reads and writes: 120 + 1000 + 30.
      usage: { prompt_tokens: 1150, completion_tokens: 85, total_tokens: 1235, prompt_tokens_details: { cached_tokens: 1000 } },
    });
    expect(warnings.join()).toMatch(/thinking/);
    expect(JSON.stringify(out)).not.toContain('The user wants');
  });

  it('maps every stop reason', () => {
    const base = { id: 'm', type: 'message', role: 'assistant', content: [{ type: 'text', text: 'x' }], usage: { input_tokens: 1, output_tokens: 1 } };
    const finish = (stop_reason: string) => (translateResponse('anthropic-messages', 'openai-chat', { ...base, stop_reason }, CTX).choices as any[])[0].finish_reason;
    expect(finish('end_turn')).toBe('stop');
    expect(finish('stop_sequence')).toBe('stop');
    expect(finish('max_tokens')).toBe('length');
    expect(finish('tool_use')).toBe('tool_calls');
    expect(finish('refusal')).toBe('content_filter');
  });
});

describe('OpenAI chat completion → Anthropic message', () => {
  it('carries text and tool calls as tool_use blocks with parsed input, and splits cached tokens out of input_tokens', () => {
    const out = translateResponse('openai-chat', 'anthropic-messages', readFixtureJson('openai-chat-completion-tool-calls.json'), CTX);
    expect(out).toEqual({
      id: 'chatcmpl-B9MHDbslfkBeAs8l4bebGdFOJ6PeG',
      type: 'message',
      role: 'assistant',
      model: 'client-model',
      content: [
        { type: 'text', text: 'Checking both.' },
        { type: 'tool_use', id: 'call_abc123', name: 'get_weather', input: { location: 'Paris, FR', unit: 'celsius' } },
        { type: 'tool_use', id: 'call_def456', name: 'get_weather', input: { location: 'Tokyo, JP' } },
      ],
      stop_reason: 'tool_use',
      stop_sequence: null,
      // input_tokens excludes the cached part: 1150 - 1024.
      usage: { input_tokens: 126, cache_creation_input_tokens: 0, cache_read_input_tokens: 1024, output_tokens: 40 },
    });
  });

  it('maps finish reasons and refusals', () => {
    const resp = (message: Record<string, unknown>, finish_reason: string) => translateResponse('openai-chat', 'anthropic-messages', { id: 'c', choices: [{ index: 0, message: { role: 'assistant', ...message }, finish_reason }] }, CTX);
    expect(resp({ content: 'a' }, 'stop').stop_reason).toBe('end_turn');
    expect(resp({ content: 'a' }, 'length').stop_reason).toBe('max_tokens');
    expect(resp({ content: null, refusal: 'I cannot help.' }, 'stop')).toMatchObject({ stop_reason: 'refusal', content: [{ type: 'text', text: 'I cannot help.' }] });
  });

  it('reads Mistral chunked content and drops thinking chunks', () => {
    const warnings: string[] = [];
    const out = translateResponse('openai-chat', 'anthropic-messages', {
      id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: [{ type: 'thinking', thinking: [{ type: 'text', text: 'secret' }] }, { type: 'text', text: 'Answer' }] }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 3, completion_tokens: 2, total_tokens: 5 },
    }, CTX, warnings);
    expect(out.content).toEqual([{ type: 'text', text: 'Answer' }]);
    expect(warnings.join()).toMatch(/thinking/);
  });

  it('refuses tool arguments that are not a JSON object rather than inventing an input', () => {
    expect(() => translateResponse('openai-chat', 'anthropic-messages', {
      id: 'x', choices: [{ index: 0, message: { role: 'assistant', content: null, tool_calls: [{ id: 'c', type: 'function', function: { name: 'f', arguments: '{"a":' } }] }, finish_reason: 'tool_calls' }],
    }, CTX)).toThrow(/not a JSON object/);
  });
});
