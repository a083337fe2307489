import type { SseEvent } from '../sse/sse-parser.js';
import type { StreamPart } from './canonical.js';
import { ANTHROPIC_MESSAGE_STOP_DATA } from './anthropic-stream-events.js';
import { mapAnthropicStopReason, mapOpenAiFinishReason } from './finish-reason-mapping.js';
import { asArray, asNumber, asString, isRecord, tryParseJson, type JsonObject } from './json-guards.js';
import { THINKING_DROPPED, extractOpenAiContentText } from './response-conversion.js';
import { completeUsage, mapAnthropicUsage, mapOpenAiUsage, readCompactOpenAiUsage } from './usage-mapping.js';
import { EMPTY_USAGE, type Usage } from '../../shared/trace.js';

/**
 * Upstream SSE events → canonical StreamParts. A malformed or truncated upstream stream becomes
 * an `error` part, never an exception.
 */
export interface StreamReader {
  push(ev: SseEvent): StreamPart[];
  end(): StreamPart[];
  readonly warnings: string[];
}

const TRUNCATED: StreamPart = { type: 'error', error: { type: 'api_error', message: 'upstream stream ended before the response was complete' } };

/** A text delta, or nothing for empty text (an empty delta carries nothing to the client). */
function textDelta(text: string): StreamPart[] {
  return text.length > 0 ? [{ type: 'text-delta', text }] : [];
}

function malformed(what: string): StreamPart {
  return { type: 'error', error: { type: 'api_error', message: `upstream sent a malformed stream event (${what})` } };
}

function partialOf(u: Usage): Partial<Usage> {
  const out: Partial<Usage> = {};
  if (u.inputTokens !== null) out.inputTokens = u.inputTokens;
  if (u.outputTokens !== null) out.outputTokens = u.outputTokens;
  if (u.cachedInputTokens !== null) out.cachedInputTokens = u.cachedInputTokens;
  if (u.cacheWriteTokens !== null) out.cacheWriteTokens = u.cacheWriteTokens;
  return out;
}

/**
 * OpenAI chunk envelopes: members with plain scalar values (no escape, no control character, JSON
 * numbers without leading zeros), which mean the same whether read by a pattern or a parse.
 */
const ENVELOPE_NAMES = ['id', 'object', 'created', 'model', 'service_tier', 'system_fingerprint', 'obfuscation', 'usage'] as const;
type EnvelopeName = (typeof ENVELOPE_NAMES)[number];
/** A JSON string literal, unrolled (a run of plain characters between escapes): faster than an alternation per character. */
const STRING_LITERAL = '"[^"\\\\]*(?:\\\\.[^"\\\\]*)*"';
/** A string literal whose characters are its value: no escape, no control character (invalid JSON). */
const PLAIN_LITERAL = '"[^"\\\\\\u0000-\\u001f]*"';
/** An object of scalars and objects of scalars, captured for a parse of its own. */
const USAGE_OBJECT = '(\\{[^{}]*(?:\\{[^{}]*\\}[^{}]*)*\\})';
/** One envelope member with a plain scalar value, for the names given. */
function envelopeField(names: readonly EnvelopeName[] = ENVELOPE_NAMES): string {
  return `"(?:${names.join('|')})":(?:${PLAIN_LITERAL}|(?:0|[1-9]\\d*)|null)`;
}
const ENVELOPE_FIELD = envelopeField();

/**
 * The chunk most of an OpenAI stream is made of: one text fragment for choice 0, in an envelope of
 * known fields with plain scalar values. When it matches, it means exactly what parsing it would (a
 * text delta, nothing else) at a fifth of the cost of `JSON.parse` on the whole chunk; anything
 * else (another field, a role, tool calls, a finish reason, a usage object, an error, whitespace)
 * takes the full parse.
 */
const OPENAI_TEXT_CHUNK = new RegExp(
  `^\\{(?:${ENVELOPE_FIELD},)*"choices":\\[\\{"index":0,"delta":\\{"content":(${STRING_LITERAL})\\}(?:,"logprobs":null)?,"finish_reason":null\\}\\](?:,${ENVELOPE_FIELD})*\\}$`,
);

