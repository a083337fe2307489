import { BoundedCache } from '../bounded-cache.js';

/**
 * Anthropic requires `max_tokens`; when an OpenAI client sends none, use the model's output limit.
 * @see https://docs.anthropic.com/en/docs/about-claude/models/overview#model-comparison-table
 * Ordered: the first matching pattern wins, so specific names come before family names.
 */
const OUTPUT_LIMITS: readonly (readonly [RegExp, number])[] = [
  [/claude-opus-4-[5-9]/, 64_000],
  [/claude-opus-4/, 32_000],
  [/claude-sonnet-4|claude-4-sonnet/, 64_000],
  [/claude-haiku-4|claude-4-haiku/, 64_000],
  [/claude-3-7-sonnet/, 64_000],
  [/claude-3-5-(sonnet|haiku)/, 8_192],
  [/claude-3-(opus|sonnet|haiku)/, 4_096],
];

/** Used when the model is not in the table: every Claude model accepts at least this. */
const FALLBACK_OUTPUT_LIMIT = 4_096;

export function defaultMaxOutputTokens(model: string): number {
  const known = limitCache.get(model);
  if (known !== undefined) return known;
  const name = model.toLowerCase();
  return limitCache.set(model, OUTPUT_LIMITS.find(([pattern]) => pattern.test(name))?.[1] ?? FALLBACK_OUTPUT_LIMIT);
}
/** Asked on every request (admission and translation): the model names a laptop sees. */
const limitCache = new BoundedCache<string, number>(1024);
