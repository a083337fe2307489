/**
 * Token estimates before a provider tokenizes: about four characters per token for English text
 * and code (OpenAI's and Anthropic's rule of thumb). Used for input-size limits, rate-limit and
 * budget reservations, never for billing: real usage always reconciles afterwards.
 */
export const CHARS_PER_TOKEN = 4;

export function estimateTokensFromChars(chars: number): number {
  return chars <= 0 ? 0 : Math.ceil(chars / CHARS_PER_TOKEN);
}
