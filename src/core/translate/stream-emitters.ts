import type { SseEvent } from '../sse/sse-parser.js';
import { ANTHROPIC_MESSAGE_STOP_DATA, ANTHROPIC_PING_DATA, contentBlockStopData, emptyTextBlockStartData } from './anthropic-stream-events.js';
import { EMPTY_USAGE, type Usage } from '../../shared/trace.js';
import { assertNever, type FinishReason, type StreamPart } from './canonical.js';
import { convertToAnthropicErrorPayload, convertToOpenAiErrorPayload } from './error-body.js';
import { convertToAnthropicStopReason, convertToOpenAiFinishReason } from './finish-reason-mapping.js';
import type { JsonObject } from './json-guards.js';
import { convertToAnthropicUsage, convertToOpenAiUsage, mergeUsage } from './usage-mapping.js';

/** Canonical StreamParts → client SSE events. */
export interface StreamEmitter {
  emit(part: StreamPart): SseEvent[];
  readonly done: boolean;
}

function json(data: unknown, event?: string): SseEvent {
  return event === undefined ? { data: JSON.stringify(data) } : { event, data: JSON.stringify(data) };
}

// Events whose JSON never varies, or varies by a block index only, are spelled out: every
// translated Anthropic stream sends them, and serialising an object costs more than a template.
const PING: SseEvent = Object.freeze({ event: 'ping', data: ANTHROPIC_PING_DATA });
const MESSAGE_STOP: SseEvent = Object.freeze({ event: 'message_stop', data: ANTHROPIC_MESSAGE_STOP_DATA });

/**
 * OpenAI `chat.completion.chunk` stream, ending with `data: [DONE]`; with `includeUsage` a last
 * chunk with `choices: []` carries usage, as OpenAI does for `stream_options.include_usage`.
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
export function createOpenAiStreamEmitter(opts: { model: string; created: number; includeUsage: boolean }): StreamEmitter {
  let id = '';
  let usage: Usage = { ...EMPTY_USAGE };
  let done = false;

  // Chunks differ only in their delta: the rest is spelled once per stream, exactly as
  // JSON.stringify would write the whole object (a measurable share of a translated stream's CPU).
  let prefixFor = '';
  let prefix = '';
  const chunkWithDelta = (deltaJson: string, finishReason: string | null): SseEvent => {
    if (prefixFor !== id || prefix === '') {
      prefixFor = id;
      prefix = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${JSON.stringify(opts.created)},"model":${JSON.stringify(opts.model)},"choices":[{"index":0,"delta":`;
    }
    return { data: `${prefix}${deltaJson},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}}]}` };
  };
  const chunk = (delta: JsonObject, finishReason: string | null = null): SseEvent => chunkWithDelta(JSON.stringify(delta), finishReason);
  /** `chunk({ content: text })` without serialising an object: most of a stream's chunks. */
  const textChunk = (text: string): SseEvent => chunkWithDelta(`{"content":${JSON.stringify(text)}}`, null);

  return {
    get done() {
      return done;
    },
    emit(part) {
      if (done) return [];
      switch (part.type) {
        case 'start':
          id = part.id;
          usage = mergeUsage(usage, part.usage);
          return [chunk({ role: 'assistant', content: '' })];
        case 'text-delta':
          return [textChunk(part.text)];
        case 'tool-call-start':
          return [chunk({ tool_calls: [{ index: part.toolIndex, id: part.id, type: 'function', function: { name: part.name, arguments: '' } }] })];
        case 'tool-call-delta':
          return [chunk({ tool_calls: [{ index: part.toolIndex, function: { arguments: part.argumentsDelta } }] })];
        case 'usage':
          usage = mergeUsage(usage, part.usage);
          return [];
        case 'finish':
          return [chunk({}, convertToOpenAiFinishReason(part.reason))];
        case 'end': {
          done = true;
          const out: SseEvent[] = [];
          if (opts.includeUsage) {
            out.push(json({ id, object: 'chat.completion.chunk', created: opts.created, model: opts.model, choices: [], usage: convertToOpenAiUsage(usage) }));
          }
          out.push({ data: '[DONE]' });
          return out;
        }
        case 'error':
          done = true;
          return [json(convertToOpenAiErrorPayload(part.error)), { data: '[DONE]' }];
        default:
          return assertNever(part, 'stream part');
      }
    },
  };
}