/** The chunk that ends an OpenAI stream's choice: an empty delta and a finish reason, in the same plain envelope. */
const OPENAI_FINISH_CHUNK = new RegExp(
  `^\\{(?:${ENVELOPE_FIELD},)*"choices":\\[\\{"index":0,"delta":\\{\\}(?:,"logprobs":null)?,"finish_reason":"([a-z_]+)"\\}\\](?:,${ENVELOPE_FIELD})*\\}$`,
);

/**
 * The chunk that opens an OpenAI (or Mistral) stream: the assistant role and no content yet. Its id
 * comes first and is not repeated (a later duplicate would win in a parse), so the captured plain
 * literal is the id a parse would read.
 */
const ENVELOPE_FIELD_NOT_ID = envelopeField(ENVELOPE_NAMES.filter((n) => n !== 'id'));
const OPENAI_ROLE_CHUNK = new RegExp(
  `^\\{"id":(${PLAIN_LITERAL}),(?:${ENVELOPE_FIELD_NOT_ID},)*"choices":\\[\\{"index":0,"delta":\\{"role":"assistant","content":""(?:,"refusal":null)?\\}(?:,"logprobs":null)?,"finish_reason":null\\}\\](?:,${ENVELOPE_FIELD_NOT_ID})*\\}$`,
);

/**
 * The usage-only chunk that ends a stream with `include_usage`: no choices, a usage object, plain
 * envelope members after it but no second `usage` (which a parse would take instead). Only the
 * captured object is parsed; it is the usage value exactly when it parses, since no complete JSON
 * object is a proper prefix of another.
 */
const ENVELOPE_FIELD_NOT_USAGE = envelopeField(ENVELOPE_NAMES.filter((n) => n !== 'usage'));
const OPENAI_USAGE_CHUNK = new RegExp(
  `^\\{(?:${ENVELOPE_FIELD},)*"choices":\\[\\],"usage":${USAGE_OBJECT}(?:,${ENVELOPE_FIELD_NOT_USAGE})*\\}$`,
);

/** Anthropic's counterpart: a `content_block_delta` event carrying a `text_delta`, compact, nothing more. */
const ANTHROPIC_TEXT_DELTA = new RegExp(`^\\{"type":"content_block_delta","index":\\d+,"delta":\\{"type":"text_delta","text":(${STRING_LITERAL})\\}\\}$`);

/**
 * Anthropic events that carry nothing to translate, in the compact form the API sends them
 * (`anthropic-stream-events.ts`): a `ping`, a `content_block_stop`, the start of a text block with
 * no text yet. The type is read from the data, as the full parse would, so a match means exactly
 * what parsing it would: nothing.
 */
const ANTHROPIC_EMPTY_EVENT = /^\{"type":(?:"ping"|"content_block_stop","index":\d+|"content_block_start","index":\d+,"content_block":\{"type":"text","text":""\})\}$/;

/** What makes a JSON string literal differ from its text: an escape, or a raw control character (invalid JSON). */
// eslint-disable-next-line no-control-regex
const ESCAPE_OR_CONTROL = /[\\\u0000-\u001f]/;

/** The text of a plain content chunk (OpenAI) or text delta event (Anthropic), or undefined when the full parse is needed. */
export function plainContentText(data: string, pattern: RegExp = OPENAI_TEXT_CHUNK): string | undefined {
  const m = pattern.exec(data);
  if (m === null) return undefined;
  const literal = m[1] as string;
  // Most text has no escape: its characters are the literal's, as JSON.parse would give them.
  if (!ESCAPE_OR_CONTROL.test(literal)) return literal.slice(1, -1);
  try {
    return JSON.parse(literal) as string;
  } catch {
    return undefined;
  }
}

/** The id of a compact role chunk, or undefined when the full parse is needed. */
export function readRoleChunkId(data: string): string | undefined {
  return OPENAI_ROLE_CHUNK.exec(data)?.[1]?.slice(1, -1);
}

/** The usage of a usage-only chunk, or undefined when the full parse is needed. */
export function readUsageChunk(data: string): Usage | undefined {
  const m = OPENAI_USAGE_CHUNK.exec(data);
  if (m === null) return undefined;
  // The chunk's only `"usage":` is its usage member: OpenAI's compact layout is read without parsing.
  const compact = readCompactOpenAiUsage(data);
  if (compact !== null) return compact;
  const parsed = tryParseJson(m[1] as string);
  return parsed.ok ? mapOpenAiUsage(parsed.value) : undefined;
}

