/**
 * Pure format translation between the OpenAI Chat Completions and Anthropic Messages wire
 * formats, plus the Mistral dialect of OpenAI chat. No I/O.
 *
 * Choices (details next to the code):
 * - Usage: the trace `Usage` counts `inputTokens` INCLUDING cache reads and writes (OpenAI
 *   `prompt_tokens` meaning); Anthropic `input_tokens` excludes them and is converted both ways
 *   (usage-mapping.ts). Use `mapOpenAiUsage` / `mapAnthropicUsage` for pass-through traffic too.
 * - Thinking: Anthropic `thinking` / `redacted_thinking` blocks (and Mistral `thinking` chunks) are
 *   dropped from OpenAI-format output with a warning, never mixed into the text; in requests they
 *   are dropped from history with a warning, and the `thinking` parameter is dropped with a warning.
 * - Streaming `include_usage`: `translateRequest` returns `includeUsage`; pass it as
 *   `ctx.includeUsage` to `createStreamTranslator`.
 */
import { GatewayError } from '../gateway-error.js';
import type { SseEvent } from '../sse/sse-parser.js';
import { EMPTY_USAGE, type Usage } from '../../shared/trace.js';
import type { WireFormat } from '../../shared/wire-format.js';
import { assertNever, type StreamErrorInfo, type StreamPart } from './canonical.js';
import { convertToOpenAiRequest } from './anthropic-to-openai-request.js';
import { isRecord } from './json-guards.js';
import { convertToMistralDialect } from './mistral-dialect.js';
import { convertToAnthropicRequest } from './openai-to-anthropic-request.js';
import {
  convertToAnthropicResponse,
  convertToOpenAiResponse,
  mapAnthropicResponse,
  mapOpenAiResponse,
} from './response-conversion.js';
import { createAnthropicStreamEmitter, createOpenAiStreamEmitter, type StreamEmitter } from './stream-emitters.js';
import { createAnthropicStreamReader, createOpenAiStreamReader, type StreamReader } from './stream-readers.js';
import type { StreamTranslationContext, TranslatedRequest, TranslationContext } from './types.js';
import { mergeUsage } from './usage-mapping.js';

export type { StreamTranslationContext, TranslatedRequest, TranslationContext } from './types.js';
export { convertToMistralDialect } from './mistral-dialect.js';
export { createStreamErrorEvents, translateErrorBody } from './error-body.js';
export { estimateInputTokens } from './token-estimate.js';
export { defaultMaxOutputTokens } from './model-limits.js';
export { mapOpenAiUsage, mapAnthropicUsage } from './usage-mapping.js';

/**
 * Client body → upstream body. Sets `model` to `ctx.upstreamModel`. For a Mistral target the
 * Mistral dialect is applied here (convertToMistralDialect is idempotent, so applying it again is
 * harmless). Throws GatewayError('unsupported_field') for what cannot be carried.
 */
export function translateRequest(from: WireFormat, to: WireFormat, body: Record<string, unknown>, ctx: TranslationContext): TranslatedRequest {
  if (to === 'anthropic-messages' && ctx.targetKind !== 'anthropic') {
    throw new GatewayError('format_mismatch', `a ${ctx.targetKind} target does not speak the Anthropic Messages format`);
  }
  if (to === 'openai-chat' && ctx.targetKind === 'anthropic') {
    throw new GatewayError('format_mismatch', 'an anthropic target is served in the Anthropic Messages format');
  }
  let result: TranslatedRequest;
  switch (from) {
    case 'openai-chat': {
      const includeUsage = body.stream === true && isRecord(body.stream_options) && body.stream_options.include_usage === true;
      switch (to) {
        case 'openai-chat':
          result = { body: { ...body, model: ctx.upstreamModel }, warnings: [], includeUsage };
          break;
        case 'anthropic-messages':
          result = convertToAnthropicRequest(body, ctx.upstreamModel);
          break;
        default:
          return assertNever(to, 'wire format');
      }
      break;
    }
    case 'anthropic-messages':
      switch (to) {
        case 'openai-chat': {
          // Not a spread plus a key: that takes V8's slow path.
          const converted = convertToOpenAiRequest(body, ctx.upstreamModel, ctx.targetKind);
          result = { body: converted.body, warnings: converted.warnings, includeUsage: false };
          break;
        }
        case 'anthropic-messages':
          result = { body: { ...body, model: ctx.upstreamModel }, warnings: [], includeUsage: false };
          break;
        default:
          return assertNever(to, 'wire format');
      }
      break;
    default:
      return assertNever(from, 'wire format');
  }
  if (to === 'openai-chat' && ctx.targetKind === 'mistral') {
    const mistral = convertToMistralDialect(result.body);
    result = { ...result, body: mistral.body, warnings: [...result.warnings, ...mistral.warnings] };
  }
  return result;
}

