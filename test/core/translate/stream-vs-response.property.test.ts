import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseParser, type SseEvent } from '../../../src/core/sse/sse-parser.js';
import { createStreamTranslator, translateResponse } from '../../../src/core/translate/index.js';
import { CTX, assembleAnthropicStream, assembleOpenAiStream } from './stream-assembly.js';
import { splitAt } from '../../support/split-at.js';

/**
 * A translated stream, assembled the way a client SDK assembles it, equals the translation of the
 * assembled upstream response. Responses are generated, rendered both as a complete body and as
 * upstream stream events with text and tool arguments cut at random points.
 */

type J = Record<string, any>;

const call = fc.record({
  id: fc.stringMatching(/^[a-zA-Z0-9]{9}$/),
  name: fc.stringMatching(/^[a-z_]{1,10}$/),
  args: fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.string({ maxLength: 12 }), fc.integer(), fc.boolean()), { maxKeys: 3 }),
});

const response = fc.record({
  id: fc.stringMatching(/^[a-z0-9]{4,12}$/),
  text: fc.string({ maxLength: 60, unit: 'grapheme' }),
  calls: fc.array(call, { maxLength: 3 }),
  finish: fc.constantFrom('stop', 'length', 'tool_calls'),
  input: fc.nat(5000),
  cached: fc.nat(3000),
  cacheWrite: fc.nat(500),
  output: fc.nat(2000),
  /** Cut points, as fractions, used to split text and argument strings into fragments. */
  cuts: fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 5 }),
});
type Resp = typeof response extends fc.Arbitrary<infer T> ? T : never;

function split(s: string, cuts: number[]): string[] {
  return splitAt(s, cuts.map((c) => Math.floor(c * s.length)));
}

const ANTHROPIC_STOP: J = { stop: 'end_turn', length: 'max_tokens', tool_calls: 'tool_use' };

function anthropicBody(r: Resp): J {
  const content: J[] = r.text ? [{ type: 'text', text: r.text }] : [];
  for (const c of r.calls) content.push({ type: 'tool_use', id: c.id, name: c.name, input: c.args });
  return {
    id: r.id, type: 'message', role: 'assistant', model: 'claude', content, stop_reason: ANTHROPIC_STOP[r.finish], stop_sequence: null,
    usage: { input_tokens: r.input, cache_read_input_tokens: r.cached, cache_creation_input_tokens: r.cacheWrite, output_tokens: r.output },
  };
}

function anthropicEvents(r: Resp): SseEvent[] {
  const ev = (d: J): SseEvent => ({ event: d.type, data: JSON.stringify(d) });
  const out = [ev({ type: 'message_start', message: { ...anthropicBody(r), content: [], stop_reason: null, usage: { input_tokens: r.input, cache_read_input_tokens: r.cached, cache_creation_input_tokens: r.cacheWrite, output_tokens: 1 } } })];
  let index = 0;
  if (r.text) {
    out.push(ev({ type: 'content_block_start', index, content_block: { type: 'text', text: '' } }), ev({ type: 'ping' }));
    for (const f of split(r.text, r.cuts)) out.push(ev({ type: 'content_block_delta', index, delta: { type: 'text_delta', text: f } }));
    out.push(ev({ type: 'content_block_stop', index: index++ }));
  }
  for (const c of r.calls) {
    out.push(ev({ type: 'content_block_start', index, content_block: { type: 'tool_use', id: c.id, name: c.name, input: {} } }));
    for (const f of split(JSON.stringify(c.args), r.cuts)) out.push(ev({ type: 'content_block_delta', index, delta: { type: 'input_json_delta', partial_json: f } }));
    out.push(ev({ type: 'content_block_stop', index: index++ }));
  }
  out.push(ev({ type: 'message_delta', delta: { stop_reason: ANTHROPIC_STOP[r.finish], stop_sequence: null }, usage: { output_tokens: r.output } }));
  out.push(ev({ type: 'message_stop' }));
  return out;
}