/**
 * OpenAI (and Mistral) `chat.completion.chunk` stream.
 * @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
 * Tool-call fragments are keyed by `index`; a new `id` at an index already in use starts a new
 * call, because Mistral sends each (complete) parallel call with index 0.
 */
export function createOpenAiStreamReader(): StreamReader {
  return new OpenAiStreamReader();
}

// A class, not a factory of closures: one reader is made per translated stream (see stream-emitters.ts).
class OpenAiStreamReader implements StreamReader {
  readonly warnings: string[] = [];
  private started = false;
  private finished = false;
  private ended = false;
  private sawRefusal = false;
  private nextTool = 0;
  /** Upstream tool-call index -> canonical tool; made on the first tool call. */
  private tools: Map<number, { toolIndex: number; id: string }> | undefined;

  push(ev: SseEvent): StreamPart[] {
    if (this.ended) return [];
    const data = ev.data.trim();
    if (data === '[DONE]') {
      this.ended = true;
      // Some OpenAI-compatible servers omit finish_reason before [DONE]; the stream did end cleanly.
      const out: StreamPart[] = this.started ? [] : [{ type: 'start', id: '', usage: { ...EMPTY_USAGE } }];
      if (!this.finished) out.push({ type: 'finish', reason: 'stop', stopSequence: null });
      out.push({ type: 'end' });
      return out;
    }
    if (data === '') return [];
    if (this.started) {
      const text = plainContentText(data);
      if (text !== undefined) return textDelta(text);
      const finish = OPENAI_FINISH_CHUNK.exec(data);
      if (finish !== null) return this.finishOnce(finish[1] as string);
      const usage = readUsageChunk(data);
      if (usage !== undefined) return [{ type: 'usage', usage: partialOf(usage) }];
    } else {
      const id = readRoleChunkId(data);
      if (id !== undefined) {
        this.started = true;
        return [{ type: 'start', id, usage: { ...EMPTY_USAGE } }];
      }
    }
    return this.parsed(data);
  }

  end(): StreamPart[] {
    if (this.ended) return [];
    this.ended = true;
    // A clean end without [DONE] still counts once the finish reason arrived.
    return this.finished ? [{ type: 'end' }] : [TRUNCATED];
  }

  /** The full read of a chunk. */
  private parsed(data: string): StreamPart[] {
    const parsed = tryParseJson(data);
    if (!parsed.ok || !isRecord(parsed.value)) return this.fail(malformed('invalid JSON'));
    const chunk = parsed.value;
    if (isRecord(chunk.error)) {
      return this.fail({ type: 'error', error: { type: asString(chunk.error.type) ?? 'api_error', message: asString(chunk.error.message) ?? 'upstream error' } });
    }
    const out: StreamPart[] = [];
    if (!this.started) {
      this.started = true;
      out.push({ type: 'start', id: asString(chunk.id) ?? '', usage: { ...EMPTY_USAGE } });
    }
    const choices = asArray(chunk.choices).filter(isRecord);
    const choice = choices.find((c) => c.index === 0 || c.index === undefined);
    if (choice !== undefined) {
      const delta = isRecord(choice.delta) ? choice.delta : {};
      const text = extractOpenAiContentText(delta.content, this.warnings);
      if (text.length > 0) out.push({ type: 'text-delta', text });
      const refusal = asString(delta.refusal);
      if (refusal !== undefined && refusal.length > 0) {
        this.sawRefusal = true;
        out.push({ type: 'text-delta', text: refusal });
      }
      for (const call of asArray(delta.tool_calls)) {
        if (!isRecord(call)) continue;
        const upstreamIndex = asNumber(call.index) ?? 0;
        const fn: JsonObject = isRecord(call.function) ? call.function : {};
        const id = asString(call.id);
        const tools = (this.tools ??= new Map());
        let tool = tools.get(upstreamIndex);
        if (tool === undefined || (id !== undefined && id !== '' && id !== tool.id)) {
          tool = { toolIndex: this.nextTool++, id: id ?? '' };
          tools.set(upstreamIndex, tool);
          out.push({ type: 'tool-call-start', toolIndex: tool.toolIndex, id: tool.id, name: asString(fn.name) ?? '' });
        }
        const args = asString(fn.arguments);
        if (args !== undefined && args.length > 0) out.push({ type: 'tool-call-delta', toolIndex: tool.toolIndex, argumentsDelta: args });
      }
      if (choice.finish_reason !== null && choice.finish_reason !== undefined) out.push(...this.finishOnce(choice.finish_reason));
    }
    if (isRecord(chunk.usage)) out.push({ type: 'usage', usage: partialOf(mapOpenAiUsage(chunk.usage)) });
    return out;
  }

