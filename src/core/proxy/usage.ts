import type { Usage } from '../../shared/trace.js';

/** Which provider usage object shape a body or stream carries. */
export type UsageShape = 'openai-chat' | 'openai-responses' | 'anthropic' | 'none';

type Json = Record<string, unknown>;

function int(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.trunc(v) : null;
}
function obj(v: unknown): Json | undefined {
  return v !== null && typeof v === 'object' ? (v as Json) : undefined;
}

/**
 * OpenAI chat (and Mistral, same shape): `prompt_tokens` includes cached tokens, reported apart in
 * `prompt_tokens_details.cached_tokens`.
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 */
export function usageFromOpenAiChat(usage: unknown): Usage | null {
  const u = obj(usage);
  if (!u) return null;
  return {
    inputTokens: int(u.prompt_tokens),
    outputTokens: int(u.completion_tokens),
    cachedInputTokens: int(obj(u.prompt_tokens_details)?.cached_tokens),
    cacheWriteTokens: null,
  };
}

/** @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage */
export function usageFromOpenAiResponses(usage: unknown): Usage | null {
  const u = obj(usage);
  if (!u) return null;
  return {
    inputTokens: int(u.input_tokens),
    outputTokens: int(u.output_tokens),
    cachedInputTokens: int(obj(u.input_tokens_details)?.cached_tokens),
    cacheWriteTokens: null,
  };
}

/**
 * Anthropic: `input_tokens` excludes cache reads and writes, which come in their own fields.
 * @see https://docs.anthropic.com/en/api/messages#response-usage
 */
export function usageFromAnthropic(usage: unknown): Usage | null {
  const u = obj(usage);
  if (!u) return null;
  return {
    inputTokens: int(u.input_tokens),
    outputTokens: int(u.output_tokens),
    cachedInputTokens: int(u.cache_read_input_tokens),
    cacheWriteTokens: int(u.cache_creation_input_tokens),
  };
}

/** Usage from a whole JSON response body. */
export function usageFromBody(shape: UsageShape, body: unknown): Usage | null {
  const b = obj(body);
  if (!b) return null;
  switch (shape) {
    case 'openai-chat':
      return usageFromOpenAiChat(b.usage);
    case 'openai-responses':
      return usageFromOpenAiResponses(b.usage);
    case 'anthropic':
      return usageFromAnthropic(b.usage);
    case 'none':
      return null;
    default: {
      const never: never = shape;
      throw new Error(`unknown usage shape ${String(never)}`);
    }
  }
}

/** Later values win field by field: Anthropic streams report input in message_start, output in message_delta. */
export function mergeUsage(a: Usage | null, b: Usage | null): Usage | null {
  if (a === null) return b;
  if (b === null) return a;
  return {
    inputTokens: b.inputTokens ?? a.inputTokens,
    outputTokens: b.outputTokens ?? a.outputTokens,
    cachedInputTokens: b.cachedInputTokens ?? a.cachedInputTokens,
    cacheWriteTokens: b.cacheWriteTokens ?? a.cacheWriteTokens,
  };
}
