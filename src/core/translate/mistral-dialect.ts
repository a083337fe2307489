import { GatewayError } from '../gateway-error.js';
import { rejectOpenAiOnlyFields } from './openai-only-fields.js';
import { asArray, asNumber, isRecord, type JsonObject } from './json-guards.js';

/**
 * OpenAI Chat Completions request → the Mistral dialect of it. Mistral rejects unknown fields
 * (HTTP 422), so the body is rebuilt from a whitelist. Idempotent: applying it twice is harmless.
 * @see https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post
 *      (fields checked against @mistralai/mistralai `ChatCompletionRequest`)
 */

/** Fields Mistral accepts under the same name and meaning. */
const PASSED_THROUGH = [
  'model', 'messages', 'temperature', 'top_p', 'max_tokens', 'stream', 'stop', 'random_seed', 'metadata',
  'response_format', 'tools', 'tool_choice', 'presence_penalty', 'frequency_penalty', 'n', 'prediction',
  'parallel_tool_calls', 'reasoning_effort', 'prompt_mode', 'safe_prompt', 'guardrails', 'prompt_cache_key',
] as const;

/** OpenAI fields with no Mistral counterpart whose loss does not change the answer. */
const DROPPED_WITH_WARNING = new Set(['user', 'store', 'safety_identifier', 'verbosity', 'service_tier']);

/** Mistral streams always end with usage; `stream_options` itself is refused. */
const DROPPED_SILENTLY = new Set(['stream_options']);

/** Renamed fields: OpenAI name → Mistral name. */
const RENAMES: Readonly<Record<string, string>> = { seed: 'random_seed', max_completion_tokens: 'max_tokens' };

function unsupported(field: string, why = ''): GatewayError {
  return new GatewayError('unsupported_field', `field ${field} is not supported when the request is served by a Mistral model${why ? `: ${why}` : ''}`);
}

export function convertToMistralDialect(body: Record<string, unknown>): { body: Record<string, unknown>; warnings: string[] } {
  const warnings: string[] = [];
  const out: JsonObject = {};
  const passed = new Set<string>(PASSED_THROUGH);

  rejectOpenAiOnlyFields(body, 'a Mistral model');

  for (const [key, value] of Object.entries(body)) {
    if (value === undefined || value === null) continue;
    if (passed.has(key)) {
      if (!(key in out)) out[key] = value;
      continue;
    }
    const renamed = RENAMES[key];
    if (renamed !== undefined) {
      // The OpenAI spelling is the more specific one when a client sends both.
      out[renamed] = value;
      continue;
    }
    if (key === 'service_tier' && value === 'auto') continue;
    if (DROPPED_SILENTLY.has(key)) continue;
    if (DROPPED_WITH_WARNING.has(key)) warnings.push(`dropped ${key}: not supported by Mistral`);
    else if (key !== 'logit_bias') warnings.push(`dropped unknown field ${key}: Mistral rejects unknown fields`);
  }
  if (asNumber(out.max_tokens) === undefined) delete out.max_tokens;

  // `required` is accepted too, but `any` is Mistral's own spelling.
  if (out.tool_choice === 'required') out.tool_choice = 'any';
  else if (isRecord(out.tool_choice) && out.tool_choice.type !== 'function') throw unsupported(`tool_choice.type=${String(out.tool_choice.type)}`);

  if (Array.isArray(out.tools)) {
    out.tools.forEach((t, i) => {
      if (!isRecord(t) || t.type !== 'function') throw unsupported(`tools[${i}].type=${isRecord(t) ? String(t.type) : typeof t}`, 'only function tools');
    });
  }

  const ids = createMistralToolIdMap();
  out.messages = asArray(body.messages).map((m, i) => convertMessage(m, i, ids));
  return { body: out, warnings };
}

