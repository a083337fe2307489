import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createSseParser, type SseEvent } from '../../../src/core/sse/sse-parser.js';
import type { TranslationContext } from '../../../src/core/translate/index.js';

/** Test helpers: fixtures and the client-side assembly of streams into complete responses. */

const FIXTURES = fileURLToPath(new URL('../../fixtures/translate/', import.meta.url));

export function readFixtureJson(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(FIXTURES + name, 'utf8')) as Record<string, unknown>;
}

export function readFixtureSse(name: string): SseEvent[] {
  const parser = createSseParser();
  return [...parser.push(readFileSync(FIXTURES + name)), ...parser.end()];
}

export const CTX: TranslationContext = { clientModel: 'client-model', upstreamModel: 'upstream-model', targetKind: 'anthropic', created: 1_700_000_000 };

export function dataOf(ev: SseEvent): Record<string, unknown> {
  return JSON.parse(ev.data) as Record<string, unknown>;
}

type J = Record<string, any>;

/** What an OpenAI client builds from chunks: content, tool_calls by index, finish_reason, usage. */
export function assembleOpenAiStream(events: SseEvent[]): J {
  let id = '';
  let model = '';
  let created = 0;
  let content: string | null = null;
  const calls: J[] = [];
  let finish: string | null = null;
  let usage: J | undefined;
  let done = false;
  for (const ev of events) {
    if (done) throw new Error('event after [DONE]');
    if (ev.data === '[DONE]') {
      done = true;
      continue;
    }
    const c = JSON.parse(ev.data) as J;
    if (c.error) return { error: c.error };
    id = c.id;
    model = c.model;
    created = c.created;
    if (c.usage) usage = c.usage;
    for (const choice of c.choices as J[]) {
      const d = choice.delta as J;
      if (typeof d.content === 'string' && (d.content !== '' || content !== null)) content = (content ?? '') + d.content;
      for (const tc of (d.tool_calls ?? []) as J[]) {
        const slot = (calls[tc.index] ??= { id: '', type: 'function', function: { name: '', arguments: '' } });
        if (tc.id) slot.id = tc.id;
        if (tc.function?.name) slot.function.name = tc.function.name;
        if (tc.function?.arguments) slot.function.arguments += tc.function.arguments;
      }
      if (choice.finish_reason) finish = choice.finish_reason;
    }
  }
  if (!done) throw new Error('OpenAI stream did not end with [DONE]');
  const message: J = { role: 'assistant', content, refusal: null };
  if (calls.length > 0) message.tool_calls = calls;
  const out: J = { id, object: 'chat.completion', created, model, choices: [{ index: 0, message, logprobs: null, finish_reason: finish }] };
  if (usage) out.usage = usage;
  return out;
}

/**
 * What an Anthropic client builds from events; also checks the event grammar: message_start first,
 * one block open at a time, start/delta/stop per block, message_delta then message_stop last.
 */
export function assembleAnthropicStream(events: SseEvent[]): J {
  let message: J | undefined;
  let open: number | undefined;
  const json: Record<number, string> = {};
  let stopped = false;
  for (const ev of events) {
    const d = JSON.parse(ev.data) as J;
    if (ev.event !== d.type) throw new Error(`event name ${ev.event} != data.type ${d.type}`);
    if (stopped) throw new Error('event after message_stop');
    if (d.type === 'error') return { error: d.error };
    if (message === undefined && d.type !== 'message_start') throw new Error(`${d.type} before message_start`);
    switch (d.type) {
      case 'message_start':
        message = structuredClone(d.message);
        break;
      case 'ping':
        break;
      case 'content_block_start':
        if (open !== undefined) throw new Error('block started while another is open');
        if (d.index !== message!.content.length) throw new Error('block index out of order');
        open = d.index;
        message!.content.push(structuredClone(d.content_block));
        break;
      case 'content_block_delta': {
        if (d.index !== open) throw new Error('delta for a block that is not open');
        const block = message!.content[d.index];
        if (d.delta.type === 'text_delta') block.text += d.delta.text;
        else if (d.delta.type === 'input_json_delta') json[d.index] = (json[d.index] ?? '') + d.delta.partial_json;
        break;
      }
      case 'content_block_stop': {
        if (d.index !== open) throw new Error('stop for a block that is not open');
        const block = message!.content[d.index];
        if (block.type === 'tool_use') block.input = json[d.index] ? JSON.parse(json[d.index]!) : {};
        open = undefined;
        break;
      }
      case 'message_delta':
        if (open !== undefined) throw new Error('message_delta with a block open');
        Object.assign(message!, d.delta);
        message!.usage = { ...message!.usage, ...d.usage };
        break;
      case 'message_stop':
        stopped = true;
        break;
      default:
        throw new Error(`unknown event ${d.type}`);
    }
  }
  if (!stopped) throw new Error('Anthropic stream did not end with message_stop');
  return message!;
}
