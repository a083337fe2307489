import type { FinishReason } from './canonical.js';
import { assertNever } from './canonical.js';

/**
 * @see https://docs.anthropic.com/en/api/messages#response-stop-reason
 * `pause_turn` only happens with server tools, which the translation refuses; it is kept distinct
 * so an OpenAI client at least sees a normal `stop`.
 */
export function mapAnthropicStopReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'end_turn':
      return 'stop';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'max_tokens':
    case 'model_context_window_exceeded':
      return 'length';
    case 'tool_use':
      return 'tool_calls';
    case 'refusal':
      return 'content_filter';
    case 'pause_turn':
      return 'pause';
    default:
      return 'stop';
  }
}

/**
 * @see https://platform.openai.com/docs/api-reference/chat/object#chat/object-choices
 * Mistral adds `model_length` (context exhausted) and `error`.
 * @see https://docs.mistral.ai/api/#tag/chat/operation/chat_completion_v1_chat_completions_post
 */
export function mapOpenAiFinishReason(reason: unknown): FinishReason {
  switch (reason) {
    case 'length':
    case 'model_length':
      return 'length';
    case 'tool_calls':
    case 'function_call':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return 'stop';
  }
}

export function convertToOpenAiFinishReason(reason: FinishReason): string {
  switch (reason) {
    case 'stop':
    case 'stop_sequence':
    case 'pause':
      return 'stop';
    case 'length':
      return 'length';
    case 'tool_calls':
      return 'tool_calls';
    case 'content_filter':
      return 'content_filter';
    default:
      return assertNever(reason, 'finish reason');
  }
}

export function convertToAnthropicStopReason(reason: FinishReason): string {
  switch (reason) {
    case 'stop':
      return 'end_turn';
    case 'stop_sequence':
      return 'stop_sequence';
    case 'length':
      return 'max_tokens';
    case 'tool_calls':
      return 'tool_use';
    case 'content_filter':
      return 'refusal';
    case 'pause':
      return 'pause_turn';
    default:
      return assertNever(reason, 'finish reason');
  }
}
