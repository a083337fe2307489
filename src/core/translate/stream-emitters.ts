import { ANTHROPIC_MESSAGE_STOP_DATA, ANTHROPIC_PING_DATA, contentBlockStopData, emptyTextBlockStartData } from './anthropic-stream-events.js';
import { EMPTY_USAGE, type Usage } from '../../shared/trace.js';
import { assertNever, type FinishReason, type StreamPart } from './canonical.js';
import { convertToAnthropicErrorPayload, convertToOpenAiErrorPayload } from './error-body.js';
import { convertToAnthropicStopReason, convertToOpenAiFinishReason } from './finish-reason-mapping.js';
import type { JsonObject } from './json-guards.js';
import { convertToAnthropicUsage, convertToOpenAiUsage, mergeUsage } from './usage-mapping.js';

/**
 * Canonical StreamParts → the client's SSE bytes, as text: each call returns the complete frames
 * (`event:` line, one `data:` line, blank line) the part completes, '' when it completes none.
 * Frames are written directly rather than as event objects serialised later: a translated stream
 * is mostly small text deltas, and an object, an array and a serialisation per delta were a
 * measurable share of its CPU. Every `data` is single-line JSON (JSON.stringify never writes a raw
 * newline), so one `data:` line per frame is the whole SSE encoding.
 */
export interface StreamEmitter {
  emit(part: StreamPart): string;
  readonly done: boolean;
}

/** An unnamed (`message`) SSE frame. */
function frame(data: string): string {
  return `data: ${data}\n\n`;
}

/** A named SSE frame. */
function namedFrame(event: string, data: string): string {
  return `event: ${event}\ndata: ${data}\n\n`;
}

const DONE_FRAME = frame('[DONE]');
const PING_FRAME = namedFrame('ping', ANTHROPIC_PING_DATA);
const MESSAGE_STOP_FRAME = namedFrame('message_stop', ANTHROPIC_MESSAGE_STOP_DATA);

