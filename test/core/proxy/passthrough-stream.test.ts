import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createPassthroughStream } from '../../../src/core/proxy/passthrough-stream.js';
import { createStreamTap } from '../../../src/core/proxy/stream-tap.js';
import { createSseParser } from '../../../src/core/sse/sse-parser.js';
import type { UsageShape } from '../../../src/core/proxy/usage.js';
import { splitAt } from '../../support/split-at.js';

function openAiStream(words: string[], withUsage: boolean): string {
  const chunk = (delta: Record<string, unknown>, finish: string | null = null): string =>
    `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta, finish_reason: finish }], usage: null })}\n\n`;
  let s = chunk({ role: 'assistant', content: '' });
  for (const w of words) s += chunk({ content: w });
  s += chunk({}, 'stop');
  if (withUsage) s += `data: ${JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [], usage: { prompt_tokens: 7, completion_tokens: words.length, total_tokens: 7 + words.length } })}\n\n`;
  return `${s}data: [DONE]\n\n`;
}

function anthropicStream(words: string[]): string {
  const ev = (event: string, data: unknown): string => `event: ${event}\ndata: ${JSON.stringify(data)}\n\n`;
  let s = ev('message_start', { type: 'message_start', message: { id: 'm', usage: { input_tokens: 11, output_tokens: 1, cache_read_input_tokens: 3 } } });
  s += ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  for (const w of words) s += ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: w } });
  s += ev('content_block_stop', { type: 'content_block_stop', index: 0 });
  s += ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: words.length } });
  return s + ev('message_stop', { type: 'message_stop' });
}

function run(shape: UsageShape, text: string, points: number[], drop: boolean) {
  const tap = createStreamTap(shape);
  const stream = createPassthroughStream(tap, shape, { dropUsageOnlyChunk: drop });
  const parts: Buffer[] = [];
  const bytes = Buffer.from(text);
  for (const c of splitAt(bytes, points.map((p) => p % (bytes.length + 1)))) parts.push(Buffer.from(stream.push(c)));
  parts.push(Buffer.from(stream.end()));
  return { out: Buffer.concat(parts).toString(), usage: tap.usage(), sawContent: stream.sawContent };
}

const words = fc.array(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 6 }), { minLength: 1, maxLength: 12 });
const points = fc.array(fc.nat(), { maxLength: 20 });

describe('a same-format stream passed through with a side tap', () => {
  it('forwards OpenAI bytes unchanged and still reads usage, wherever the chunks are cut', () => {
    fc.assert(
      fc.property(words, points, (w, p) => {
        const text = openAiStream(w, true);
        const r = run('openai-chat', text, p, false);
        expect(r.out).toBe(text);
        expect(r.usage).toEqual({ inputTokens: 7, outputTokens: w.length, cachedInputTokens: null, cacheWriteTokens: null });
        expect(r.sawContent).toBe(true);
      }),
    );
  });

  it('cuts out exactly the usage-only chunk it asked for, keeping every other byte', () => {
    fc.assert(
      fc.property(words, points, (w, p) => {
        const r = run('openai-chat', openAiStream(w, true), p, true);
        expect(r.out).toBe(openAiStream(w, false));
        expect(r.usage?.outputTokens).toBe(w.length);
      }),
    );
  });

  it('reads and cuts the usage chunk of a server that writes spaced JSON ("usage": {, "choices": [])', () => {
    // Python servers built on json.dumps' default separators write `"key": value`.
    const spaced = (text: string): string =>
      text.replace(/^data: (\{.*\})$/gm, (_m, json: string) => `data: ${JSON.stringify(JSON.parse(json)).replace(/":/g, '": ').replace(/,"/g, ', "')}`);
    fc.assert(
      fc.property(words, points, (w, p) => {
        const kept = run('openai-chat', spaced(openAiStream(w, true)), p, false);
        expect(kept.out).toBe(spaced(openAiStream(w, true)));
        expect(kept.usage).toEqual({ inputTokens: 7, outputTokens: w.length, cachedInputTokens: null, cacheWriteTokens: null });
        const dropped = run('openai-chat', spaced(openAiStream(w, true)), p, true);
        expect(dropped.out).toBe(spaced(openAiStream(w, false)));
        expect(dropped.usage?.outputTokens).toBe(w.length);
      }),
    );
  });

  it('forwards Anthropic bytes unchanged with usage from message_start and message_delta', () => {
    fc.assert(
      fc.property(words, points, (w, p) => {
        const text = anthropicStream(w);
        const r = run('anthropic', text, p, false);
        expect(r.out).toBe(text);
        expect(r.usage).toEqual({ inputTokens: 14, outputTokens: w.length, cachedInputTokens: 3, cacheWriteTokens: null });
      }),
    );
  });

  it('copes with CRLF framing', () => {
    const text = openAiStream(['a', 'b'], true).replace(/\n/g, '\r\n');
    const r = run('openai-chat', text, [5, 40, 41, 200], false);
    expect(r.out).toBe(text);
    expect(r.usage?.inputTokens).toBe(7);
    const dropped = run('openai-chat', text, [5, 40, 41, 200], true);
    expect(dropped.out).not.toContain('"choices":[]');
    expect(dropped.out).toContain('data: [DONE]');
  });

  it('notices an error event after content has started', () => {
    const tap = createStreamTap('anthropic');
    const stream = createPassthroughStream(tap, 'anthropic', { dropUsageOnlyChunk: false });
    stream.push(Buffer.from(anthropicStream(['x']).split('event: message_delta')[0]!));
    stream.push(Buffer.from('event: error\ndata: {"type":"error","error":{"type":"overloaded_error","message":"Overloaded"}}\n\n'));
    stream.end();
    expect(tap.error()).toBe('Overloaded');
  });

  it('reads an OpenAI error event and the usage that follow content in the same chunk as many other events', () => {
    const tap = createStreamTap('openai-chat');
    const stream = createPassthroughStream(tap, 'openai-chat', { dropUsageOnlyChunk: false });
    const head = openAiStream(['a'], false).split('data: [DONE]')[0]!;
    stream.push(Buffer.from(head.slice(0, head.indexOf('\n\n') + 2)));
    // Content, then an error event, then usage, all in one read: each marked event is read once.
    const rest = head.slice(head.indexOf('\n\n') + 2) + 'data: {"error":{"message":"The server had an error","type":"server_error"}}\n\n';
    const usage = 'data: {"id":"c1","choices":[],"usage":{"prompt_tokens":5,"completion_tokens":1,"total_tokens":6}}\n\n';
    expect(Buffer.from(stream.push(Buffer.from(rest + usage))).toString()).toBe(rest + usage);
    stream.end();
    expect(stream.sawContent).toBe(true);
    expect(tap.error()).toBe('The server had an error');
    expect(tap.usage()).toMatchObject({ inputTokens: 5, outputTokens: 1 });
  });
});

