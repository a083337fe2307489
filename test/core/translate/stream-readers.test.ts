import fc from 'fast-check';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createAnthropicStreamReader, createOpenAiStreamReader, plainContentText, readRoleChunkId, readUsageChunk } from '../../../src/core/translate/stream-readers.js';
import { mapOpenAiUsage } from '../../../src/core/translate/usage-mapping.js';

const envelope = { id: 'chatcmpl-1', object: 'chat.completion.chunk', created: 1795784763, model: 'gpt-4o-mini', service_tier: 'default', system_fingerprint: 'fp_1' };
const contentChunk = (content: string, extra: Record<string, unknown> = {}): Record<string, unknown> => ({
  ...envelope,
  choices: [{ index: 0, delta: { content }, logprobs: null, finish_reason: null }],
  usage: null,
  ...extra,
});

function partsOf(datas: string[]) {
  const reader = createOpenAiStreamReader();
  return datas.flatMap((data) => reader.push({ data }));
}

describe('OpenAI stream reader, plain content chunks', () => {
  it('reads a compact content chunk to exactly the text JSON.parse gives, whatever the text', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'binary' }), (text) => {
        expect(plainContentText(JSON.stringify(contentChunk(text)))).toBe(text);
      }),
    );
  });

  it('yields the same parts from the quick read as from the full parse of the same chunks', () => {
    const start = JSON.stringify({ ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }] });
    const finish = (reason: string) => ({ ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: reason }], usage: null });
    const reasons = fc.constantFrom('stop', 'length', 'tool_calls', 'content_filter', 'function_call', 'something_new');
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 8 }), fc.array(reasons, { maxLength: 2 }), (texts, finishes) => {
        const chunks = [...texts.map((t) => contentChunk(t)), ...finishes.map(finish)];
        const compact = chunks.map((c) => JSON.stringify(c));
        // Pretty-printed JSON never matches the quick reads: it is the full-parse oracle.
        const spaced = chunks.map((c) => JSON.stringify(c, null, 1));
        expect(spaced.every((d) => plainContentText(d) === undefined)).toBe(true);
        expect(partsOf([start, ...compact, '[DONE]'])).toEqual(partsOf([start, ...spaced, '[DONE]']));
      }),
    );
  });

  it('leaves every chunk that carries more than text to the full parse', () => {
    const others: Record<string, unknown>[] = [
      { ...envelope, choices: [{ index: 0, delta: { content: 'a' }, logprobs: null, finish_reason: 'stop' }] },
      { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: 'a' }, finish_reason: null }] },
      { ...envelope, choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: '{}' } }] }, finish_reason: null }] },
      { ...envelope, choices: [{ index: 1, delta: { content: 'a' }, finish_reason: null }] },
      contentChunk('a', { usage: { prompt_tokens: 1, completion_tokens: 1, total_tokens: 2 } }),
      contentChunk('a', { error: { message: 'boom' } }),
      contentChunk('a', { model: 'gpt-"quoted"' }),
      contentChunk('a', { x_unknown: 1 }),
    ];
    for (const chunk of others) expect(plainContentText(JSON.stringify(chunk))).toBeUndefined();
  });

  it('agrees with JSON.parse on literals it must not take as they are: raw control characters (invalid JSON), escapes', () => {
    const raw = (literal: string) => `{"choices":[{"index":0,"delta":{"content":${literal}},"finish_reason":null}]}`;
    expect(plainContentText(raw('"tab\there"'))).toBeUndefined();
    expect(plainContentText(raw('"nul\u0000"'))).toBeUndefined();
    expect(plainContentText(raw('"a\\"b\\u00e9\\n"'))).toBe('a"bé\n');
    expect(plainContentText(raw('"plain text, no escape"'))).toBe('plain text, no escape');
  });

  it('takes Mistral chunks (no logprobs, no usage) on the quick read too', () => {
    const mistral = { id: 'a1', object: 'chat.completion.chunk', created: 1, model: 'mistral-small-latest', choices: [{ index: 0, delta: { content: 'Bonjour' }, finish_reason: null }] };
    expect(plainContentText(JSON.stringify(mistral))).toBe('Bonjour');
  });
});

