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

/**
 * OpenAI's usage object in the compact form its streams carry, counts first and in this order:
 * `{"prompt_tokens":N,"completion_tokens":N,"total_tokens":N}`, then optionally
 * `"prompt_tokens_details":{…"cached_tokens":N…}` with only number fields before `cached_tokens`.
 * Read with one anchored regular expression at the last `"usage":` instead of slicing and parsing
 * it (a JSON.parse of this object costs ~4 µs on a loaded gateway): it is on every streamed OpenAI
 * request, and on every OpenAI stream translated for an Anthropic client. Any other layout
 * (spacing, order, details without `cached_tokens` where we look) gives null, and the general path
 * reads it. The property tests compare both on generated usage objects.
 */
export function readCompactOpenAiUsage(text: string): Usage | null {
  const at = text.lastIndexOf('"usage":{"prompt_tokens":');
  if (at === -1 || text.indexOf('"usage":', at + 8) !== -1) return null;
  COMPACT_OPENAI_USAGE.lastIndex = at;
  const m = COMPACT_OPENAI_USAGE.exec(text);
  if (m === null) return null;
  if (m[3] === undefined && m[4] !== '}') return null;
  return {
    inputTokens: Number(m[1]),
    outputTokens: Number(m[2]),
    cachedInputTokens: m[3] === undefined ? null : Number(m[3]),
    cacheWriteTokens: null,
  };
}
const COMPACT_OPENAI_USAGE =
  /"usage":\{"prompt_tokens":(\d{1,15}),"completion_tokens":(\d{1,15}),"total_tokens":\d{1,15}(?:,"prompt_tokens_details":\{(?:"[a-z_]+":\d{1,15},)*"cached_tokens":(\d{1,15})[,}]|(\}|,))/y;