  private fail(part: StreamPart): StreamPart[] {
    this.ended = true;
    return [part];
  }

  private finishOnce(reason: unknown): StreamPart[] {
    if (this.finished) return [];
    this.finished = true;
    return [{ type: 'finish', reason: this.sawRefusal ? 'content_filter' : mapOpenAiFinishReason(reason), stopSequence: null }];
  }
}

/**
 * The two Anthropic events every stream carries once, in the compact form and member order the API
 * sends them. The captured usage object is parsed alone (it is the usage value exactly when it
 * parses: no complete JSON object is a proper prefix of another); ids, models and stop reasons are
 * plain literals, so a match means what the full parse would. Anything else takes the full parse.
 */
const ANTHROPIC_MESSAGE_START = new RegExp(
  `^\\{"type":"message_start","message":\\{"id":(${PLAIN_LITERAL}),"type":"message","role":"assistant","model":${PLAIN_LITERAL},"content":\\[\\],"stop_reason":null,"stop_sequence":null,"usage":${USAGE_OBJECT}\\}\\}$`,
);
const ANTHROPIC_MESSAGE_DELTA = new RegExp(
  `^\\{"type":"message_delta","delta":\\{"stop_reason":(null|${PLAIN_LITERAL}),"stop_sequence":(null|${PLAIN_LITERAL})\\},"usage":${USAGE_OBJECT}\\}$`,
);

/** A plain literal or null, as captured above: its value without a parse. */
function plainLiteralValue(captured: string): string | null {
  return captured === 'null' ? null : captured.slice(1, -1);
}

/**
 * Anthropic Messages stream.
 * @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#event-types
 */
export function createAnthropicStreamReader(): StreamReader {
  return new AnthropicStreamReader();
}

class AnthropicStreamReader implements StreamReader {
  readonly warnings: string[] = [];
  private ended = false;
  private nextTool = 0;
  /** Anthropic content-block index -> canonical tool index (tool_use blocks only); made on the first. */
  private toolBlocks: Map<number, number> | undefined;
  /** Usage fields are cumulative and may arrive in message_start and message_delta. */
  private readonly rawUsage: JsonObject = {};

  push(ev: SseEvent): StreamPart[] {
    if (this.ended) return [];
    if (ev.event === 'content_block_delta' || ev.event === undefined) {
      const text = plainContentText(ev.data, ANTHROPIC_TEXT_DELTA);
      if (text !== undefined) return textDelta(text);
    }
    // Events of every stream that need no JSON.parse.
    if (ev.data === ANTHROPIC_MESSAGE_STOP_DATA) {
      this.ended = true;
      return [{ type: 'end' }];
    }
    if (ANTHROPIC_EMPTY_EVENT.test(ev.data)) return [];
    return this.quickMessageEvent(ev.data) ?? this.parsed(ev);
  }

  end(): StreamPart[] {
    if (this.ended) return [];
    this.ended = true;
    return [TRUNCATED];
  }

