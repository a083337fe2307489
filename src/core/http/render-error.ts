import { ERROR_CATALOG } from '../../shared/error-catalog.js';
import type { ErrorDialect } from '../../shared/wire-format.js';
import type { GatewayError } from '../gateway-error.js';

/**
 * A gateway error in the error format of the API the client spoke.
 * @see https://platform.openai.com/docs/guides/error-codes
 * @see https://docs.anthropic.com/en/api/errors
 */
export function renderErrorBody(dialect: ErrorDialect, err: GatewayError): Record<string, unknown> {
  const spec = ERROR_CATALOG[err.code];
  switch (dialect) {
    case 'openai':
      return { error: { message: err.message, type: spec.openaiType, param: null, code: err.code } };
    case 'anthropic':
      return { type: 'error', error: { type: spec.anthropicType, message: err.message } };
    default: {
      const never: never = dialect;
      throw new Error(`unknown dialect ${String(never)}`);
    }
  }
}
