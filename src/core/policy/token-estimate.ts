import { collectTextSlots, type GuardedFormat } from './guardrails/text-slots.js';

/**
 * Token estimates before a provider tokenizes: about four characters per token for English text
 * and code (OpenAI's and Anthropic's rule of thumb). Used for input-size limits, rate-limit and
 * budget reservations, never for billing: real usage always reconciles afterwards.
 */
export const CHARS_PER_TOKEN = 4;

export function estimateTokensFromChars(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / CHARS_PER_TOKEN);
}

/**
 * Estimated input tokens of a request body: the text guardrails scan (messages, system, tool
 * calls and results, tool schemas), ≈ chars / 4. Images and files are not counted. For rate-limit
 * and budget reservations, which reconcile with real usage afterwards.
 */
export function estimateInputTokens(format: GuardedFormat, body: Record<string, unknown>): number {
  let chars = 0;
  for (const s of collectTextSlots(format, body)) chars += s.text.length;
  return estimateTokensFromChars(chars);
}
