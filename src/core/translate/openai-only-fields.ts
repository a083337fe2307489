import { GatewayError } from '../gateway-error.js';
import { isRecord } from './json-guards.js';

/**
 * OpenAI chat fields that neither Anthropic nor Mistral can honour (token log-probabilities, audio,
 * web search, the legacy function-calling fields). Dropping them would silently change the answer,
 * so a request using them is refused with the field's name when another provider serves it.
 * `servedBy` finishes the sentence, e.g. "an Anthropic model".
 */
export function rejectOpenAiOnlyFields(body: Record<string, unknown>, servedBy: string): void {
  const refuse = (field: string, why = ''): GatewayError =>
    new GatewayError('unsupported_field', `field ${field} is not supported when the request is served by ${servedBy}${why ? `: ${why}` : ''}`);
  if (isRecord(body.logit_bias) && Object.keys(body.logit_bias).length > 0) throw refuse('logit_bias');
  if (body.logprobs === true) throw refuse('logprobs');
  if (body.top_logprobs !== undefined && body.top_logprobs !== null) throw refuse('top_logprobs');
  if (body.audio !== undefined && body.audio !== null) throw refuse('audio');
  if (Array.isArray(body.modalities) && body.modalities.some((m) => m !== 'text')) throw refuse('modalities', 'only text output');
  if (body.web_search_options !== undefined && body.web_search_options !== null) throw refuse('web_search_options');
  if (body.functions !== undefined || body.function_call !== undefined) {
    throw refuse(body.functions !== undefined ? 'functions' : 'function_call', 'use tools / tool_choice');
  }
}