function convertMessage(raw: unknown, i: number, ids: (id: string) => string): JsonObject {
  if (!isRecord(raw)) throw new GatewayError('invalid_request', `messages[${i}] must be an object`);
  switch (raw.role) {
    case 'system':
    case 'developer':
      // Mistral has no developer role; OpenAI defines it as the system role for reasoning models.
      return { role: 'system', content: raw.content ?? '' };
    case 'user':
      return { role: 'user', content: convertUserContent(raw.content, i) };
    case 'assistant': {
      const msg: JsonObject = { role: 'assistant', content: convertAssistantContent(raw.content) };
      const calls = asArray(raw.tool_calls);
      if (calls.length > 0) {
        msg.tool_calls = calls.map((c) => {
          const call = isRecord(c) ? c : {};
          const fn = isRecord(call.function) ? call.function : {};
          return { id: ids(String(call.id ?? '')), type: 'function', function: { name: fn.name, arguments: fn.arguments ?? '' } };
        });
      }
      if (raw.prefix === true) msg.prefix = true;
      return msg;
    }
    case 'tool': {
      const msg: JsonObject = { role: 'tool', tool_call_id: ids(String(raw.tool_call_id ?? '')), content: raw.content ?? '' };
      if (typeof raw.name === 'string') msg.name = raw.name;
      return msg;
    }
    default:
      throw unsupported(`messages[${i}].role=${String(raw.role)}`);
  }
}

function convertUserContent(content: unknown, i: number): unknown {
  if (!Array.isArray(content)) return content;
  return content.map((part, j) => {
    if (isRecord(part) && part.type === 'text') return { type: 'text', text: part.text };
    if (isRecord(part) && part.type === 'image_url') {
      const img = part.image_url;
      if (typeof img === 'string') return { type: 'image_url', image_url: { url: img } };
      const url = isRecord(img) ? img.url : undefined;
      const detail = isRecord(img) ? img.detail : undefined;
      return { type: 'image_url', image_url: detail === undefined ? { url } : { url, detail } };
    }
    throw unsupported(`messages[${i}].content[${j}].type=${isRecord(part) ? String(part.type) : typeof part}`);
  });
}

/** Refusal parts are plain text to Mistral; null content stays null (tool-call-only turns). */
function convertAssistantContent(content: unknown): unknown {
  if (!Array.isArray(content)) return content ?? null;
  return content.map((part) => (isRecord(part) && part.type === 'refusal' ? { type: 'text', text: part.refusal } : part));
}

const MISTRAL_ID = /^[a-zA-Z0-9]{9}$/;
const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/**
 * Mistral requires tool-call ids of exactly 9 characters [a-zA-Z0-9]. Ids that already fit (all
 * ids Mistral itself produced) are kept; others (OpenAI `call_…`, Anthropic `toolu_…`) are hashed,
 * so the same id maps to the same value in every request of a conversation, and a tool call and
 * its result keep matching.
 */
export function createMistralToolIdMap(): (id: string) => string {
  const byOriginal = new Map<string, string>();
  const used = new Map<string, string>();
  return (id) => {
    const known = byOriginal.get(id);
    if (known !== undefined) return known;
    let mapped = MISTRAL_ID.test(id) ? id : hashToMistralId(id);
    for (let salt = 1; used.has(mapped) && used.get(mapped) !== id; salt++) mapped = hashToMistralId(`${id}#${salt}`);
    byOriginal.set(id, mapped);
    used.set(mapped, id);
    return mapped;
  };
}

/** 9 base62 characters from two FNV-1a 32-bit hashes (~53 bits used). */
export function hashToMistralId(input: string): string {
  let h1 = 0x811c9dc5;
  let h2 = 0x01000193 ^ 0x5bd1e995;
  for (let i = 0; i < input.length; i++) {
    const c = input.charCodeAt(i);
    h1 = Math.imul(h1 ^ c, 0x01000193) >>> 0;
    h2 = Math.imul(h2 ^ c, 0x5bd1e995) >>> 0;
    h2 = (h2 ^ (h2 >>> 15)) >>> 0;
  }
  let n = BigInt(h1) * 0x1_0000_0000n + BigInt(h2);
  let out = '';
  for (let i = 0; i < 9; i++) {
    out += BASE62[Number(n % 62n)];
    n /= 62n;
  }
  return out;
}
