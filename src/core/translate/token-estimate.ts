import type { WireFormat } from '../../shared/wire-format.js';
import { estimateTokensFromChars } from '../policy/token-estimate.js';
import { isRecord } from './json-guards.js';

/**
 * Rough input-token estimate for requests whose target cannot count them for us: the policy's
 * characters-per-token rule over all text (system, messages, tool calls and results, tool definitions), a fixed
 * figure per image, and a small overhead per message. Deliberately format-agnostic: both formats
 * keep text in string values and mark images with a `type`.
 * @see https://help.openai.com/en/articles/4936856-what-are-tokens-and-how-to-count-them
 */
/** Anthropic's cap for one image is ~1,600 tokens; a conservative fixed figure for reservations. */
export const IMAGE_TOKEN_ESTIMATE = 1_600;
const PER_MESSAGE_OVERHEAD = 4;
const IMAGE_TYPES = new Set(['image', 'image_url', 'input_image']);

export function estimateInputTokens(_format: WireFormat, body: Record<string, unknown>): number {
  let chars = 0;
  let images = 0;
  const walk = (v: unknown): void => {
    if (typeof v === 'string') chars += v.length;
    else if (Array.isArray(v)) v.forEach(walk);
    else if (isRecord(v)) {
      if (typeof v.type === 'string' && IMAGE_TYPES.has(v.type)) {
        images++;
        return;
      }
      for (const [k, child] of Object.entries(v)) {
        // Ids and roles are not prompt text; `type` tags are structure.
        if (k === 'id' || k === 'tool_call_id' || k === 'tool_use_id' || k === 'type' || k === 'role' || k === 'cache_control') continue;
        walk(child);
      }
    }
  };
  const messages = Array.isArray(body.messages) ? body.messages : [];
  walk(messages);
  walk(body.system);
  // Schemas are sent to the model as text, keys included.
  if (body.tools !== undefined) chars += JSON.stringify(body.tools).length;
  return estimateTokensFromChars(chars) + images * IMAGE_TOKEN_ESTIMATE + messages.length * PER_MESSAGE_OVERHEAD;
}
