/** The policy engine's pure parts: decisions over (request, compiled profile), pricing, limits. */
export { compileModelGlob, compileModelAllowList, matchesModelGlob, isModelAllowed } from './model-glob.js';
export { CHARS_PER_TOKEN, estimateTokensFromChars } from './token-estimate.js';
export { compileProfilePolicy, type CompiledProfilePolicy } from './compile-profile.js';
export {
  compileGuardrails,
  DEFAULT_PII_ACTION,
  DEFAULT_SECRETS_ACTION,
  type CompiledGuardrails,
  type CompiledDenyRule,
  type GuardrailAction,
} from './guardrails/compile-guardrails.js';
export { applyGuardrails, type GuardrailResult, type GuardrailFindingCount } from './guardrails/apply-guardrails.js';
export { collectTextSlots, type GuardedFormat, type TextSlot } from './guardrails/text-slots.js';
export { requestedOutputTokens, planOutputClamp } from './guardrails/output-limit.js';
export { findPii, findSecrets, resolveOverlaps, type Finding, type FindingKind, type PiiKind, type SecretKind } from './guardrails/detectors.js';
export {
  isLuhnValid,
  isIbanChecksumValid,
  isValidSsn,
  shannonEntropy,
  isLikelySecretValue,
  ASSIGNMENT_MIN_ENTROPY,
} from './guardrails/validators.js';
export { RateLimiter, rateLimitedError, type RateLimits, type RateReservation, type AdmitResult } from './rate-limiter.js';
export {
  BudgetLedger,
  windowKeyFor,
  DEFAULT_RESERVATION_CEILING_USD,
  type BudgetReservation,
  type BudgetAdmitResult,
  type BudgetAdmitOptions,
} from './budget-ledger.js';
export {
  parsePricingTable,
  safeParsePricingTable,
  pricingTableSchema,
  type PricingTable,
  type PriceEntry,
  type LongContextTier,
} from './pricing-table.js';
export {
  computeCost,
  estimateCostUsd,
  findPriceEntry,
  resolveRates,
  type CostOptions,
  type CostResult,
  type Rates,
  type UsageShape,
  type PriceOverrides,
} from './pricing.js';
