import { describe, expect, it } from 'vitest';
import { GatewayError } from '../../../src/core/gateway-error.js';
import { convertToMistralDialect, defaultMaxOutputTokens, translateRequest } from '../../../src/core/translate/index.js';
import { CTX } from './stream-assembly.js';

const toAnthropic = (body: Record<string, unknown>) => translateRequest('openai-chat', 'anthropic-messages', body, CTX);
const toOpenAi = (body: Record<string, unknown>) => translateRequest('anthropic-messages', 'openai-chat', body, { ...CTX, targetKind: 'openai' });
const toMistral = (body: Record<string, unknown>) => translateRequest('anthropic-messages', 'openai-chat', body, { ...CTX, targetKind: 'mistral' });

function unsupportedMessage(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    expect(e).toBeInstanceOf(GatewayError);
    expect((e as GatewayError).code).toBe('unsupported_field');
    return (e as GatewayError).message;
  }
  throw new Error('expected an unsupported_field error');
}

const weatherTool = { type: 'function', function: { name: 'get_weather', description: 'Weather', parameters: { type: 'object', properties: { location: { type: 'string' } } } } };

describe('OpenAI chat request → Anthropic messages', () => {
  it('moves system and developer messages into system and sets the upstream model', () => {
    const { body } = toAnthropic({
      model: 'gpt-4o',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'developer', content: [{ type: 'text', text: 'Use metric.' }] },
        { role: 'user', content: 'Hi' },
      ],
    });
    expect(body.model).toBe('upstream-model');
    expect(body.system).toEqual([{ type: 'text', text: 'Be brief.' }, { type: 'text', text: 'Use metric.' }]);
    expect(body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'Hi' }] }]);
  });

  it('defaults max_tokens from the model output limit and prefers max_completion_tokens', () => {
    expect(toAnthropic({ messages: [{ role: 'user', content: 'x' }] }).body.max_tokens).toBe(defaultMaxOutputTokens('upstream-model'));
    expect(toAnthropic({ messages: [], max_tokens: 10, max_completion_tokens: 20 }).body.max_tokens).toBe(20);
    expect(defaultMaxOutputTokens('claude-sonnet-4-5-20250929')).toBe(64_000);
    // Remembered per name, the first matching pattern still decides, case-insensitively.
    for (let i = 0; i < 2; i++) {
      expect(defaultMaxOutputTokens('Claude-Opus-4-1')).toBe(32_000);
      expect(defaultMaxOutputTokens('claude-opus-4-5')).toBe(64_000);
      expect(defaultMaxOutputTokens('claude-3-5-haiku-latest')).toBe(8_192);
      expect(defaultMaxOutputTokens('gpt-4o')).toBe(4_096);
    }
    expect(defaultMaxOutputTokens('claude-opus-4-1-20250805')).toBe(32_000);
    expect(defaultMaxOutputTokens('claude-3-5-haiku-latest')).toBe(8_192);
  });

  it('merges consecutive same-role messages and puts tool results in a user turn, results first', () => {
    const { body } = toAnthropic({
      messages: [
        { role: 'user', content: 'one' },
        { role: 'user', content: 'two' },
        { role: 'assistant', content: 'calling', tool_calls: [
          { id: 'call_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } },
          { id: 'call_2', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Tokyo"}' } },
        ] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sunny' },
        { role: 'tool', tool_call_id: 'call_2', content: [{ type: 'text', text: 'rain' }] },
        { role: 'user', content: 'thanks' },
      ],
      tools: [weatherTool],
    });
    expect(body.messages).toEqual([
      { role: 'user', content: [{ type: 'text', text: 'one' }, { type: 'text', text: 'two' }] },
      { role: 'assistant', content: [
        { type: 'text', text: 'calling' },
        { type: 'tool_use', id: 'call_1', name: 'get_weather', input: { location: 'Paris' } },
        { type: 'tool_use', id: 'call_2', name: 'get_weather', input: { location: 'Tokyo' } },
      ] },
      { role: 'user', content: [
        { type: 'tool_result', tool_use_id: 'call_1', content: 'sunny' },
        { type: 'tool_result', tool_use_id: 'call_2', content: 'rain' },
        { type: 'text', text: 'thanks' },
      ] },
    ]);
    expect(body.tools).toEqual([{ name: 'get_weather', description: 'Weather', input_schema: weatherTool.function.parameters }]);
  });

  it('converts image URLs and base64 data URLs to image sources', () => {
    const { body } = toAnthropic({ messages: [{ role: 'user', content: [
      { type: 'text', text: 'what is this' },
      { type: 'image_url', image_url: { url: 'https://example.com/a.png', detail: 'high' } },
      { type: 'image_url', image_url: { url: 'data:image/jpeg;base64,/9j/4AAQ' } },
    ] }] });
    expect((body.messages as any[])[0].content.slice(1)).toEqual([
      { type: 'image', source: { type: 'url', url: 'https://example.com/a.png' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/jpeg', data: '/9j/4AAQ' } },
    ]);
    expect(unsupportedMessage(() => toAnthropic({ messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'data:image/bmp;base64,AA' } }] }] }))).toMatch(/image type image\/bmp/);
  });

  it('maps tool_choice variants and parallel_tool_calls', () => {
    const tc = (tool_choice: unknown, extra: Record<string, unknown> = {}) => toAnthropic({ messages: [], tools: [weatherTool], tool_choice, ...extra }).body.tool_choice;
    expect(tc('auto')).toEqual({ type: 'auto' });
    expect(tc('required')).toEqual({ type: 'any' });
    expect(tc('none')).toEqual({ type: 'none' });
    expect(tc({ type: 'function', function: { name: 'get_weather' } })).toEqual({ type: 'tool', name: 'get_weather' });
    expect(tc(undefined, { parallel_tool_calls: false })).toEqual({ type: 'auto', disable_parallel_tool_use: true });
    expect(tc('required', { parallel_tool_calls: false })).toEqual({ type: 'any', disable_parallel_tool_use: true });
  });

  it('carries stop, temperature (clamped to 1), top_p, stream and user', () => {
    const r = toAnthropic({ messages: [], stop: 'END', temperature: 1.5, top_p: 0.9, stream: true, stream_options: { include_usage: true }, user: 'u1' });
    expect(r.body).toMatchObject({ stop_sequences: ['END'], temperature: 1, top_p: 0.9, stream: true, metadata: { user_id: 'u1' } });
    expect(r.body.stream_options).toBeUndefined();
    expect(r.includeUsage).toBe(true);
    expect(r.warnings.some((w) => w.includes('temperature'))).toBe(true);
  });

  it('refuses what cannot be carried, naming the field', () => {
    expect(unsupportedMessage(() => toAnthropic({ messages: [], n: 2 }))).toMatch(/field n /);
    expect(unsupportedMessage(() => toAnthropic({ messages: [], logit_bias: { '50256': -100 } }))).toMatch(/logit_bias/);
    expect(unsupportedMessage(() => toAnthropic({ messages: [], logprobs: true }))).toMatch(/logprobs/);
    expect(unsupportedMessage(() => toAnthropic({ messages: [], response_format: { type: 'json_schema', json_schema: {} } }))).toMatch(/json_schema/);
    expect(unsupportedMessage(() => toAnthropic({ messages: [{ role: 'user', content: [{ type: 'input_audio', input_audio: {} }] }] }))).toMatch(/input_audio/);
    expect(unsupportedMessage(() => toAnthropic({ messages: [], tools: [{ type: 'custom', custom: { name: 'x' } }] }))).toMatch(/tools\[0\]\.type=custom/);
  });

  it('warns about harmless drops', () => {
    const r = toAnthropic({ messages: [], seed: 1, store: true, presence_penalty: 0.5, response_format: { type: 'json_object' } });
    expect(r.warnings.join('\n')).toMatch(/seed[\s\S]*store[\s\S]*presence_penalty[\s\S]*json_object/);
  });
});