function openAiUsage(r: Resp): J {
  return { prompt_tokens: r.input + r.cached, completion_tokens: r.output, total_tokens: r.input + r.cached + r.output, prompt_tokens_details: { cached_tokens: r.cached } };
}

function openAiBody(r: Resp): J {
  const message: J = { role: 'assistant', content: r.text || null, refusal: null };
  if (r.calls.length > 0) message.tool_calls = r.calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: JSON.stringify(c.args) } }));
  return { id: r.id, object: 'chat.completion', created: 1, model: 'gpt', choices: [{ index: 0, message, logprobs: null, finish_reason: r.finish }], usage: openAiUsage(r) };
}

function openAiEvents(r: Resp): SseEvent[] {
  const chunk = (delta: J, finish: string | null = null): SseEvent => ({ data: JSON.stringify({ id: r.id, object: 'chat.completion.chunk', created: 1, model: 'gpt', choices: [{ index: 0, delta, finish_reason: finish }] }) });
  const out = [chunk({ role: 'assistant', content: '' })];
  for (const f of split(r.text, r.cuts)) out.push(chunk({ content: f }));
  r.calls.forEach((c, i) => {
    out.push(chunk({ tool_calls: [{ index: i, id: c.id, type: 'function', function: { name: c.name, arguments: '' } }] }));
    for (const f of split(JSON.stringify(c.args), r.cuts)) out.push(chunk({ tool_calls: [{ index: i, function: { arguments: f } }] }));
  });
  out.push(chunk({}, r.finish));
  out.push({ data: JSON.stringify({ id: r.id, object: 'chat.completion.chunk', created: 1, model: 'gpt', choices: [], usage: openAiUsage(r) }) });
  out.push({ data: '[DONE]' });
  return out;
}

function translateStream(from: 'openai-chat' | 'anthropic-messages', to: 'openai-chat' | 'anthropic-messages', events: SseEvent[]): SseEvent[] {
  const t = createStreamTranslator(from, to, { ...CTX, includeUsage: true, estimatedInputTokens: 10 });
  const parser = createSseParser();
  return [...parser.push(events.map((e) => t.push(e)).join('') + t.end()), ...parser.end()];
}

describe('an assembled translated stream equals the translated response', () => {
  it('Anthropic upstream → OpenAI client', () => {
    fc.assert(
      fc.property(response, (r) => {
        const fromResponse = translateResponse('anthropic-messages', 'openai-chat', anthropicBody(r), CTX);
        const fromStream = assembleOpenAiStream(translateStream('anthropic-messages', 'openai-chat', anthropicEvents(r)));
        expect(fromStream).toEqual(fromResponse);
      }),
      { numRuns: 300 },
    );
  });

  it('OpenAI upstream → Anthropic client', () => {
    fc.assert(
      fc.property(response.map((r) => ({ ...r, cacheWrite: 0 })), (r) => {
        const fromResponse = translateResponse('openai-chat', 'anthropic-messages', openAiBody(r), CTX);
        const fromStream = assembleAnthropicStream(translateStream('openai-chat', 'anthropic-messages', openAiEvents(r)));
        expect(fromStream).toEqual(fromResponse);
      }),
      { numRuns: 300 },
    );
  });

  it('same-format streams assemble to the upstream response (the canonical parts lose nothing)', () => {
    fc.assert(
      fc.property(response, (r) => {
        const anthropic = assembleAnthropicStream(translateStream('anthropic-messages', 'anthropic-messages', anthropicEvents(r)));
        expect(anthropic).toEqual({ ...anthropicBody(r), model: 'client-model' });
        const openai = assembleOpenAiStream(translateStream('openai-chat', 'openai-chat', openAiEvents({ ...r, cacheWrite: 0 })));
        expect(openai).toEqual({ ...openAiBody(r), model: 'client-model', created: CTX.created });
      }),
      { numRuns: 200 },
    );
  });
});
