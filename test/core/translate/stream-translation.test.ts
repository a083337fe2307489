import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from '../../../src/core/sse/sse-parser.js';
import { createStreamErrorEvents, createStreamTranslator, translateErrorBody } from '../../../src/core/translate/index.js';
import fc from 'fast-check';
import { isOpenAiContentChunk } from '../../../src/core/proxy/stream-tap.js';
import { createOpenAiStreamEmitter } from '../../../src/core/translate/stream-emitters.js';
import { EMPTY_USAGE } from '../../../src/shared/trace.js';
import { CTX, assembleAnthropicStream, assembleOpenAiStream, dataOf, readFixtureSse } from './stream-assembly.js';

function run(from: 'openai-chat' | 'anthropic-messages', to: 'openai-chat' | 'anthropic-messages', events: SseEvent[], extra: { includeUsage?: boolean; estimatedInputTokens?: number } = {}) {
  const t = createStreamTranslator(from, to, { ...CTX, estimatedInputTokens: extra.estimatedInputTokens ?? 777, ...(extra.includeUsage !== undefined ? { includeUsage: extra.includeUsage } : {}) });
  // The frames as the client's SDK reads them.
  const sse = events.map((ev) => t.push(ev)).join('') + t.end();
  const parser = createSseParser();
  const out = [...parser.push(sse), ...parser.end()];
  return { out, sse, translator: t };
}

