import { GatewayError } from '../gateway-error.js';
import type { CanonicalResponse, ResponsePart } from './canonical.js';
import {
  convertToAnthropicStopReason,
  convertToOpenAiFinishReason,
  mapAnthropicStopReason,
  mapOpenAiFinishReason,
} from './finish-reason-mapping.js';
import { asArray, asString, isRecord, tryParseJson, type JsonObject } from './json-guards.js';
import { completeUsage, convertToAnthropicUsage, convertToOpenAiUsage, mapAnthropicUsage, mapOpenAiUsage } from './usage-mapping.js';

/**
 * Non-streaming responses: upstream body → CanonicalResponse → client body.
 * @see https://platform.openai.com/docs/api-reference/chat/object
 * @see https://docs.anthropic.com/en/api/messages (response)
 */

function invalid(message: string): GatewayError {
  return new GatewayError('upstream_invalid_response', message);
}

/** Appends text, merging with a preceding text part so `[text, text]` and `[text]` read the same. */
function pushText(parts: ResponsePart[], text: string): void {
  if (text.length === 0) return;
  const last = parts[parts.length - 1];
  if (last !== undefined && last.type === 'text') last.text += text;
  else parts.push({ type: 'text', text });
}

/**
 * Mistral reasoning models return `content` as an array of chunks (`text`, `thinking`).
 * @see https://docs.mistral.ai/capabilities/reasoning/
 */
export function extractOpenAiContentText(content: unknown, warnings: string[]): string {
  if (typeof content === 'string') return content;
  let text = '';
  for (const chunk of asArray(content)) {
    if (!isRecord(chunk)) continue;
    if (chunk.type === 'text') text += asString(chunk.text) ?? '';
    else if (chunk.type === 'thinking') {
      if (!warnings.includes(THINKING_DROPPED)) warnings.push(THINKING_DROPPED);
    }
  }
  return text;
}

export const THINKING_DROPPED = 'dropped reasoning/thinking content: it is not part of the answer in the client format';

export function mapOpenAiResponse(body: unknown, warnings: string[]): CanonicalResponse {
  if (!isRecord(body)) throw invalid('upstream response is not a JSON object');
  const choice = asArray(body.choices)[0];
  if (!isRecord(choice) || !isRecord(choice.message)) throw invalid('upstream response has no choices[0].message');
  const message = choice.message;
  const parts: ResponsePart[] = [];
  pushText(parts, extractOpenAiContentText(message.content, warnings));
  // A refusal is the model's answer; Anthropic says so with stop_reason "refusal".
  const refusal = asString(message.refusal);
  if (refusal !== undefined) pushText(parts, refusal);
  for (const call of asArray(message.tool_calls)) {
    if (!isRecord(call) || !isRecord(call.function)) continue;
    parts.push({
      type: 'tool_call',
      id: asString(call.id) ?? '',
      name: asString(call.function.name) ?? '',
      arguments: asString(call.function.arguments) ?? '',
    });
  }
  const finish = mapOpenAiFinishReason(choice.finish_reason);
  return {
    id: asString(body.id) ?? '',
    parts,
    finishReason: refusal !== undefined && refusal.length > 0 ? 'content_filter' : finish,
    stopSequence: null,
    usage: mapOpenAiUsage(body.usage),
  };
}

export function mapAnthropicResponse(body: unknown, warnings: string[]): CanonicalResponse {
  if (!isRecord(body) || !Array.isArray(body.content)) throw invalid('upstream response is not an Anthropic message');
  const parts: ResponsePart[] = [];
  for (const block of body.content) {
    if (!isRecord(block)) continue;
    switch (block.type) {
      case 'text':
        pushText(parts, asString(block.text) ?? '');
        break;
      case 'tool_use':
        parts.push({
          type: 'tool_call',
          id: asString(block.id) ?? '',
          name: asString(block.name) ?? '',
          arguments: JSON.stringify(isRecord(block.input) ? block.input : {}),
        });
        break;
      case 'thinking':
      case 'redacted_thinking':
        if (!warnings.includes(THINKING_DROPPED)) warnings.push(THINKING_DROPPED);
        break;
      default:
        warnings.push(`dropped ${String(block.type)} content block: no equivalent in the client format`);
    }
  }
  return {
    id: asString(body.id) ?? '',
    parts,
    finishReason: mapAnthropicStopReason(body.stop_reason),
    stopSequence: asString(body.stop_sequence) ?? null,
    usage: completeUsage(mapAnthropicUsage(body.usage)),
  };
}

export function convertToOpenAiResponse(r: CanonicalResponse, model: string, created: number): JsonObject {
  let text: string | null = null;
  const toolCalls: JsonObject[] = [];
  for (const part of r.parts) {
    if (part.type === 'text') text = (text ?? '') + part.text;
    else toolCalls.push({ id: part.id, type: 'function', function: { name: part.name, arguments: part.arguments } });
  }
  const message: JsonObject = { role: 'assistant', content: text, refusal: null };
  if (toolCalls.length > 0) message.tool_calls = toolCalls;
  return {
    id: r.id,
    object: 'chat.completion',
    created,
    model,
    choices: [{ index: 0, message, logprobs: null, finish_reason: convertToOpenAiFinishReason(r.finishReason) }],
    usage: convertToOpenAiUsage(r.usage),
  };
}

export function convertToAnthropicResponse(r: CanonicalResponse, model: string): JsonObject {
  const content: JsonObject[] = r.parts.map((part) => {
    if (part.type === 'text') return { type: 'text', text: part.text };
    const parsed = part.arguments === '' ? { ok: true as const, value: {} } : tryParseJson(part.arguments);
    if (!parsed.ok || !isRecord(parsed.value)) {
      throw invalid(`upstream tool call ${part.name} has arguments that are not a JSON object`);
    }
    return { type: 'tool_use', id: part.id, name: part.name, input: parsed.value };
  });
  return {
    id: r.id,
    type: 'message',
    role: 'assistant',
    model,
    content,
    stop_reason: convertToAnthropicStopReason(r.finishReason),
    stop_sequence: r.stopSequence,
    usage: convertToAnthropicUsage(r.usage),
  };
}
