/**
 * Which upstream outcomes are worth another try, and how long to wait before it.
 * 529 is Anthropic's "overloaded". @see https://docs.anthropic.com/en/api/errors
 */
export function isRetryableStatus(status: number): boolean {
  return status === 429 || status === 529 || (status >= 500 && status <= 599);
}

/**
 * `retry-after-ms` (OpenAI) wins, then `retry-after` in seconds or as an HTTP date.
 * Returns null when the upstream gave no usable hint.
 */
export function retryAfterMs(headers: Record<string, string | string[] | undefined>, nowMs: number): number | null {
  const ms = first(headers['retry-after-ms']);
  if (ms !== undefined && /^\d+(\.\d+)?$/.test(ms)) return Math.ceil(Number(ms));
  const ra = first(headers['retry-after']);
  if (ra === undefined) return null;
  if (/^\d+(\.\d+)?$/.test(ra.trim())) return Math.ceil(Number(ra) * 1000);
  // Date.parse is lenient ("-1", "5 soon" parse as dates); every HTTP-date form has an hh:mm:ss time.
  // @see https://www.rfc-editor.org/rfc/rfc9110#name-date-time-formats
  if (!HTTP_DATE_TIME.test(ra)) return null;
  const date = Date.parse(ra);
  return Number.isNaN(date) ? null : Math.max(0, date - nowMs);
}

/** Exponential backoff with full jitter: random in [0, min(cap, base·2^attempt)]. */
export function backoffMs(attempt: number, random: () => number = Math.random, baseMs = 250, capMs = 8_000): number {
  return Math.round(random() * Math.min(capMs, baseMs * 2 ** attempt));
}

const HTTP_DATE_TIME = /\b\d{2}:\d{2}:\d{2}\b/;

function first(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}
