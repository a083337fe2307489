import type { Budget, Profile } from '../../shared/policy-schema.js';
import type { Decision } from '../../shared/trace.js';
import type { RouteId } from '../../shared/wire-format.js';
import {
  applyGuardrails,
  BudgetLedger,
  compileGuardrails,
  compileProfilePolicy,
  estimateCostUsd,
  estimateTokensFromChars,
  RateLimiter,
  rateLimitedError,
  requestedOutputTokens,
  windowKeyFor,
  type GuardedFormat,
  type PricingTable,
} from '../policy/index.js';
import { defaultMaxOutputTokens } from '../translate/index.js';
import type { Admission, Denial, GuardInput, RequestGuard } from './request-guard.js';

const GUARDED_FORMAT: Record<RouteId, GuardedFormat | null> = {
  'openai.chat': 'openai-chat',
  'openai.embeddings': 'openai-embeddings',
  'openai.responses': 'openai-responses',
  'anthropic.messages': 'anthropic-messages',
  'anthropic.count_tokens': 'anthropic-messages',
  'mistral.fim': 'mistral-fim',
  'openai.models': null,
  gateway: null,
};

export interface PolicyGuardDeps {
  pricing: PricingTable;
  rateLimiter?: RateLimiter;
  budgets?: BudgetLedger;
}

export interface PolicyGuard extends RequestGuard {
  readonly budgets: BudgetLedger;
  readonly rateLimiter: RateLimiter;
}

/**
 * The profile enforced between routing (allow-list, residency: see resolve-targets) and the
 * upstream call, in the order the profile promises: guardrails, rate limits, budgets. Each
 * decision lands on the trace; reservations are reconciled with real usage in `settle`.
 */
export function createPolicyGuard(deps: PolicyGuardDeps): PolicyGuard {
  const rateLimiter = deps.rateLimiter ?? new RateLimiter();
  const budgets = deps.budgets ?? new BudgetLedger();

  function admit(input: GuardInput): Admission | Denial {
    const compiled = compileProfilePolicy(input.profile);
    const format = GUARDED_FORMAT[input.route.id];
    if (format === null) return { ok: true, body: input.body, decisions: [], settle: () => {}, capturedBody: null };

    const guarded = applyGuardrails(format, input.body, compiled.guardrails);
    // applyGuardrails returns a new array on every call: the guard appends its own decisions to it.
    const decisions: Decision[] = guarded.decisions;
    if (guarded.blocked) return { ok: false, error: guarded.blocked, decisions };
    const body = guarded.body;
    const capturedBody = captureOf(input.profile, format, input.body, body);

    // Counting tokens costs nothing upstream: no reservation to make.
    if (input.route.op === 'count_tokens') return { ok: true, body, decisions, settle: () => {}, capturedBody };

    const tenant = input.profile.tenant;
    const first = input.targets[0]!;
    const inputTokens = estimateTokensFromChars(guarded.inputChars);
    const outputTokens = requestedOutputTokens(format, body) ?? (format === 'openai-embeddings' ? 0 : defaultMaxOutputTokens(first.model));

    const rate = compiled.rateLimits ? rateLimiter.admit(tenant, compiled.rateLimits, inputTokens + outputTokens, input.nowMs) : null;
    if (rate !== null) {
      if (!rate.ok) {
        const wanted = rate.limit === 'tpm' ? `: ${rate.tokensWanted} tokens wanted, ${rate.tokensFree} free` : '';
        decisions.push({ rule: 'rate_limits', outcome: 'deny', detail: `${rate.limit} limit${wanted}; retry after ${rate.retryAfterSeconds}s` });
        return { ok: false, error: rateLimitedError(rate, tenant), decisions };
      }
      if (compiled.rateLimitsAllowed !== null) decisions.push(compiled.rateLimitsAllowed);
    }

    let budget: ReturnType<BudgetLedger['admit']> | null = null;
    if (compiled.budgets.length > 0) {
      const estimate = estimateCostUsd(first.provider.kind, first.model, inputTokens, outputTokens, deps.pricing, compiled.prices);
      budget = budgets.admit(tenant, compiled.budgets, estimate, input.nowMs, { reservationCeilingUsd: compiled.reservationCeilingUsd });
      decisions.push(...budget.decisions);
      if (!budget.ok) {
        if (rate?.ok) rateLimiter.release(rate.reservation);
        return { ok: false, error: budget.error, decisions };
      }
    }

    return {
      ok: true,
      body,
      decisions,
      capturedBody,
      settle({ usage, costUsd }) {
        if (rate?.ok) rateLimiter.reconcile(rate.reservation, (usage?.inputTokens ?? 0) + (usage?.outputTokens ?? 0));
        if (budget?.ok) budgets.reconcile(budget.reservation, costUsd);
      },
    };
  }

  return { admit, budgets, rateLimiter };
}

/** `full` capture still never stores a secret: keys and tokens are masked, PII is kept. */
const SECRETS_ONLY = compileGuardrails({ pii: 'off', secrets: 'redact' });

/**
 * Bodies are kept only when the profile asks: as sent upstream, after guardrails (`redacted`), or
 * as the client sent them with secrets masked (`full`).
 */
function captureOf(profile: Profile, format: GuardedFormat, original: Record<string, unknown>, guarded: Record<string, unknown>): string | null {
  switch (profile.logging?.capture ?? 'metadata') {
    case 'metadata':
      return null;
    case 'redacted':
      return JSON.stringify(guarded);
    case 'full':
      return JSON.stringify(applyGuardrails(format, original, SECRETS_ONLY).body);
  }
}

/**
 * Start of the budget window containing `nowMs`, for seeding the ledger with spend already
 * recorded. Time-zone windows find the zone's offset at local midnight.
 */
export function budgetWindowStartMs(budget: Pick<Budget, 'window' | 'timeZone'>, nowMs: number): number {
  const key = windowKeyFor(budget, nowMs);
  const [, date] = /^(?:day|month):([\d-]+)/.exec(key) ?? [];
  const [y, m, d] = (date ?? '').split('-').map(Number);
  const localMidnightAsUtc = Date.UTC(y!, m! - 1, budget.window === 'day' ? d! : 1);
  if (budget.timeZone === undefined) return localMidnightAsUtc;
  return localMidnightAsUtc - zoneOffsetMs(budget.timeZone, localMidnightAsUtc);
}

function zoneOffsetMs(timeZone: string, atMs: number): number {
  const parts = new Intl.DateTimeFormat('en-US', {
    timeZone,
    hourCycle: 'h23',
    year: 'numeric',
    month: '2-digit',
    day: '2-digit',
    hour: '2-digit',
    minute: '2-digit',
    second: '2-digit',
  }).formatToParts(atMs);
  const get = (t: string): number => Number(parts.find((p) => p.type === t)?.value);
  return Date.UTC(get('year'), get('month') - 1, get('day'), get('hour'), get('minute'), get('second')) - atMs;
}
