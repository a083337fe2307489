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

// Emitters and readers are classes, not closures: one is made per translated stream, and a factory
// of closures allocated some twenty functions and contexts each time (measured: ~2.7 KB and ~3 µs
// with the garbage collection it caused, per stream).

/**
 * OpenAI `chat.completion.chunk` stream, ending with `data: [DONE]`; with `includeUsage` a last
 * chunk with `choices: []` carries usage, as OpenAI does for `stream_options.include_usage`.
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 */
export function createOpenAiStreamEmitter(opts: { model: string; created: number; includeUsage: boolean }): StreamEmitter {
  return new OpenAiStreamEmitter(opts.model, opts.created, opts.includeUsage);
}

/** What follows the text literal in a text chunk's frame: `chunkWithDelta(…, null)` spelled out. */
const TEXT_FRAME_SUFFIX = '},"logprobs":null,"finish_reason":null}]}\n\n';

class OpenAiStreamEmitter implements StreamEmitter {
  done = false;
  private usage: Usage = { ...EMPTY_USAGE };
  // Chunks differ only in their delta: the envelope is spelled once per id (set by `start`),
  // exactly as JSON.stringify would write the whole object.
  private envelope = '';
  /** A text chunk's frame up to its text literal, built with the envelope. */
  private textFramePrefix = '';

  constructor(
    private readonly model: string,
    private readonly created: number,
    private readonly includeUsage: boolean,
  ) {
    this.setId('');
  }

  emit(part: StreamPart): string {
    if (this.done) return '';
    switch (part.type) {
      case 'start':
        this.setId(part.id);
        this.usage = mergeUsage(this.usage, part.usage);
        return this.chunkWithDelta('{"role":"assistant","content":""}', null);
      case 'text-delta':
        // Most of a stream's chunks: one concatenation around the text's literal.
        return this.textFramePrefix + JSON.stringify(part.text) + TEXT_FRAME_SUFFIX;
      case 'tool-call-start':
        return this.chunk({ tool_calls: [{ index: part.toolIndex, id: part.id, type: 'function', function: { name: part.name, arguments: '' } }] });
      case 'tool-call-delta':
        return this.chunk({ tool_calls: [{ index: part.toolIndex, function: { arguments: part.argumentsDelta } }] });
      case 'usage':
        this.usage = mergeUsage(this.usage, part.usage);
        return '';
      case 'finish':
        return this.chunkWithDelta('{}', convertToOpenAiFinishReason(part.reason));
      case 'end':
        this.done = true;
        if (!this.includeUsage) return DONE_FRAME;
        return frame(`${this.envelope}[],"usage":${JSON.stringify(convertToOpenAiUsage(this.usage))}}`) + DONE_FRAME;
      case 'error':
        this.done = true;
        return frame(JSON.stringify(convertToOpenAiErrorPayload(part.error))) + DONE_FRAME;
      default:
        return assertNever(part, 'stream part');
    }
  }

  private setId(id: string): void {
    this.envelope = `{"id":${JSON.stringify(id)},"object":"chat.completion.chunk","created":${JSON.stringify(this.created)},"model":${JSON.stringify(this.model)},"choices":`;
    this.textFramePrefix = `data: ${this.envelope}[{"index":0,"delta":{"content":`;
  }

  private chunkWithDelta(deltaJson: string, finishReason: string | null): string {
    return frame(`${this.envelope}[{"index":0,"delta":${deltaJson},"logprobs":null,"finish_reason":${JSON.stringify(finishReason)}}]}`);
  }

  private chunk(delta: JsonObject): string {
    return this.chunkWithDelta(JSON.stringify(delta), null);
  }
}

type OpenBlock = { index: number; kind: 'text' } | { index: number; kind: 'tool'; toolIndex: number };

/**
 * Anthropic Messages stream: message_start, ping, one content block at a time
 * (content_block_start / content_block_delta / content_block_stop), message_delta, message_stop.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 * `message_start.usage.input_tokens` is the upstream figure when known, else the estimate: clients
 * such as Claude Code read it for context accounting and misbehave on 0.
 */
export function createAnthropicStreamEmitter(opts: { model: string; estimatedInputTokens: number }): StreamEmitter {
  return new AnthropicStreamEmitter(opts.model, opts.estimatedInputTokens);
}

