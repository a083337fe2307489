import { z } from 'zod';

/** One policy decision taken on a request, in the order it was taken. */
export const decisionSchema = z.object({
  rule: z.string(),
  outcome: z.enum(['allow', 'deny', 'redact', 'clamp', 'warn', 'skip']),
  detail: z.string().optional(),
});
export type Decision = z.infer<typeof decisionSchema>;

/** One try at one target: the provider, what happened, and why the gateway moved on. */
export const attemptSchema = z.object({
  providerId: z.string(),
  model: z.string(),
  outcome: z.enum(['ok', 'error', 'retry', 'fallback', 'skipped']),
  status: z.number().int().nullable(),
  durationMs: z.number(),
  reason: z.string().optional(),
});
export type Attempt = z.infer<typeof attemptSchema>;

/**
 * Token usage from the provider's own usage fields, in one meaning for all providers:
 * `inputTokens` counts every prompt token including cache reads and writes (OpenAI's
 * `prompt_tokens`); Anthropic's `input_tokens`, which excludes them, is converted on the way in.
 */
export const usageSchema = z.object({
  inputTokens: z.number().int().nonnegative().nullable(),
  outputTokens: z.number().int().nonnegative().nullable(),
  /** OpenAI `prompt_tokens_details.cached_tokens` or Anthropic `cache_read_input_tokens`. */
  cachedInputTokens: z.number().int().nonnegative().nullable(),
  /** Anthropic `cache_creation_input_tokens`. */
  cacheWriteTokens: z.number().int().nonnegative().nullable(),
});
export type Usage = z.infer<typeof usageSchema>;

export const traceSchema = z.object({
  id: z.string(),
  startedAt: z.string(),
  endedAt: z.string(),
  tenant: z.string().nullable(),
  profileVersion: z.number().int().nullable(),
  clientKeyId: z.string().nullable(),
  route: z.string(),
  method: z.string(),
  modelRequested: z.string().nullable(),
  providerId: z.string().nullable(),
  providerRegion: z.string().nullable(),
  modelUsed: z.string().nullable(),
  credentialFingerprint: z.string().nullable(),
  status: z.number().int(),
  errorCode: z.string().nullable(),
  latencyMs: z.number(),
  ttftMs: z.number().nullable(),
  streamed: z.boolean(),
  usage: usageSchema,
  costUsd: z.number().nullable(),
  /** Why cost is null or approximate, e.g. `unpriced_model`. */
  costNote: z.string().nullable(),
  attempts: z.array(attemptSchema),
  decisions: z.array(decisionSchema),
  warnings: z.array(z.string()),
});
export type Trace = z.infer<typeof traceSchema>;

export const EMPTY_USAGE: Usage = Object.freeze({
  inputTokens: null,
  outputTokens: null,
  cachedInputTokens: null,
  cacheWriteTokens: null,
}) as Usage;
