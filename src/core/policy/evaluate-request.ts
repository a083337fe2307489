import type { Decision } from '../../shared/trace.js';
import { GatewayError } from '../gateway-error.js';
import type { CompiledProfilePolicy } from './compile-profile.js';
import { applyGuardrails, type GuardrailFindingCount } from './guardrails/apply-guardrails.js';
import type { GuardedFormat } from './guardrails/text-slots.js';

/**
 * The stateless part of policy, in order: model allow-list → residency → guardrails. Rate limits
 * and budgets hold state and are called separately by the gateway after this passes.
 */

/** One place the request could go, after alias expansion. */
export interface CandidateTarget {
  providerId: string;
  model: string;
  /** The provider's configured region; a target without one fails any residency rule. */
  region?: string | undefined;
}

export interface RequestFacts {
  format: GuardedFormat;
  body: Record<string, unknown>;
  /** What the client asked for (an alias or a model), for messages. */
  requestedModel: string;
  /** Candidate targets in fallback order. */
  targets: readonly CandidateTarget[];
}

export interface PolicyEvaluation {
  decisions: Decision[];
  /** Targets that passed allow-list and residency, in the original order. */
  targets: CandidateTarget[];
  /** The body to send (redacted / clamped), the same reference when unchanged. */
  body: Record<string, unknown>;
  changed: boolean;
  findings: GuardrailFindingCount[];
  denial?: GatewayError;
}

export function evaluateRequest(facts: RequestFacts, policy: CompiledProfilePolicy): PolicyEvaluation {
  const decisions: Decision[] = [];
  const deny = (denial: GatewayError): PolicyEvaluation => ({
    decisions,
    targets: [],
    body: facts.body,
    changed: false,
    findings: [],
    denial,
  });

  const allowed = facts.targets.filter((t) => policy.isModelAllowed(t.model));
  for (const t of facts.targets) {
    if (!allowed.includes(t)) decisions.push({ rule: 'models.allow', outcome: 'skip', detail: `${t.providerId}/${t.model}` });
  }
  if (allowed.length === 0) {
    decisions.push({ rule: 'models.allow', outcome: 'deny', detail: facts.requestedModel });
    return deny(
      new GatewayError('model_not_allowed', `Model "${facts.requestedModel}" is not allowed by tenant "${policy.profile.tenant}"'s profile.`),
    );
  }
  decisions.push({ rule: 'models.allow', outcome: 'allow', detail: allowed.map((t) => `${t.providerId}/${t.model}`).join(', ') });

  let inRegion = allowed;
  const regions = policy.residencyRegions;
  if (regions) {
    inRegion = allowed.filter((t) => t.region !== undefined && regions.has(t.region));
    for (const t of allowed) {
      if (!inRegion.includes(t)) {
        decisions.push({ rule: 'residency', outcome: 'skip', detail: `${t.providerId} (${t.region ?? 'no region'})` });
      }
    }
    if (inRegion.length === 0) {
      decisions.push({ rule: 'residency', outcome: 'deny', detail: `allowed regions: ${[...regions].join(', ') || 'none'}` });
      return deny(
        new GatewayError(
          'residency_denied',
          `No provider for "${facts.requestedModel}" is in a region this profile allows (${[...regions].join(', ') || 'none'}).`,
        ),
      );
    }
    decisions.push({ rule: 'residency', outcome: 'allow', detail: inRegion.map((t) => `${t.providerId} (${t.region})`).join(', ') });
  }

  const g = applyGuardrails(facts.format, facts.body, policy.guardrails);
  decisions.push(...g.decisions);
  const result: PolicyEvaluation = { decisions, targets: inRegion, body: g.body, changed: g.changed, findings: g.findings };
  if (g.blocked) {
    result.targets = [];
    result.denial = g.blocked;
  }
  return result;
}
