import type { SseEvent } from '../sse/sse-parser.js';
import type { WireFormat } from '../../shared/wire-format.js';
import { assertNever } from './canonical.js';
import { asString, isRecord, type JsonObject } from './json-guards.js';

/**
 * Error bodies in each API's shape.
 * @see https://platform.openai.com/docs/guides/error-codes
 * @see https://docs.anthropic.com/en/api/errors
 * Types follow src/shared/error-catalog.ts so gateway-made and translated errors read alike.
 */

interface ErrorInfo {
  message: string;
  type: string | undefined;
  code: string | undefined;
  param: string | undefined;
}

/** Anthropic error `type` by HTTP status; clients mostly branch on the status itself. */
export function mapStatusToAnthropicErrorType(status: number): string {
  switch (status) {
    case 400:
      return 'invalid_request_error';
    case 401:
      return 'authentication_error';
    case 402:
      return 'billing_error';
    case 403:
      return 'permission_error';
    case 404:
      return 'not_found_error';
    case 413:
      return 'request_too_large';
    case 429:
      return 'rate_limit_error';
    case 503:
    case 529:
      return 'overloaded_error';
    default:
      return status >= 500 ? 'api_error' : 'invalid_request_error';
  }
}

/** Anthropic error type → the OpenAI `type` clients know. */
export function mapAnthropicErrorTypeToOpenAi(type: string): string {
  switch (type) {
    case 'invalid_request_error':
    case 'authentication_error':
    case 'permission_error':
    case 'not_found_error':
    case 'request_too_large':
    case 'billing_error':
      return 'invalid_request_error';
    case 'rate_limit_error':
      return 'rate_limit_error';
    default:
      return 'api_error';
  }
}

/** OpenAI/Mistral error type → Anthropic error type. */
export function mapOpenAiErrorTypeToAnthropic(type: string | undefined, code: string | undefined): string {
  if (code === 'rate_limit_exceeded' || type === 'rate_limit_error' || type === 'requests' || type === 'tokens') return 'rate_limit_error';
  if (code === 'insufficient_quota' || type === 'insufficient_quota') return 'billing_error';
  if (code === 'invalid_api_key' || type === 'authentication_error') return 'authentication_error';
  if (type === 'invalid_request_error') return 'invalid_request_error';
  if (type === 'server_error' || type === 'api_error') return 'api_error';
  return 'api_error';
}

/** Reads OpenAI `{error:{…}}`, Anthropic `{type:"error",error:{…}}`, Mistral `{object:"error",message}` or 422 `{detail}`. */
function readError(body: unknown, status: number): ErrorInfo {
  const fallback = `upstream error (HTTP ${status})`;
  if (typeof body === 'string') return { message: body.length > 0 ? body : fallback, type: undefined, code: undefined, param: undefined };
  if (!isRecord(body)) return { message: fallback, type: undefined, code: undefined, param: undefined };
  const inner = isRecord(body.error) ? body.error : body;
  let message = asString(inner.message) ?? (typeof body.error === 'string' ? body.error : undefined);
  if (message === undefined && body.detail !== undefined) message = typeof body.detail === 'string' ? body.detail : JSON.stringify(body.detail);
  const code = inner.code;
  return {
    message: message ?? fallback,
    type: asString(inner.type),
    code: typeof code === 'number' ? String(code) : asString(code),
    param: asString(inner.param),
  };
}

export function translateErrorBody(from: WireFormat, to: WireFormat, status: number, body: unknown): Record<string, unknown> {
  const info = readError(body, status);
  switch (to) {
    case 'openai-chat': {
      if (from === 'openai-chat' && isRecord(body) && isRecord(body.error)) return body;
      const type = from === 'anthropic-messages' && info.type !== undefined ? mapAnthropicErrorTypeToOpenAi(info.type) : info.type ?? mapAnthropicErrorTypeToOpenAi(mapStatusToAnthropicErrorType(status));
      return { error: { message: info.message, type, param: info.param ?? null, code: info.code ?? (from === 'anthropic-messages' ? info.type ?? null : null) } };
    }
    case 'anthropic-messages': {
      if (from === 'anthropic-messages' && isRecord(body) && body.type === 'error' && isRecord(body.error)) return body;
      // OpenAI/Mistral types are coarser than the status (401, 403, 404, 413, 529 all differ in Anthropic).
      const type = from === 'anthropic-messages' && info.type !== undefined ? info.type : status >= 400 ? mapStatusToAnthropicErrorType(status) : mapOpenAiErrorTypeToAnthropic(info.type, info.code);
      return { type: 'error', error: { type, message: info.message } };
    }
    default:
      return assertNever(to, 'wire format');
  }
}

/** An Anthropic error type is mapped (and kept as `code`); an OpenAI one is used as is. */
export function convertToOpenAiErrorPayload(error: { type: string; message: string }): JsonObject {
  const anthropic = isAnthropicType(error.type) && error.type !== 'invalid_request_error' && error.type !== 'rate_limit_error';
  return {
    error: {
      message: error.message,
      type: anthropic ? mapAnthropicErrorTypeToOpenAi(error.type) : error.type,
      param: null,
      code: anthropic ? error.type : null,
    },
  };
}

export function convertToAnthropicErrorPayload(error: { type: string; message: string }): JsonObject {
  return { type: 'error', error: { type: isAnthropicType(error.type) ? error.type : mapOpenAiErrorTypeToAnthropic(error.type, undefined), message: error.message } };
}

const ANTHROPIC_TYPES = new Set([
  'invalid_request_error', 'authentication_error', 'billing_error', 'permission_error', 'not_found_error',
  'request_too_large', 'rate_limit_error', 'api_error', 'overloaded_error', 'timeout_error',
]);

function isAnthropicType(type: string): boolean {
  return ANTHROPIC_TYPES.has(type);
}

/**
 * An error in the client's stream format, for an upstream failure after the first byte. Terminal:
 * send these and close the response (do not call the translator's `end()` afterwards).
 * OpenAI: a `data: {"error":…}` chunk (the SDKs raise on it), then `data: [DONE]`.
 * Anthropic: `event: error`. @see https://docs.anthropic.com/en/docs/build-with-claude/streaming#error-events
 */
export function createStreamErrorEvents(to: WireFormat, error: { type: string; message: string }): SseEvent[] {
  switch (to) {
    case 'openai-chat':
      return [{ data: JSON.stringify(convertToOpenAiErrorPayload(error)) }, { data: '[DONE]' }];
    case 'anthropic-messages':
      return [{ event: 'error', data: JSON.stringify(convertToAnthropicErrorPayload(error)) }];
    default:
      return assertNever(to, 'wire format');
  }
}