/**
 * Anthropic Messages stream: message_start, ping, one content block at a time
 * (content_block_start / content_block_delta / content_block_stop), message_delta, message_stop.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 * `message_start.usage.input_tokens` is the upstream figure when known, else the estimate: clients
 * such as Claude Code read it for context accounting and misbehave on 0.
 */
export function createAnthropicStreamEmitter(opts: { model: string; estimatedInputTokens: number }): StreamEmitter {
  let usage: Usage = { ...EMPTY_USAGE };
  let finish: { reason: FinishReason; stopSequence: string | null } | undefined;
  let nextBlock = 0;
  let open: { index: number; kind: 'text' } | { index: number; kind: 'tool'; toolIndex: number } | undefined;
  let started = false;
  let done = false;

  function closeOpen(out: SseEvent[]): void {
    if (open === undefined) return;
    out.push({ event: 'content_block_stop', data: contentBlockStopData(open.index) });
    open = undefined;
  }

  function start(id: string, out: SseEvent[]): void {
    started = true;
    const u = convertToAnthropicUsage(usage, opts.estimatedInputTokens);
    out.push(
      json(
        {
          type: 'message_start',
          message: { id, type: 'message', role: 'assistant', model: opts.model, content: [], stop_reason: null, stop_sequence: null, usage: { ...u, output_tokens: 0 } },
        },
        'message_start',
      ),
      PING,
    );
  }

  function fail(out: SseEvent[], message: string): SseEvent[] {
    done = true;
    out.push(json(convertToAnthropicErrorPayload({ type: 'api_error', message }), 'error'));
    return out;
  }

  return {
    get done() {
      return done;
    },
    emit(part) {
      if (done) return [];
      const out: SseEvent[] = [];
      if (!started && part.type !== 'start' && part.type !== 'error') start('', out);
      switch (part.type) {
        case 'start':
          usage = mergeUsage(usage, part.usage);
          if (!started) start(part.id, out);
          return out;
        case 'text-delta':
          if (open?.kind !== 'text') {
            closeOpen(out);
            open = { index: nextBlock++, kind: 'text' };
            out.push({ event: 'content_block_start', data: emptyTextBlockStartData(open.index) });
          }
          out.push({
            event: 'content_block_delta',
            data: `{"type":"content_block_delta","index":${open.index},"delta":{"type":"text_delta","text":${JSON.stringify(part.text)}}}`,
          });
          return out;
        case 'tool-call-start':
          closeOpen(out);
          open = { index: nextBlock++, kind: 'tool', toolIndex: part.toolIndex };
          // `input: {}` is what Anthropic itself sends here; the arguments follow as input_json_delta.
          out.push(json({ type: 'content_block_start', index: open.index, content_block: { type: 'tool_use', id: part.id, name: part.name, input: {} } }, 'content_block_start'));
          return out;
        case 'tool-call-delta':
          if (open?.kind !== 'tool' || open.toolIndex !== part.toolIndex) {
            // Anthropic blocks are sequential; an interleaved upstream cannot be re-expressed.
            return fail(out, 'upstream interleaved tool-call arguments, which the Anthropic stream format cannot express');
          }
          out.push({
            event: 'content_block_delta',
            data: `{"type":"content_block_delta","index":${open.index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(part.argumentsDelta)}}}`,
          });
          return out;
        case 'usage':
          usage = mergeUsage(usage, part.usage);
          return out;
        case 'finish':
          finish = { reason: part.reason, stopSequence: part.stopSequence };
          return out;
        case 'end':
          closeOpen(out);
          done = true;
          out.push(
            json(
              {
                type: 'message_delta',
                delta: { stop_reason: convertToAnthropicStopReason(finish?.reason ?? 'stop'), stop_sequence: finish?.stopSequence ?? null },
                usage: convertToAnthropicUsage(usage, opts.estimatedInputTokens),
              },
              'message_delta',
            ),
            MESSAGE_STOP,
          );
          return out;
        case 'error':
          done = true;
          out.push(json(convertToAnthropicErrorPayload(part.error), 'error'));
          return out;
        default:
          return assertNever(part, 'stream part');
      }
    },
  };
}