/** One event of a shape's stream, as the provider writes it. */
const sse = (data: unknown, event?: string): string => `${event === undefined ? '' : `event: ${event}\n`}data: ${JSON.stringify(data)}\n\n`;
const fragment = fc.string({ unit: 'grapheme', maxLength: 5 });

const openAiEvents = fc.array(
  fc.oneof(
    fragment.map((t) => sse({ id: 'c', choices: [{ index: 0, delta: { content: t }, finish_reason: null }], usage: null })),
    fc.constant(sse({ id: 'c', choices: [{ index: 0, delta: { role: 'assistant', content: '' }, finish_reason: null }], usage: null })),
    fragment.map((t) => sse({ id: 'c', choices: [{ index: 0, delta: { tool_calls: [{ index: 0, function: { arguments: t } }] } }] })),
    fc.nat(99).map((n) => sse({ id: 'c', choices: [], usage: { prompt_tokens: n, completion_tokens: 2, total_tokens: n + 2 } })),
    fragment.map((t) => sse({ error: { message: `e${t}`, type: 'server_error' } })),
    fc.constant(': keep-alive\n\n'),
  ),
  { maxLength: 8 },
);
const anthropicEvents = fc.array(
  fc.oneof(
    fc.nat(99).map((n) => sse({ type: 'message_start', message: { id: 'm', usage: { input_tokens: n, output_tokens: 1 } } }, 'message_start')),
    fc.constant(sse({ type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }, 'content_block_start')),
    fragment.map((t) => sse({ type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: t } }, 'content_block_delta')),
    fc.constant(sse({ type: 'ping' }, 'ping')),
    fc.nat(99).map((n) => sse({ type: 'message_delta', delta: { stop_reason: 'end_turn' }, usage: { output_tokens: n } }, 'message_delta')),
    fragment.map((t) => sse({ type: 'error', error: { type: 'overloaded_error', message: `e${t}` } }, 'error')),
  ),
  { maxLength: 8 },
);
const responsesEvents = fc.array(
  fc.oneof(
    fc.constant(sse({ type: 'response.created', response: { id: 'r', usage: null } }, 'response.created')),
    fragment.map((t) => sse({ type: 'response.output_text.delta', delta: t }, 'response.output_text.delta')),
    fc.nat(99).map((n) => sse({ type: 'response.completed', response: { id: 'r', usage: { input_tokens: n, output_tokens: 3 } } }, 'response.completed')),
    fragment.map((t) => sse({ type: 'error', message: `e${t}` }, 'error')),
  ),
  { maxLength: 8 },
);

describe('the tap reads only marked events, yet sees what reading every event would', () => {
  const cases: [UsageShape, fc.Arbitrary<string[]>][] = [
    ['openai-chat', openAiEvents],
    ['anthropic', anthropicEvents],
    ['openai-responses', responsesEvents],
  ];
  for (const [shape, events] of cases) {
    it(`${shape}: usage, first error and the chunk where content starts match a tap fed every event`, () => {
      fc.assert(
        fc.property(events, points, (evs, p) => {
          const bytes = Buffer.from(evs.join(''));
          const tap = createStreamTap(shape);
          const stream = createPassthroughStream(tap, shape, { dropUsageOnlyChunk: false });
          const everyEventTap = createStreamTap(shape);
          const everyEvent = createSseParser();
          let referenceSawContent = false;
          for (const c of splitAt(bytes, p.map((x) => x % (bytes.length + 1)))) {
            stream.push(c);
            for (const ev of everyEvent.push(c)) if (everyEventTap.observe(ev)) referenceSawContent = true;
            expect(stream.sawContent).toBe(referenceSawContent);
          }
          stream.end();
          for (const ev of everyEvent.end()) if (everyEventTap.observe(ev)) referenceSawContent = true;
          expect(stream.sawContent).toBe(referenceSawContent);
          expect(tap.usage()).toEqual(everyEventTap.usage());
          expect(tap.error()).toBe(everyEventTap.error());
        }),
      );
    });
  }
});
