import type { Usage } from '../../shared/trace.js';
import { completeUsage, mapAnthropicUsage, mapOpenAiUsage } from '../translate/usage-mapping.js';

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
 * Trace usage has one meaning whatever the provider: `inputTokens` counts every prompt token,
 * cache reads and writes included (OpenAI's `prompt_tokens` meaning); Anthropic's `input_tokens`,
 * which excludes them, is converted. The pricing code relies on it.
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 * @see https://docs.anthropic.com/en/api/messages#response-usage
 */
export function usageFromOpenAiChat(usage: unknown): Usage | null {
  return obj(usage) ? mapOpenAiUsage(usage) : null;
}

export function usageFromAnthropic(usage: unknown): Usage | null {
  return obj(usage) ? completeUsage(mapAnthropicUsage(usage)) : null;
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