describe('OpenAI stream reader, the role chunk and the usage-only chunk', () => {
  const count = fc.oneof(fc.nat(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null));
  const usage = fc.record(
    {
      prompt_tokens: count,
      completion_tokens: count,
      total_tokens: count,
      prompt_tokens_details: fc.oneof(fc.constant(null), fc.record({ cached_tokens: count, audio_tokens: count }, { requiredKeys: [] })),
      completion_tokens_details: fc.record({ reasoning_tokens: count, accepted_prediction_tokens: count }, { requiredKeys: [] }),
    },
    { requiredKeys: [] },
  );
  // Any id (quotes, escapes, control characters), any model, optional envelope members.
  const env = fc.record({ id: fc.string({ unit: 'binary' }), model: fc.string({ unit: 'binary' }), created: fc.nat(), service_tier: fc.constantFrom('default', 'flex') });

  it('yields the same parts from the quick reads as from the full parse, and takes the plain forms quickly', () => {
    fc.assert(
      fc.property(env, usage, fc.boolean(), fc.string({ unit: 'binary' }), (e, u, refusal, obfuscation) => {
        const envelope = { id: e.id, object: 'chat.completion.chunk', created: e.created, model: e.model, service_tier: e.service_tier, system_fingerprint: 'fp_1' };
        const role = { ...envelope, choices: [{ index: 0, delta: { role: 'assistant', content: '', ...(refusal ? { refusal: null } : {}) }, logprobs: null, finish_reason: null }] };
        const usageOnly = { ...envelope, choices: [], usage: u, obfuscation };
        const finish = { ...envelope, choices: [{ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }] };
        const chunks = [role, contentChunk('hi'), finish, usageOnly];
        const compact = chunks.map((c) => JSON.stringify(c));
        const spaced = chunks.map((c) => JSON.stringify(c, null, 1));
        expect(readRoleChunkId(spaced[0]!)).toBeUndefined();
        expect(readUsageChunk(spaced[3]!)).toBeUndefined();
        expect(partsOf([...compact, '[DONE]'])).toEqual(partsOf([...spaced, '[DONE]']));
        // The forms OpenAI sends are read without the full parse.
        const plain = (v: string) => !/["\\\u0000-\u001f]/.test(v);
        if (plain(e.id) && plain(e.model)) expect(readRoleChunkId(compact[0]!)).toBe(e.id);
        if (plain(e.id) && plain(e.model) && plain(obfuscation)) expect(readUsageChunk(compact[3]!)).toEqual(mapOpenAiUsage(JSON.parse(JSON.stringify(u))));
      }),
    );
  });

  it('reads the usage chunks OpenAI sends without the full parse, as the full parse would', () => {
    const chunk = (usage: unknown) => JSON.stringify({ id: 'c', object: 'chat.completion.chunk', created: 1, model: 'gpt-4.1-mini', choices: [], usage });
    const bare = { prompt_tokens: 5, completion_tokens: 2, total_tokens: 7 };
    const detailed = { ...bare, prompt_tokens_details: { cached_tokens: 3, audio_tokens: 0 }, completion_tokens_details: { reasoning_tokens: 1 } };
    const noCached = { ...bare, prompt_tokens_details: { audio_tokens: 0 } };
    for (const u of [bare, detailed, noCached]) expect(readUsageChunk(chunk(u))).toEqual(mapOpenAiUsage(u));
    expect(readUsageChunk(chunk(bare))).toEqual({ inputTokens: 5, outputTokens: 2, cachedInputTokens: null, cacheWriteTokens: null });
  });

  it('leaves a repeated id or usage member to the full parse, which takes the last one', () => {
    const roleDelta = '"choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]';
    const twoIds = `{"id":"first","object":"chat.completion.chunk","id":"second",${roleDelta}}`;
    expect(readRoleChunkId(twoIds)).toBeUndefined();
    expect(partsOf([twoIds])[0]).toMatchObject({ type: 'start', id: 'second' });
    const usageThenNull = `{"id":"a","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":2,"total_tokens":7},"usage":null}`;
    expect(readUsageChunk(usageThenNull)).toBeUndefined();
    expect(partsOf([`{"id":"a",${roleDelta}}`, usageThenNull]).filter((p) => p.type === 'usage')).toEqual([]);
  });
});

describe('Anthropic stream reader, plain text deltas', () => {
  const textDelta = (text: string, index = 0): Record<string, unknown> => ({ type: 'content_block_delta', index, delta: { type: 'text_delta', text } });

  it('yields the same parts from the quick read as from the full parse of the same events', () => {
    const head: [string, Record<string, unknown>][] = [
      ['message_start', { type: 'message_start', message: { id: 'msg_1', usage: { input_tokens: 3, output_tokens: 1 } } }],
      ['content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }],
      ['ping', { type: 'ping' }],
    ];
    const tail: [string, Record<string, unknown>][] = [
      ['content_block_stop', { type: 'content_block_stop', index: 0 }],
      ['message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 7 } }],
      ['message_stop', { type: 'message_stop' }],
      // After message_stop nothing more is read, whichever path an event would take.
      ['content_block_delta', textDelta('late')],
    ];
    fc.assert(
      fc.property(fc.array(fc.string({ unit: 'binary' }), { maxLength: 8 }), (texts) => {
        // Compact JSON takes the quick reads; spaced JSON (`spacing` 1) the full parse.
        const read = (spacing: number | undefined) => {
          const reader = createAnthropicStreamReader();
          const events = [...head, ...texts.map((t) => ['content_block_delta', textDelta(t)] as [string, Record<string, unknown>]), ...tail];
          return [...events.flatMap(([event, data]) => reader.push({ event, data: JSON.stringify(data, null, spacing) })), ...reader.end()];
        };
        expect(read(undefined)).toEqual(read(1));
      }),
    );
  });

  it('reads an event by the type its data names, on the quick path too', () => {
    const reader = createAnthropicStreamReader();
    reader.push({ event: 'message_start', data: JSON.stringify({ type: 'message_start', message: { id: 'm', usage: { input_tokens: 1 } } }) });
    expect(reader.push({ event: 'ping', data: '{"type":"message_stop"}' })).toEqual([{ type: 'end' }]);
    expect(reader.push({ event: 'ping', data: '{"type":"ping"}' })).toEqual([]);
  });

  it('leaves tool argument fragments, thinking and unknown fields to the full parse', () => {
    const reader = createAnthropicStreamReader();
    reader.push({ event: 'message_start', data: JSON.stringify({ type: 'message_start', message: { id: 'm', usage: { input_tokens: 1 } } }) });
    reader.push({ event: 'content_block_start', data: JSON.stringify({ type: 'content_block_start', index: 0, content_block: { type: 'tool_use', id: 't1', name: 'f', input: {} } }) });
    expect(
      reader.push({ event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', index: 0, delta: { type: 'input_json_delta', partial_json: '{"a":' } }) }),
    ).toEqual([{ type: 'tool-call-delta', toolIndex: 0, argumentsDelta: '{"a":' }]);
    expect(reader.push({ event: 'content_block_delta', data: JSON.stringify({ type: 'content_block_delta', index: 1, delta: { type: 'thinking_delta', thinking: 'hm' } }) })).toEqual([]);
    expect(reader.push({ event: 'content_block_delta', data: JSON.stringify({ ...textDelta('x'), extra: 1 }) })).toEqual([{ type: 'text-delta', text: 'x' }]);
  });
});

describe('Anthropic stream reader, message_start and message_delta', () => {
  afterEach(() => vi.restoreAllMocks());
  const count = fc.oneof(fc.nat(), fc.double({ noNaN: true, noDefaultInfinity: true }), fc.constant(null), fc.constantFrom('', 'n/a', '12'));
  // Usage as the API sends it, with the nested cache_creation object and string members.
  const usage = fc.record(
    {
      input_tokens: count,
      cache_creation_input_tokens: count,
      cache_read_input_tokens: count,
      cache_creation: fc.record({ ephemeral_5m_input_tokens: count, ephemeral_1h_input_tokens: count }, { requiredKeys: [] }),
      output_tokens: count,
      service_tier: fc.constantFrom('standard', 'priority'),
    },
    { requiredKeys: [] },
  );
  const text = fc.string({ unit: 'binary' });
  const stopReason = fc.oneof(fc.constantFrom('end_turn', 'max_tokens', 'stop_sequence', 'tool_use', 'pause_turn', 'refusal'), fc.constant(null), text);

  it('yields the same parts from the quick reads as from the full parse, and does not parse the plain forms whole', () => {
    fc.assert(
      fc.property(text, text, usage, stopReason, fc.oneof(fc.constant(null), text), usage, (id, model, startUsage, reason, sequence, deltaUsage) => {
        const events: [string, Record<string, unknown>][] = [
          ['message_start', { type: 'message_start', message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: startUsage } }],
          ['message_delta', { type: 'message_delta', delta: { stop_reason: reason, stop_sequence: sequence }, usage: deltaUsage }],
          ['message_stop', { type: 'message_stop' }],
        ];
        const read = (spacing: number | undefined) => {
          const reader = createAnthropicStreamReader();
          return [...events.flatMap(([event, data]) => reader.push({ event, data: JSON.stringify(data, null, spacing) })), ...reader.end()];
        };
        const spaced = read(1);
        const parse = vi.spyOn(JSON, 'parse');
        let compact;
        let parsed: string[];
        try {
          compact = read(undefined);
        } finally {
          parsed = parse.mock.calls.map(([arg]) => arg);
          parse.mockRestore();
        }
        expect(compact).toEqual(spaced);
        const plain = (v: unknown) => v === null || (typeof v === 'string' && !/["\\\u0000-\u001f]/.test(v));
        const wholeEventsParsed = parsed.filter((arg) => arg.startsWith('{"type":"message_')).length;
        const expected = (plain(id) && plain(model) ? 0 : 1) + (plain(reason) && plain(sequence) ? 0 : 1);
        expect(wholeEventsParsed).toBe(expected);
      }),
    );
  });

  it('leaves events in another layout to the full parse, which reads them right', () => {
    const layouts = [
      // A member the API may add later; members in another order.
      '{"type":"message_start","message":{"id":"m1","type":"message","role":"assistant","model":"c","content":[],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":4},"container":null}}',
      '{"type":"message_delta","usage":{"output_tokens":3},"delta":{"stop_sequence":null,"stop_reason":"max_tokens"}}',
      // Braces inside a string of the usage object.
      '{"type":"message_delta","delta":{"stop_reason":null,"stop_sequence":null},"usage":{"output_tokens":5,"note":"}{"}}',
    ];
    const read = (datas: string[]) => {
      const reader = createAnthropicStreamReader();
      return datas.flatMap((data) => reader.push({ data }));
    };
    const parts = read(layouts);
    expect(parts).toEqual(read(layouts.map((d) => JSON.stringify(JSON.parse(d), null, 1))));
    expect(parts).toMatchObject([{ type: 'start', id: 'm1', usage: { inputTokens: 4 } }, { type: 'usage', usage: { outputTokens: 3 } }, { type: 'finish', reason: 'length' }, { type: 'usage', usage: { outputTokens: 5 } }]);
  });
});