describe('Anthropic stream → OpenAI chunks', () => {
  it('streams text and tool-call argument fragments, drops thinking, ends with usage and [DONE]', () => {
    const { out, translator } = run('anthropic-messages', 'openai-chat', readFixtureSse('anthropic-stream-tool-use.sse'), { includeUsage: true });
    expect(out[out.length - 1]).toEqual({ data: '[DONE]' });
    const first = dataOf(out[0]!);
    expect(first).toMatchObject({ id: 'msg_014p7gG3wDgGV9EUtLvnow3U', object: 'chat.completion.chunk', model: 'client-model', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    const toolStart = out.map((e) => e.data).find((d) => d.includes('"id":"toolu_'));
    expect(JSON.parse(toolStart!).choices[0].delta.tool_calls).toEqual([{ index: 0, id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '' } }]);
    const assembled = assembleOpenAiStream(out);
    expect(assembled.choices[0]).toEqual({
      index: 0,
      message: { role: 'assistant', content: "Okay, let's check the weather — 東京.", refusal: null, tool_calls: [{ id: 'toolu_01T1x1fJ34qAmk2tNTrN7Up6', type: 'function', function: { name: 'get_weather', arguments: '{"location": "Tokyo, JP"}' } }] },
      logprobs: null,
      finish_reason: 'tool_calls',
    });
    const usageChunk = dataOf(out[out.length - 2]!);
    expect(usageChunk.choices).toEqual([]);
    expect(usageChunk.usage).toEqual({ prompt_tokens: 2520, completion_tokens: 89, total_tokens: 2609, prompt_tokens_details: { cached_tokens: 2048 } });
    expect(JSON.stringify(out)).not.toContain('Need the weather tool');
    expect(translator.warnings().join()).toMatch(/thinking/);
    expect(translator.usage()).toEqual({ inputTokens: 2520, outputTokens: 89, cachedInputTokens: 2048, cacheWriteTokens: 0 });
  });

  it('omits the usage chunk when the client did not ask for it', () => {
    const { out } = run('anthropic-messages', 'openai-chat', readFixtureSse('anthropic-stream-tool-use.sse'));
    expect(out.some((e) => e.data !== '[DONE]' && Array.isArray(dataOf(e).choices) && (dataOf(e).choices as unknown[]).length === 0)).toBe(false);
  });

  it('turns an upstream error event into an OpenAI error chunk', () => {
    const events = readFixtureSse('anthropic-stream-tool-use.sse').slice(0, 6);
    events.push({ event: 'error', data: '{"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}' });
    const { out } = run('anthropic-messages', 'openai-chat', events);
    expect(out.slice(-2)).toEqual([{ data: JSON.stringify({ error: { message: 'Overloaded', type: 'api_error', param: null, code: 'overloaded_error' } }) }, { data: '[DONE]' }]);
  });

  it('reports a stream cut before message_stop as an error, not a clean end', () => {
    const { out } = run('anthropic-messages', 'openai-chat', readFixtureSse('anthropic-stream-tool-use.sse').slice(0, 8));
    expect(dataOf(out[out.length - 2]!).error).toMatchObject({ message: expect.stringMatching(/ended before/) });
  });
});

describe('OpenAI chunks → Anthropic stream', () => {
  it('follows the Anthropic event sequence with input_json_delta fragments for parallel tool calls', () => {
    const { out, translator } = run('openai-chat', 'anthropic-messages', readFixtureSse('openai-stream-parallel-tools.sse'));
    expect(out.map((e) => e.event)).toEqual([
      'message_start', 'ping',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_delta', 'content_block_stop',
      'content_block_start', 'content_block_delta', 'content_block_stop',
      'message_delta', 'message_stop',
    ]);
    // Templated events read exactly as serialised objects would, and name their own type.
    for (const e of out) {
      expect(JSON.stringify(JSON.parse(e.data))).toBe(e.data);
      expect(dataOf(e).type).toBe(e.event);
    }
    expect(out.filter((e) => e.event === 'content_block_stop').map((e) => e.data)).toEqual(['{"type":"content_block_stop","index":0}', '{"type":"content_block_stop","index":1}', '{"type":"content_block_stop","index":2}']);
    // No upstream input count at the start: the estimate, never 0.
    expect((dataOf(out[0]!).message as any).usage).toMatchObject({ input_tokens: 777, output_tokens: 0 });
    const fragments = out.filter((e) => e.data.includes('input_json_delta')).map((e) => (dataOf(e).delta as any).partial_json);
    expect(fragments).toEqual(['{"location":', ' "Paris, FR"}', '{"location": "Tokyo, JP"}']);
    const message = assembleAnthropicStream(out);
    expect(message).toMatchObject({
      id: 'chatcmpl-123',
      model: 'client-model',
      content: [
        { type: 'text', text: 'Checking.' },
        { type: 'tool_use', id: 'call_abc123', name: 'get_weather', input: { location: 'Paris, FR' } },
        { type: 'tool_use', id: 'call_def456', name: 'get_weather', input: { location: 'Tokyo, JP' } },
      ],
      stop_reason: 'tool_use',
      usage: { input_tokens: 126, cache_read_input_tokens: 1024, cache_creation_input_tokens: 0, output_tokens: 40 },
    });
    expect(translator.usage()).toEqual({ inputTokens: 1150, outputTokens: 40, cachedInputTokens: 1024, cacheWriteTokens: null });
  });

  it('splits Mistral parallel calls sent whole with the same index into separate tool_use blocks', () => {
    const { out } = run('openai-chat', 'anthropic-messages', readFixtureSse('mistral-stream-tool-calls.sse'));
    const message = assembleAnthropicStream(out);
    expect(message.content).toEqual([
      { type: 'tool_use', id: 'D681PevKs', name: 'get_weather', input: { location: 'Paris, FR' } },
      { type: 'tool_use', id: 'x7Yq2LmNp', name: 'get_weather', input: { location: 'Tokyo, JP' } },
    ]);
    expect(message.usage).toMatchObject({ input_tokens: 90, output_tokens: 40 });
  });

  it('turns a malformed chunk and an OpenAI error chunk into Anthropic error events', () => {
    const bad = run('openai-chat', 'anthropic-messages', [{ data: '{"id":"x","choices":[' }]).out;
    expect(bad.map((e) => e.event)).toEqual(['error']);
    const err = run('openai-chat', 'anthropic-messages', [{ data: '{"error":{"message":"Rate limit","type":"requests","code":"rate_limit_exceeded"}}' }]).out;
    expect(dataOf(err[0]!)).toEqual({ type: 'error', error: { type: 'rate_limit_error', message: 'Rate limit' } });
  });
});

describe('OpenAI stream emitter', () => {
  it('spells each chunk exactly as JSON.stringify writes the chunk object, whatever the id, model and text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), fc.string({ unit: 'binary' }), fc.array(fc.string({ unit: 'binary' }), { maxLength: 4 }), (id, model, texts) => {
        const emitter = createOpenAiStreamEmitter({ model, created: 1_700_000_000, includeUsage: false });
        const chunk = (delta: object, finish: string | null) =>
          `data: ${JSON.stringify({ id, object: 'chat.completion.chunk', created: 1_700_000_000, model, choices: [{ index: 0, delta, logprobs: null, finish_reason: finish }] })}\n\n`;
        expect(emitter.emit({ type: 'start', id, usage: { ...EMPTY_USAGE } })).toBe(chunk({ role: 'assistant', content: '' }, null));
        for (const text of texts) expect(emitter.emit({ type: 'text-delta', text })).toBe(chunk({ content: text }, null));
        expect(emitter.emit({ type: 'finish', reason: 'length', stopSequence: null })).toBe(chunk({}, 'length'));
      }),
    );
  });
});