class AnthropicStreamEmitter implements StreamEmitter {
  done = false;
  private usage: Usage = { ...EMPTY_USAGE };
  private finish: { reason: FinishReason; stopSequence: string | null } | undefined;
  private nextBlock = 0;
  private open: OpenBlock | undefined;
  private started = false;
  private readonly modelJson: string;

  constructor(
    model: string,
    private readonly estimatedInputTokens: number,
  ) {
    this.modelJson = JSON.stringify(model);
  }

  emit(part: StreamPart): string {
    if (this.done) return '';
    let out = !this.started && part.type !== 'start' && part.type !== 'error' ? this.start('') : '';
    switch (part.type) {
      case 'start':
        this.usage = mergeUsage(this.usage, part.usage);
        return this.started ? out : this.start(part.id);
      case 'text-delta': {
        let open = this.open;
        if (open?.kind !== 'text') {
          out += this.closeOpen();
          open = this.open = { index: this.nextBlock++, kind: 'text' };
          out += namedFrame('content_block_start', emptyTextBlockStartData(open.index));
        }
        return (
          out +
          namedFrame('content_block_delta', `{"type":"content_block_delta","index":${open.index},"delta":{"type":"text_delta","text":${JSON.stringify(part.text)}}}`)
        );
      }
      case 'tool-call-start': {
        out += this.closeOpen();
        const open = (this.open = { index: this.nextBlock++, kind: 'tool', toolIndex: part.toolIndex });
        // `input: {}` is what Anthropic itself sends here; the arguments follow as input_json_delta.
        const block = { type: 'content_block_start', index: open.index, content_block: { type: 'tool_use', id: part.id, name: part.name, input: {} } };
        return out + namedFrame('content_block_start', JSON.stringify(block));
      }
      case 'tool-call-delta': {
        const open = this.open;
        if (open?.kind !== 'tool' || open.toolIndex !== part.toolIndex) {
          // Anthropic blocks are sequential; an interleaved upstream cannot be re-expressed.
          return this.fail(out, 'upstream interleaved tool-call arguments, which the Anthropic stream format cannot express');
        }
        return (
          out +
          namedFrame(
            'content_block_delta',
            `{"type":"content_block_delta","index":${open.index},"delta":{"type":"input_json_delta","partial_json":${JSON.stringify(part.argumentsDelta)}}}`,
          )
        );
      }
      case 'usage':
        this.usage = mergeUsage(this.usage, part.usage);
        return out;
      case 'finish':
        this.finish = { reason: part.reason, stopSequence: part.stopSequence };
        return out;
      case 'end': {
        out += this.closeOpen();
        this.done = true;
        const stopReason = JSON.stringify(convertToAnthropicStopReason(this.finish?.reason ?? 'stop'));
        const u = JSON.stringify(convertToAnthropicUsage(this.usage, this.estimatedInputTokens));
        const data = `{"type":"message_delta","delta":{"stop_reason":${stopReason},"stop_sequence":${JSON.stringify(this.finish?.stopSequence ?? null)}},"usage":${u}}`;
        return out + namedFrame('message_delta', data) + MESSAGE_STOP_FRAME;
      }
      case 'error':
        this.done = true;
        return out + namedFrame('error', JSON.stringify(convertToAnthropicErrorPayload(part.error)));
      default:
        return assertNever(part, 'stream part');
    }
  }

  private closeOpen(): string {
    if (this.open === undefined) return '';
    const stop = namedFrame('content_block_stop', contentBlockStopData(this.open.index));
    this.open = undefined;
    return stop;
  }

  private start(id: string): string {
    this.started = true;
    const u = JSON.stringify({ ...convertToAnthropicUsage(this.usage, this.estimatedInputTokens), output_tokens: 0 });
    // JSON.stringify of the whole event, spelled out: once per stream, but on every stream.
    const data = `{"type":"message_start","message":{"id":${JSON.stringify(id)},"type":"message","role":"assistant","model":${this.modelJson},"content":[],"stop_reason":null,"stop_sequence":null,"usage":${u}}}`;
    return namedFrame('message_start', data) + PING_FRAME;
  }

  private fail(out: string, message: string): string {
    this.done = true;
    return out + namedFrame('error', JSON.stringify(convertToAnthropicErrorPayload({ type: 'api_error', message })));
  }
}
