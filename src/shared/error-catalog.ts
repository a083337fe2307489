/**
 * Every error the gateway itself produces, with a stable code. Upstream errors are passed through
 * as they came and are not in this catalog. `openaiType` / `anthropicType` are the `type` values
 * each API's clients know how to react to (see each provider's error reference).
 */
export interface ErrorSpec {
  readonly status: number;
  readonly openaiType: string;
  readonly anthropicType: string;
  /** Worth trying the next target or again later. */
  readonly retryable: boolean;
}

export const ERROR_CATALOG = {
  invalid_json: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error', retryable: false },
  invalid_request: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error', retryable: false },
  unknown_model: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error', retryable: false },
  unknown_provider: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error', retryable: false },
  format_mismatch: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error', retryable: false },
  unsupported_field: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error', retryable: false },
  unknown_tenant: { status: 400, openaiType: 'invalid_request_error', anthropicType: 'invalid_request_error', retryable: false },
  unauthorized: { status: 401, openaiType: 'invalid_request_error', anthropicType: 'authentication_error', retryable: false },
  missing_credential: { status: 401, openaiType: 'invalid_request_error', anthropicType: 'authentication_error', retryable: false },
  host_not_allowed: { status: 403, openaiType: 'invalid_request_error', anthropicType: 'permission_error', retryable: false },
  model_not_allowed: { status: 403, openaiType: 'invalid_request_error', anthropicType: 'permission_error', retryable: false },
  residency_denied: { status: 403, openaiType: 'invalid_request_error', anthropicType: 'permission_error', retryable: false },
  guardrail_blocked: { status: 403, openaiType: 'invalid_request_error', anthropicType: 'permission_error', retryable: false },
  not_found: { status: 404, openaiType: 'invalid_request_error', anthropicType: 'not_found_error', retryable: false },
  input_too_large: { status: 413, openaiType: 'invalid_request_error', anthropicType: 'request_too_large', retryable: false },
  body_too_large: { status: 413, openaiType: 'invalid_request_error', anthropicType: 'request_too_large', retryable: false },
  rate_limited: { status: 429, openaiType: 'rate_limit_error', anthropicType: 'rate_limit_error', retryable: false },
  budget_exceeded: { status: 429, openaiType: 'insufficient_quota', anthropicType: 'rate_limit_error', retryable: false },
  upstream_unreachable: { status: 502, openaiType: 'api_error', anthropicType: 'api_error', retryable: true },
  upstream_invalid_response: { status: 502, openaiType: 'api_error', anthropicType: 'api_error', retryable: true },
  upstream_stream_error: { status: 502, openaiType: 'api_error', anthropicType: 'api_error', retryable: false },
  circuit_open: { status: 503, openaiType: 'api_error', anthropicType: 'overloaded_error', retryable: true },
  upstream_timeout: { status: 504, openaiType: 'api_error', anthropicType: 'api_error', retryable: true },
  shutting_down: { status: 503, openaiType: 'api_error', anthropicType: 'overloaded_error', retryable: true },
  internal_error: { status: 500, openaiType: 'api_error', anthropicType: 'api_error', retryable: false },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CATALOG;