describe('Anthropic messages request → OpenAI chat', () => {
  it('turns tool_result blocks into tool messages ahead of the user text', () => {
    const { body, warnings } = toOpenAi({
      model: 'claude-x',
      max_tokens: 100,
      system: [{ type: 'text', text: 'sys', cache_control: { type: 'ephemeral' } }],
      messages: [
        { role: 'user', content: 'weather?' },
        { role: 'assistant', content: [
          { type: 'thinking', thinking: 'hmm', signature: 'sig' },
          { type: 'text', text: 'calling' },
          { type: 'tool_use', id: 'toolu_1', name: 'get_weather', input: { location: 'Paris' } },
        ] },
        { role: 'user', content: [
          { type: 'tool_result', tool_use_id: 'toolu_1', content: [{ type: 'text', text: 'sunny' }], is_error: true },
          { type: 'text', text: 'and?' },
        ] },
      ],
      stream: true,
    });
    expect(body).toMatchObject({ model: 'upstream-model', max_completion_tokens: 100, stream: true, stream_options: { include_usage: true } });
    expect(body.messages).toEqual([
      { role: 'system', content: 'sys' },
      { role: 'user', content: 'weather?' },
      { role: 'assistant', content: 'calling', tool_calls: [{ id: 'toolu_1', type: 'function', function: { name: 'get_weather', arguments: '{"location":"Paris"}' } }] },
      { role: 'tool', tool_call_id: 'toolu_1', content: 'sunny' },
      { role: 'user', content: 'and?' },
    ]);
    expect(warnings.join('\n')).toMatch(/thinking/);
    expect(warnings.join('\n')).toMatch(/is_error/);
    expect(warnings.join('\n')).toMatch(/cache_control/);
  });

  it('converts images both ways of sourcing and moves tool-result images into the user message', () => {
    const { body } = toOpenAi({ max_tokens: 5, messages: [{ role: 'user', content: [
      { type: 'tool_result', tool_use_id: 't1', content: [{ type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBOR' } }] },
      { type: 'image', source: { type: 'url', url: 'https://example.com/x.jpg' } },
    ] }] });
    expect(body.messages).toEqual([
      { role: 'tool', tool_call_id: 't1', content: '' },
      { role: 'user', content: [
        { type: 'image_url', image_url: { url: 'data:image/png;base64,iVBOR' } },
        { type: 'image_url', image_url: { url: 'https://example.com/x.jpg' } },
      ] },
    ]);
  });

  it('maps tool definitions and tool_choice, including disable_parallel_tool_use', () => {
    const tools = [{ name: 'get_weather', description: 'W', input_schema: { type: 'object', properties: {} } }];
    const tc = (tool_choice: unknown) => toOpenAi({ max_tokens: 5, messages: [], tools, tool_choice }).body;
    expect(tc({ type: 'auto' }).tool_choice).toBe('auto');
    expect(tc({ type: 'any' }).tool_choice).toBe('required');
    expect(tc({ type: 'none' }).tool_choice).toBe('none');
    expect(tc({ type: 'tool', name: 'get_weather', disable_parallel_tool_use: true })).toMatchObject({
      tool_choice: { type: 'function', function: { name: 'get_weather' } },
      parallel_tool_calls: false,
      tools: [{ type: 'function', function: { name: 'get_weather', description: 'W', parameters: { type: 'object', properties: {} } } }],
    });
  });

  it('refuses server tools and documents, and more than 4 stop sequences for OpenAI', () => {
    expect(unsupportedMessage(() => toOpenAi({ max_tokens: 5, messages: [], tools: [{ type: 'web_search_20250305', name: 'web_search' }] }))).toMatch(/OpenAI model/);
    expect(unsupportedMessage(() => toOpenAi({ max_tokens: 5, messages: [{ role: 'user', content: [{ type: 'document', source: {} }] }] }))).toMatch(/document/);
    expect(unsupportedMessage(() => toOpenAi({ max_tokens: 5, messages: [], stop_sequences: ['a', 'b', 'c', 'd', 'e'] }))).toMatch(/stop_sequences/);
    expect(toMistral({ max_tokens: 5, messages: [], stop_sequences: ['a', 'b', 'c', 'd', 'e'] }).body.stop).toHaveLength(5);
  });

  it('applies the Mistral dialect for a mistral target', () => {
    const { body } = toMistral({
      max_tokens: 50,
      stream: true,
      metadata: { user_id: 'u' },
      messages: [
        { role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01A09q90qw90lq917835lq9', name: 'f', input: {} }] },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01A09q90qw90lq917835lq9', content: 'ok' }] },
      ],
    });
    expect(body.max_tokens).toBe(50);
    expect(body.max_completion_tokens).toBeUndefined();
    expect(body.stream_options).toBeUndefined();
    expect(body.user).toBeUndefined();
    const msgs = body.messages as any[];
    expect(msgs[0].tool_calls[0].id).toMatch(/^[a-zA-Z0-9]{9}$/);
    expect(msgs[1].tool_call_id).toBe(msgs[0].tool_calls[0].id);
  });
});

describe('Mistral dialect of an OpenAI chat request', () => {
  const request = {
    model: 'mistral-large-latest',
    seed: 42,
    max_completion_tokens: 99,
    stream: true,
    stream_options: { include_usage: true },
    tool_choice: 'required',
    user: 'someone',
    store: false,
    parallel_tool_calls: false,
    tools: [weatherTool],
    messages: [
      { role: 'developer', content: 'dev' },
      { role: 'user', content: 'q', name: 'bob' },
      { role: 'assistant', content: null, refusal: null, tool_calls: [
        { id: 'call_Xy12', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
        { id: 'D681PevKs', type: 'function', function: { name: 'get_weather', arguments: '{}' } },
      ] },
      { role: 'tool', tool_call_id: 'call_Xy12', content: 'a' },
      { role: 'tool', tool_call_id: 'D681PevKs', content: 'b' },
    ],
  };

  it('renames, drops and rewrites what Mistral names differently or rejects', () => {
    const { body, warnings } = convertToMistralDialect(request);
    expect(body).toMatchObject({ random_seed: 42, max_tokens: 99, tool_choice: 'any', parallel_tool_calls: false, stream: true });
    for (const k of ['seed', 'max_completion_tokens', 'stream_options', 'user', 'store']) expect(body).not.toHaveProperty(k);
    expect(warnings.join('\n')).toMatch(/user[\s\S]*store/);
    const msgs = body.messages as any[];
    expect(msgs[0]).toEqual({ role: 'system', content: 'dev' });
    expect(msgs[1]).toEqual({ role: 'user', content: 'q' });
    expect(msgs[2].tool_calls[0].id).toMatch(/^[a-zA-Z0-9]{9}$/);
    expect(msgs[2].tool_calls[1].id).toBe('D681PevKs');
    expect(msgs[3].tool_call_id).toBe(msgs[2].tool_calls[0].id);
    expect(msgs[4].tool_call_id).toBe('D681PevKs');
  });

  it('maps tool-call ids the same way in every request of a conversation', () => {
    const a = convertToMistralDialect(request).body.messages as any[];
    const b = convertToMistralDialect({ ...request, messages: request.messages.slice(2) }).body.messages as any[];
    expect(b[0].tool_calls[0].id).toBe(a[2].tool_calls[0].id);
  });

  it('is idempotent', () => {
    const once = convertToMistralDialect(request).body;
    expect(convertToMistralDialect(once)).toEqual({ body: once, warnings: [] });
  });

  it('refuses logit_bias, logprobs and non-text modalities', () => {
    expect(unsupportedMessage(() => convertToMistralDialect({ messages: [], logit_bias: { '1': 2 } }))).toMatch(/logit_bias.*Mistral/);
    expect(unsupportedMessage(() => convertToMistralDialect({ messages: [], logprobs: true }))).toMatch(/logprobs/);
    expect(unsupportedMessage(() => convertToMistralDialect({ messages: [], modalities: ['text', 'audio'] }))).toMatch(/modalities/);
  });
});
