import type { Usage } from '../../shared/trace.js';
import { asNumber, asRecord, isRecord, type JsonObject } from './json-guards.js';

/**
 * Usage conversion. The two APIs count input differently:
 * - OpenAI `prompt_tokens` INCLUDES cached tokens; `prompt_tokens_details.cached_tokens` is the
 *   cached subset. There is no cache-write figure (OpenAI caching is automatic and not billed extra).
 *   @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 * - Anthropic `input_tokens` EXCLUDES `cache_read_input_tokens` and `cache_creation_input_tokens`;
 *   total input = input_tokens + cache_read_input_tokens + cache_creation_input_tokens.
 *   @see https://docs.anthropic.com/en/docs/build-with-claude/prompt-caching#tracking-cache-performance
 * The canonical/trace `Usage` follows OpenAI: `inputTokens` is the total.
 */

/** OpenAI (and Mistral) `usage` object → trace usage. */
export function mapOpenAiUsage(usage: unknown): Usage {
  const u = asRecord(usage);
  const details = asRecord(u.prompt_tokens_details);
  return {
    inputTokens: asNumber(u.prompt_tokens) ?? null,
    outputTokens: asNumber(u.completion_tokens) ?? null,
    cachedInputTokens: asNumber(details.cached_tokens) ?? null,
    cacheWriteTokens: null,
  };
}

/** Anthropic `usage` (message, message_start or message_delta) → the figures it contains. */
export function mapAnthropicUsage(usage: unknown): Partial<Usage> {
  if (!isRecord(usage)) return {};
  const out: Partial<Usage> = {};
  const input = asNumber(usage.input_tokens);
  const read = asNumber(usage.cache_read_input_tokens);
  const write = asNumber(usage.cache_creation_input_tokens);
  const output = asNumber(usage.output_tokens);
  if (input !== undefined) out.inputTokens = input + (read ?? 0) + (write ?? 0);
  if (read !== undefined) out.cachedInputTokens = read;
  if (write !== undefined) out.cacheWriteTokens = write;
  if (output !== undefined) out.outputTokens = output;
  return out;
}

export function completeUsage(u: Partial<Usage>): Usage {
  return {
    inputTokens: u.inputTokens ?? null,
    outputTokens: u.outputTokens ?? null,
    cachedInputTokens: u.cachedInputTokens ?? null,
    cacheWriteTokens: u.cacheWriteTokens ?? null,
  };
}

export function mergeUsage(base: Usage, next: Partial<Usage>): Usage {
  return {
    inputTokens: next.inputTokens ?? base.inputTokens,
    outputTokens: next.outputTokens ?? base.outputTokens,
    cachedInputTokens: next.cachedInputTokens ?? base.cachedInputTokens,
    cacheWriteTokens: next.cacheWriteTokens ?? base.cacheWriteTokens,
  };
}

/** Trace usage → OpenAI `usage`. Cache writes stay inside `prompt_tokens`; OpenAI has no field for them. */
export function convertToOpenAiUsage(u: Usage): JsonObject {
  const prompt = u.inputTokens ?? 0;
  const completion = u.outputTokens ?? 0;
  return {
    prompt_tokens: prompt,
    completion_tokens: completion,
    total_tokens: prompt + completion,
    prompt_tokens_details: { cached_tokens: u.cachedInputTokens ?? 0 },
  };
}

/** Trace usage → Anthropic `usage`: `input_tokens` is what is left once cache reads and writes are taken out. */
export function convertToAnthropicUsage(u: Usage, fallbackInputTokens = 0): JsonObject {
  const read = u.cachedInputTokens ?? 0;
  const write = u.cacheWriteTokens ?? 0;
  const total = u.inputTokens ?? fallbackInputTokens;
  return {
    input_tokens: Math.max(0, total - read - write),
    cache_creation_input_tokens: write,
    cache_read_input_tokens: read,
    output_tokens: u.outputTokens ?? 0,
  };
}