/**
 * OpenAI `chat.completion.chunk` stream, ending with `data: [DONE]`; with `includeUsage` a last
 * chunk with `choices: []` carries usage, as OpenAI does for `stream_options.include_usage`.
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
export function createOpenAiStreamEmitter(opts: { model: string; created: number; includeUsage: boolean }): StreamEmitter {
  let id = '';
  let usage: Usage = { ...EMPTY_USAGE };
  let done = false;

  // Chunks differ only in their delta: the envelope is spelled once per stream (per id), exactly
  // as JSON.stringify would write the whole object.
  let envelopeFor = '';
  let envelope = '';
  const envelopeStart = (): string => {
    if (envelopeFor !== id || envelope === '') {
      envelopeFor = id;
      envelope = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${JSON.stringify(opts.created)},"model":${JSON.stringify(opts.model)},"choices":`;
    }
    return envelope;
  };
  const chunkWithDelta = (deltaJson: string, finishReason: string | null): string =>
    frame(`${envelopeStart()}[{"index":0,"delta":${deltaJson},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}}]}`);
  const chunk = (delta: JsonObject, finishReason: string | null = null): string => chunkWithDelta(JSON.stringify(delta), finishReason);

  return {
    get done() {
      return done;
    },
    emit(part) {
      if (done) return '';
      switch (part.type) {
        case 'start':
          id = part.id;
          usage = mergeUsage(usage, part.usage);
          return chunkWithDelta('{"role":"assistant","content":""}', null);
        case 'text-delta':
          // Most of a stream's chunks: the delta spelled without serialising an object.
          return chunkWithDelta(`{"content":${JSON.stringify(part.text)}}`, null);
        case 'tool-call-start':
          return chunk({ tool_calls: [{ index: part.toolIndex, id: part.id, type: 'function', function: { name: part.name, arguments: '' } }] });
        case 'tool-call-delta':
          return chunk({ tool_calls: [{ index: part.toolIndex, function: { arguments: part.argumentsDelta } }] });
        case 'usage':
          usage = mergeUsage(usage, part.usage);
          return '';
        case 'finish':
          return chunkWithDelta('{}', convertToOpenAiFinishReason(part.reason));
        case 'end': {
          done = true;
          if (!opts.includeUsage) return DONE_FRAME;
          return frame(`${envelopeStart()}[],"usage":${JSON.stringify(convertToOpenAiUsage(usage))}}`) + DONE_FRAME;
        }
        case 'error':
          done = true;
          return frame(JSON.stringify(convertToOpenAiErrorPayload(part.error))) + DONE_FRAME;
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
  const modelJson = JSON.stringify(opts.model);

  function closeOpen(): string {
    if (open === undefined) return '';
    const stop = namedFrame('content_block_stop', contentBlockStopData(open.index));
    open = undefined;
    return stop;
  }

  function start(id: string): string {
    started = true;
    const u = JSON.stringify({ ...convertToAnthropicUsage(usage, opts.estimatedInputTokens), output_tokens: 0 });
    // JSON.stringify of the whole event, spelled out: once per stream, but on every stream.
    const data = `{"type":"message_start","message":{"id":${JSON.stringify(id)},"type":"message","role":"assistant","model":${modelJson},"content":[],"stop_reason":null,"stop_sequence":null,"usage":${u}}}`;
    return namedFrame('message_start', data) + PING_FRAME;
  }

  function fail(out: string, message: string): string {
    done = true;
    return out + namedFrame('error', JSON.stringify(convertToAnthropicErrorPayload({ type: 'api_error', message })));
  }

  return {
    get done() {
      return done;
    },
    emit(part) {
      if (done) return '';
      let out = !started && part.type !== 'start' && part.type !== 'error' ? start('') : '';
      switch (part.type) {
        case 'start':
          usage = mergeUsage(usage, part.usage);
          return started ? out : start(part.id);
        case 'text-delta':
          if (open?.kind !== 'text') {
            out += closeOpen();
            open = { index: nextBlock++, kind: 'text' };
            out += namedFrame('content_block_start', emptyTextBlockStartData(open.index));
          }
          return (
            out +
            namedFrame('content_block_delta', `{"type":"content_block_delta","index":${open.index},"delta":{"type":"text_delta","text":${JSON.stringify(part.text)}}}`)
          );
        case 'tool-call-start': {
          out += closeOpen();
          open = { index: nextBlock++, kind: 'tool', toolIndex: part.toolIndex };
          // `input: {}` is what Anthropic itself sends here; the arguments follow as input_json_delta.
          const block = { type: 'content_block_start', index: open.index, content_block: { type: 'tool_use', id: part.id, name: part.name, input: {} } };
          return out + namedFrame('content_block_start', JSON.stringify(block));
        }
        case 'tool-call-delta':
          if (open?.kind !== 'tool' || open.toolIndex !== part.toolIndex) {
            // Anthropic blocks are sequential; an interleaved upstream cannot be re-expressed.
            return fail(out, 'upstream interleaved tool-call arguments, which the Anthropic stream format cannot express');
          }
          return (
            out +
            namedFrame(
              'content_block_delta',
              `{"type":"content_block_delta","index":${open.index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(part.argumentsDelta)}}}`,
            )
          );
        case 'usage':
          usage = mergeUsage(usage, part.usage);
          return out;
        case 'finish':
          finish = { reason: part.reason, stopSequence: part.stopSequence };
          return out;
        case 'end': {
          out += closeOpen();
          done = true;
          const stopReason = JSON.stringify(convertToAnthropicStopReason(finish?.reason ?? 'stop'));
          const u = JSON.stringify(convertToAnthropicUsage(usage, opts.estimatedInputTokens));
          const data = `{"type":"message_delta","delta":{"stop_reason":${stopReason},"stop_sequence":${JSON.stringify(finish?.stopSequence ?? null)}},"usage":${u}}`;
          return out + namedFrame('message_delta', data) + MESSAGE_STOP_FRAME;
        }
        case 'error':
          done = true;
          return out + namedFrame('error', JSON.stringify(convertToAnthropicErrorPayload(part.error)));
        default:
          return assertNever(part, 'stream part');
      }
    },
  };
}
