import type { Usage } from '../../shared/trace.js';
import type { SseEvent } from '../sse/sse-parser.js';
import { mergeUsage, usageFromAnthropic, usageFromRawJson, usageFromOpenAiResponses, type UsageShape } from './usage.js';

/**
 * Reads a provider's stream on the side: usage, whether an event carries generated output (for
 * time to first token), and an in-stream error event. Only events that mention usage or an error
 * are JSON-parsed, so the tap costs a substring search per event on the hot path.
 */
export interface StreamTap {
  /** Returns true when the event carries generated content (text, tool arguments). */
  observe(ev: SseEvent): boolean;
  usage(): Usage | null;
  /** The message of the first error event the upstream sent inside the stream, if any. */
  error(): string | null;
}

export function createStreamTap(shape: UsageShape): StreamTap {
  let usage: Usage | null = null;
  let error: string | null = null;
  const take = (u: Usage | null): void => {
    usage = mergeUsage(usage, u);
  };
  /** `{"error": {...}}` (OpenAI, Mistral) or `{"type": "error", "error": {...}}` (Anthropic). */
  const noteError = (data: string): void => {
    const e = safeParse(data)?.error as Record<string, unknown> | undefined;
    error ??= typeof e?.message === 'string' ? e.message : 'upstream error event';
  };
  switch (shape) {
    case 'openai-chat':
      return {
        observe(ev) {
          const d = ev.data;
          // @see https://platform.openai.com/docs/api-reference/chat-streaming (errors arrive as a data line with `error`)
          if (OPENAI_ERROR_EVENT.test(d)) noteError(d);
          // Only the usage object is parsed, not the whole chunk around it.
          if (hasUsageObject(d)) take(usageFromRawJson('openai-chat', d));
          return isOpenAiContentChunk(d);
        },
        usage: () => usage,
        error: () => error,
      };
    case 'anthropic':
      return {
        observe(ev) {
          if (ev.event === 'message_start') {
            const parsed = safeParse(ev.data);
            take(usageFromAnthropic((parsed?.message as Record<string, unknown> | undefined)?.usage));
            return false;
          }
          if (ev.event === 'message_delta') {
            take(usageFromAnthropic(safeParse(ev.data)?.usage));
            return false;
          }
          // @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#error-events
          if (ev.event === 'error') noteError(ev.data);
          return ev.event === 'content_block_delta';
        },
        usage: () => usage,
        error: () => error,
      };
    case 'openai-responses':
      return {
        observe(ev) {
          if (ev.event === 'response.completed' || ev.event === 'response.incomplete') {
            const parsed = safeParse(ev.data);
            take(usageFromOpenAiResponses((parsed?.response as Record<string, unknown> | undefined)?.usage));
            return false;
          }
          // @see https://platform.openai.com/docs/api-reference/responses-streaming/error
          if (ev.event === 'error') error ??= (safeParse(ev.data)?.message as string | undefined) ?? 'upstream error event';
          return ev.event !== undefined && ev.event.endsWith('.delta');
        },
        usage: () => usage,
        error: () => error,
      };
    case 'none':
      return { observe: () => false, usage: () => null, error: () => null };
    default: {
      const never: never = shape;
      throw new Error(`unknown usage shape ${String(never)}`);
    }
  }
}

/** Tool-call fragments, or a non-empty content string, in a chunk's JSON text. */
export function isOpenAiContentChunk(data: string): boolean {
  return OPENAI_CONTENT.test(data);
}
const OPENAI_CONTENT = /"tool_calls":\[|"content":"(?!")/;

export function safeParse(data: string): Record<string, unknown> | undefined {
  try {
    const v: unknown = JSON.parse(data);
    return v !== null && typeof v === 'object' ? (v as Record<string, unknown>) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * The usage-only chunk OpenAI appends when `stream_options.include_usage` is set: empty `choices`
 * and a usage object. Hidden from clients that did not ask for it.
 * @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-stream_options
 */
export function isOpenAiUsageOnlyChunk(ev: SseEvent): boolean {
  return EMPTY_CHOICES.test(ev.data) && hasUsageObject(ev.data);
}

const OPENAI_ERROR_EVENT = /^\s*\{\s*"error"/;
const EMPTY_CHOICES = /"choices":\s*\[\s*\]/;

/**
 * `"usage": {…}` rather than the `"usage": null` every other include_usage chunk carries; compact
 * (OpenAI) or spaced (OpenAI-compatible servers that pretty-print) JSON alike.
 */
export function hasUsageObject(data: string): boolean {
  for (let at = data.indexOf('"usage":'); at !== -1; at = data.indexOf('"usage":', at + 8)) {
    let i = at + 8;
    while (data.charCodeAt(i) === 32) i++;
    if (data.charCodeAt(i) === 123 /* { */) return true;
  }
  return false;
}