  /** The full read of an event. */
  private parsed(ev: SseEvent): StreamPart[] {
    const parsed = tryParseJson(ev.data);
    if (!parsed.ok || !isRecord(parsed.value)) {
      this.ended = true;
      return [malformed(`invalid JSON in ${ev.event ?? 'message'} event`)];
    }
    const data = parsed.value;
    const type = asString(data.type) ?? ev.event;
    switch (type) {
      case 'message_start': {
        const message = isRecord(data.message) ? data.message : {};
        return this.messageStart(asString(message.id) ?? '', message.usage);
      }
      case 'content_block_start': {
        const index = asNumber(data.index) ?? 0;
        const block = isRecord(data.content_block) ? data.content_block : {};
        switch (block.type) {
          case 'text': {
            return textDelta(asString(block.text) ?? '');
          }
          case 'tool_use': {
            const toolIndex = this.nextTool++;
            (this.toolBlocks ??= new Map()).set(index, toolIndex);
            const out: StreamPart[] = [{ type: 'tool-call-start', toolIndex, id: asString(block.id) ?? '', name: asString(block.name) ?? '' }];
            if (isRecord(block.input) && Object.keys(block.input).length > 0) {
              out.push({ type: 'tool-call-delta', toolIndex, argumentsDelta: JSON.stringify(block.input) });
            }
            return out;
          }
          case 'thinking':
          case 'redacted_thinking':
            this.warnOnce(THINKING_DROPPED);
            return [];
          default:
            this.warnOnce(`dropped ${String(block.type)} content block: no equivalent in the client format`);
            return [];
        }
      }
      case 'content_block_delta': {
        const delta = isRecord(data.delta) ? data.delta : {};
        switch (delta.type) {
          case 'text_delta': {
            return textDelta(asString(delta.text) ?? '');
          }
          case 'input_json_delta': {
            const toolIndex = this.toolBlocks?.get(asNumber(data.index) ?? -1);
            const fragment = asString(delta.partial_json) ?? '';
            if (toolIndex === undefined) {
              this.ended = true;
              return [malformed('input_json_delta outside a tool_use block')];
            }
            return fragment.length > 0 ? [{ type: 'tool-call-delta', toolIndex, argumentsDelta: fragment }] : [];
          }
          default:
            // thinking_delta, signature_delta, citations_delta: nothing to carry.
            return [];
        }
      }
      case 'message_delta': {
        const delta = isRecord(data.delta) ? data.delta : {};
        return this.messageDelta(delta.stop_reason, delta.stop_sequence, data.usage);
      }
      case 'message_stop':
        this.ended = true;
        return [{ type: 'end' }];
      case 'error': {
        this.ended = true;
        const error = isRecord(data.error) ? data.error : {};
        return [{ type: 'error', error: { type: asString(error.type) ?? 'api_error', message: asString(error.message) ?? 'upstream error' } }];
      }
      default:
        // ping, content_block_stop and event types added later carry nothing to translate.
        return [];
    }
  }

  private mergeRawUsage(u: unknown): StreamPart {
    if (isRecord(u)) {
      for (const k in u) if (typeof u[k] === 'number') this.rawUsage[k] = u[k];
    }
    return { type: 'usage', usage: mapAnthropicUsage(this.rawUsage) };
  }

  private messageStart(id: string, usage: unknown): StreamPart[] {
    this.mergeRawUsage(usage);
    // output_tokens at message_start is a placeholder; message_delta carries the real count.
    return [{ type: 'start', id, usage: completeUsage({ ...mapAnthropicUsage(this.rawUsage), outputTokens: null }) }];
  }

  private messageDelta(stopReason: unknown, stopSequence: unknown, usage: unknown): StreamPart[] {
    const out: StreamPart[] = [this.mergeRawUsage(usage)];
    if (stopReason !== undefined && stopReason !== null) {
      out.push({ type: 'finish', reason: mapAnthropicStopReason(stopReason), stopSequence: asString(stopSequence) ?? null });
    }
    return out;
  }

  /** message_start or message_delta read without parsing the whole event, or undefined. */
  private quickMessageEvent(data: string): StreamPart[] | undefined {
    const start = ANTHROPIC_MESSAGE_START.exec(data);
    if (start !== null) {
      const usage = tryParseJson(start[2] as string);
      return usage.ok ? this.messageStart((start[1] as string).slice(1, -1), usage.value) : undefined;
    }
    const delta = ANTHROPIC_MESSAGE_DELTA.exec(data);
    if (delta !== null) {
      const usage = tryParseJson(delta[3] as string);
      return usage.ok ? this.messageDelta(plainLiteralValue(delta[1] as string), plainLiteralValue(delta[2] as string), usage.value) : undefined;
    }
    return undefined;
  }

  private warnOnce(w: string): void {
    if (!this.warnings.includes(w)) this.warnings.push(w);
  }
}
