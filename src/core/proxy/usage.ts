import type { Usage } from '../../shared/trace.js';
import { asRecord, isRecord } from '../translate/json-guards.js';
import { completeUsage, mapAnthropicUsage, mapOpenAiUsage, readCompactOpenAiUsage } from '../translate/usage-mapping.js';

/** Which provider usage object shape a body or stream carries. */
export type UsageShape = 'openai-chat' | 'openai-responses' | 'anthropic' | 'none';

function int(v: unknown): number | null {
  return typeof v === 'number' && Number.isFinite(v) && v >= 0 ? Math.trunc(v) : null;
}

/**
 * Trace usage has one meaning whatever the provider: `inputTokens` counts every prompt token,
 * cache reads and writes included (OpenAI's `prompt_tokens` meaning); Anthropic's `input_tokens`,
 * which excludes them, is converted. The pricing code relies on it.
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-usage
 * @see https://docs.anthropic.com/en/api/messages#response-usage
 */
export function usageFromOpenAiChat(usage: unknown): Usage | null {
  return isRecord(usage) ? mapOpenAiUsage(usage) : null;
}

export function usageFromAnthropic(usage: unknown): Usage | null {
  return isRecord(usage) ? completeUsage(mapAnthropicUsage(usage)) : null;
}

/** @see https://platform.openai.com/docs/api-reference/responses/object#responses/object-usage */
export function usageFromOpenAiResponses(usage: unknown): Usage | null {
  if (!isRecord(usage)) return null;
  const u = usage;
  return {
    inputTokens: int(u.input_tokens),
    outputTokens: int(u.output_tokens),
    cachedInputTokens: int(asRecord(u.input_tokens_details).cached_tokens),
    cacheWriteTokens: null,
  };
}

/** Usage from a whole JSON response body. */
export function usageFromBody(shape: UsageShape, body: unknown): Usage | null {
  if (!isRecord(body)) return null;
  const b = body;
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

/**
 * Usage from a passed-through JSON body without parsing all of it. Every provider writes its
 * top-level `usage` after the content, and a `"usage":` with an unescaped quote cannot occur inside
 * a JSON string, so the last occurrence is the top-level key in practice; when the slice does not
 * parse or carries no token counts (an unusual layout), the whole body is parsed instead. Given
 * bytes, only the tail from that key on is decoded: the body itself is forwarded as bytes.
 */
export function usageFromRawJson(shape: UsageShape, json: string | Buffer): Usage | null {
  if (shape === 'none') return null;
  const tail = typeof json === 'string' ? json : tailFrom(json, USAGE_KEY);
  if (shape === 'openai-chat' && tail !== null) {
    const compact = readCompactOpenAiUsage(tail);
    if (compact !== null) return compact;
  }
  const slice = tail === null ? null : lastObjectAfterKey(tail, '"usage":');
  if (slice !== null) {
    try {
      const u = usageFromBody(shape, { usage: JSON.parse(slice) as unknown });
      if (u !== null && (u.inputTokens !== null || u.outputTokens !== null)) return u;
    } catch {
      // fall through to the whole body
    }
  }
  try {
    return usageFromBody(shape, JSON.parse(typeof json === 'string' ? json : json.toString('utf8')) as unknown);
  } catch {
    return null;
  }
}

const USAGE_KEY = Buffer.from('"usage":');

function tailFrom(bytes: Buffer, key: Buffer): string | null {
  const at = bytes.lastIndexOf(key);
  return at === -1 ? null : bytes.toString('utf8', at);
}

/** The `{…}` value following the last occurrence of `key`, by brace matching that respects strings. */
function lastObjectAfterKey(text: string, key: string): string | null {
  const at = text.lastIndexOf(key);
  if (at === -1) return null;
  let i = at + key.length;
  while (i < text.length && (text.charCodeAt(i) === 32 || text.charCodeAt(i) === 10 || text.charCodeAt(i) === 13 || text.charCodeAt(i) === 9)) i++;
  if (text.charCodeAt(i) !== 123 /* { */) return null;
  let depth = 0;
  let inString = false;
  for (let j = i; j < text.length; j++) {
    const c = text.charCodeAt(j);
    if (inString) {
      if (c === 92 /* \ */) j++;
      else if (c === 34 /* " */) inString = false;
    } else if (c === 34) {
      inString = true;
    } else if (c === 123) {
      depth++;
    } else if (c === 125 /* } */ && --depth === 0) {
      return text.slice(i, j + 1);
    }
  }
  return null;
}
