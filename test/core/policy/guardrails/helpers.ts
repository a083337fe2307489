export { applyGuardrails, compileGuardrails } from '../../../../src/core/policy/index.js';
import { isGatewayError } from '../../../../src/core/gateway-error.js';

export function isGatewayErrorLike(e: unknown): boolean {
  return isGatewayError(e);
}