function nowSeconds(ctx: TranslationContext): number {
  return ctx.created ?? Math.floor(Date.now() / 1000);
}

/**
 * Upstream JSON response → client format. `warnings`, when given, receives what was dropped
 * (e.g. thinking blocks). Throws GatewayError('upstream_invalid_response') for a body that is not
 * a response of the `from` format, or tool arguments that are not a JSON object (Anthropic needs one).
 */
export function translateResponse(from: WireFormat, to: WireFormat, body: unknown, ctx: TranslationContext, warnings: string[] = []): Record<string, unknown> {
  if (from === to) {
    if (!isRecord(body)) throw new GatewayError('upstream_invalid_response', 'upstream response is not a JSON object');
    return { ...body, model: ctx.clientModel };
  }
  const canonical = from === 'openai-chat' ? mapOpenAiResponse(body, warnings) : mapAnthropicResponse(body, warnings);
  switch (to) {
    case 'openai-chat':
      return convertToOpenAiResponse(canonical, ctx.clientModel, nowSeconds(ctx));
    case 'anthropic-messages':
      return convertToAnthropicResponse(canonical, ctx.clientModel);
    default:
      return assertNever(to, 'wire format');
  }
}

export interface StreamTranslator {
  /** One parsed upstream event in, the client-format SSE frames it completes out ('' for none). */
  push(ev: SseEvent): string;
  /** Upstream closed: closing frames, or an error event if the upstream stream was cut short. */
  end(): string;
  /** Whether generated output (text or a tool call) has been emitted: the client's first token. */
  readonly sawContent: boolean;
  /** Upstream usage so far, in the trace convention (inputTokens include cache reads/writes). */
  usage(): Usage;
  /** What was dropped on the way (thinking blocks, unknown block types). */
  warnings(): string[];
  /** The error the stream ended with (upstream error event, truncation, malformed event), if any. */
  error(): StreamErrorInfo | null;
}

function createReader(format: WireFormat): StreamReader {
  switch (format) {
    case 'openai-chat':
      return createOpenAiStreamReader();
    case 'anthropic-messages':
      return createAnthropicStreamReader();
    default:
      return assertNever(format, 'wire format');
  }
}

function createEmitter(format: WireFormat, ctx: StreamTranslationContext): StreamEmitter {
  switch (format) {
    case 'openai-chat':
      return createOpenAiStreamEmitter({ model: ctx.clientModel, created: nowSeconds(ctx), includeUsage: ctx.includeUsage === true });
    case 'anthropic-messages':
      return createAnthropicStreamEmitter({ model: ctx.clientModel, estimatedInputTokens: ctx.estimatedInputTokens });
    default:
      return assertNever(format, 'wire format');
  }
}

/**
 * Upstream SSE events (already parsed by createSseParser) → client SSE frames. Works for any
 * pair, same format included (then it normalises rather than passing bytes through).
 */
export function createStreamTranslator(from: WireFormat, to: WireFormat, ctx: StreamTranslationContext): StreamTranslator {
  return new ReaderToEmitter(createReader(from), createEmitter(to, ctx), to === 'openai-chat');
}

class ReaderToEmitter implements StreamTranslator {
  sawContent = false;
  private streamUsage: Usage = { ...EMPTY_USAGE };
  private streamError: StreamErrorInfo | null = null;

  constructor(
    private readonly reader: StreamReader,
    private readonly emitter: StreamEmitter,
    /**
     * What counts as the first token is what the passthrough tap of the client's format counts: an
     * OpenAI chunk with content or tool calls; an Anthropic content_block_delta (text or arguments).
     */
    private readonly toolStartIsContent: boolean,
  ) {}

  push(ev: SseEvent): string {
    return this.emitAll(this.reader.push(ev));
  }

  end(): string {
    return this.emitAll(this.reader.end());
  }

  usage(): Usage {
    return { ...this.streamUsage };
  }

  warnings(): string[] {
    return [...this.reader.warnings];
  }

  error(): StreamErrorInfo | null {
    return this.streamError;
  }

  private emitAll(parts: StreamPart[]): string {
    let out = '';
    for (const part of parts) {
      let content = false;
      switch (part.type) {
        case 'start':
        case 'usage':
          this.streamUsage = mergeUsage(this.streamUsage, part.usage);
          break;
        case 'error':
          this.streamError ??= part.error;
          break;
        case 'text-delta':
        case 'tool-call-delta':
          content = true;
          break;
        case 'tool-call-start':
          content = this.toolStartIsContent;
          break;
        default:
          break;
      }
      const frames = this.emitter.emit(part);
      // An emitter that ended (or failed on this part) sent no content.
      if (content && !this.sawContent && frames !== '' && !this.emitter.done) this.sawContent = true;
      out += frames;
    }
    return out;
  }
}
