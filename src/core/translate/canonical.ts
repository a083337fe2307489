import type { Usage } from '../../shared/trace.js';

/**
 * The small canonical model responses and streams pass through: upstream format → canonical →
 * client format. Requests are converted directly (one function per direction) because both
 * request shapes carry many format-specific knobs a canonical request would only re-spell.
 *
 * Usage is the trace's `Usage`, with one convention for every provider:
 * `inputTokens` counts ALL input tokens, cache reads and cache writes included (OpenAI's
 * `prompt_tokens` meaning); `cachedInputTokens` and `cacheWriteTokens` are the parts of it read
 * from / written to the prompt cache. Anthropic's `input_tokens` excludes both, so it is
 * converted on the way in and out (see usage-mapping.ts).
 */

/** Why generation stopped, in terms both APIs can express. */
export type FinishReason = 'stop' | 'stop_sequence' | 'length' | 'tool_calls' | 'content_filter' | 'pause';

export type ResponsePart =
  | { type: 'text'; text: string }
  | { type: 'tool_call'; id: string; name: string; arguments: string };

/** A complete (non-streaming) assistant turn. */
export interface CanonicalResponse {
  id: string;
  parts: ResponsePart[];
  finishReason: FinishReason;
  stopSequence: string | null;
  usage: Usage;
}

export interface StreamErrorInfo {
  type: string;
  message: string;
}

/**
 * One event of an assistant turn being streamed. Tool calls are numbered 0,1,2… in the order they
 * start (`toolIndex`), whatever the upstream numbering was.
 */
export type StreamPart =
  | { type: 'start'; id: string; usage: Usage }
  | { type: 'text-delta'; text: string }
  | { type: 'tool-call-start'; toolIndex: number; id: string; name: string }
  | { type: 'tool-call-delta'; toolIndex: number; argumentsDelta: string }
  /** Usage figures known so far; later values replace earlier ones field by field. */
  | { type: 'usage'; usage: Partial<Usage> }
  | { type: 'finish'; reason: FinishReason; stopSequence: string | null }
  | { type: 'end' }
  | { type: 'error'; error: StreamErrorInfo };

export function assertNever(x: never, what: string): never {
  throw new Error(`unhandled ${what}: ${JSON.stringify(x)}`);
}
