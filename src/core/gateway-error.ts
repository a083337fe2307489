import { ERROR_CATALOG, type ErrorCode } from '../shared/error-catalog.js';

/** An error the gateway produces itself: a value with a stable code, a status and an actionable message. */
export class GatewayError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly retryable: boolean;
  /** Extra response headers, e.g. `retry-after` for rate limits. */
  readonly headers: Readonly<Record<string, string>>;

  constructor(code: ErrorCode, message: string, opts: { cause?: unknown; headers?: Record<string, string>; status?: number } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'GatewayError';
    this.code = code;
    this.status = opts.status ?? ERROR_CATALOG[code].status;
    this.retryable = ERROR_CATALOG[code].retryable;
    this.headers = opts.headers ?? {};
  }
}

export function isGatewayError(e: unknown): e is GatewayError {
  return e instanceof GatewayError;
}