describe('first token of a translated stream', () => {
  // The relay records time to first token when the translator first reports content: it must be
  // the first frame the client format's passthrough tap would count (OpenAI: content or tool
  // calls; Anthropic: a content_block_delta), never the preamble.
  const openAiChunk = (delta: object, finish: string | null = null): SseEvent => ({
    data: JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', created: 1, model: 'm', choices: [{ index: 0, delta, finish_reason: finish }] }),
  });
  const toolCallFirst: SseEvent[] = [
    openAiChunk({ role: 'assistant', content: null, tool_calls: [{ index: 0, id: 'call_1', type: 'function', function: { name: 'f', arguments: '' } }] }),
    openAiChunk({ tool_calls: [{ index: 0, function: { arguments: '{"a":1}' } }] }),
    openAiChunk({}, 'tool_calls'),
    { data: '[DONE]' },
  ];
  const isAnthropicContent = (ev: SseEvent): boolean => ev.event === 'content_block_delta';
  const cases = [
    { from: 'anthropic-messages', to: 'openai-chat', events: readFixtureSse('anthropic-stream-tool-use.sse'), isContent: (ev: SseEvent) => isOpenAiContentChunk(ev.data) },
    { from: 'openai-chat', to: 'anthropic-messages', events: readFixtureSse('openai-stream-parallel-tools.sse'), isContent: isAnthropicContent },
    // A tool call before any text: the Anthropic client's content_block_start is not yet content.
    { from: 'openai-chat', to: 'anthropic-messages', events: toolCallFirst, isContent: isAnthropicContent },
  ] as const;
  for (const c of cases) {
    it(`${c.from} upstream → ${c.to} client (${c.events.length} events): reported with the push whose frames carry the first content`, () => {
      const t = createStreamTranslator(c.from, c.to, { ...CTX, estimatedInputTokens: 1 });
      const parser = createSseParser();
      let contentSoFar = false;
      let flips = 0;
      for (const ev of c.events) {
        const before = t.sawContent;
        contentSoFar ||= parser.push(t.push(ev)).some(c.isContent);
        expect(t.sawContent).toBe(contentSoFar);
        if (!before && t.sawContent) flips++;
      }
      expect(flips).toBe(1);
    });
  }
});

describe('stream error events and error bodies', () => {
  it('renders a mid-stream failure in each client format', () => {
    expect(createStreamErrorEvents('anthropic-messages', { type: 'api_error', message: 'boom' })).toEqual([{ event: 'error', data: '{"type":"error","error":{"type":"api_error","message":"boom"}}' }]);
    const openai = createStreamErrorEvents('openai-chat', { type: 'api_error', message: 'boom' });
    expect(JSON.parse(openai[0]!.data)).toEqual({ error: { message: 'boom', type: 'api_error', param: null, code: 'api_error' } });
    expect(openai[1]).toEqual({ data: '[DONE]' });
  });

  it('translates error bodies both ways', () => {
    expect(translateErrorBody('anthropic-messages', 'openai-chat', 529, { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }))
      .toEqual({ error: { message: 'Overloaded', type: 'api_error', param: null, code: 'overloaded_error' } });
    expect(translateErrorBody('anthropic-messages', 'openai-chat', 429, { type: 'error', error: { type: 'rate_limit_error', message: 'slow down' } }))
      .toEqual({ error: { message: 'slow down', type: 'rate_limit_error', param: null, code: 'rate_limit_error' } });
    expect(translateErrorBody('openai-chat', 'anthropic-messages', 401, { error: { message: 'Incorrect API key', type: 'invalid_request_error', param: null, code: 'invalid_api_key' } }))
      .toEqual({ type: 'error', error: { type: 'authentication_error', message: 'Incorrect API key' } });
    // Mistral's validation errors.
    expect(translateErrorBody('openai-chat', 'anthropic-messages', 422, { object: 'error', message: 'Extra inputs are not permitted', type: 'invalid_request_error' }))
      .toEqual({ type: 'error', error: { type: 'invalid_request_error', message: 'Extra inputs are not permitted' } });
    expect(translateErrorBody('openai-chat', 'anthropic-messages', 502, 'Bad Gateway')).toEqual({ type: 'error', error: { type: 'api_error', message: 'Bad Gateway' } });
  });
});
