import type { Decision } from '../../shared/trace.js';
import type { Profile, ProviderConfig, ProviderKind } from '../../shared/policy-schema.js';
import { GatewayError } from '../gateway-error.js';
import { providerKindForModel } from './model-family.js';

export interface RouteTarget {
  provider: ProviderConfig;
  /** Model name as the provider knows it (no `providerId/` prefix). */
  model: string;
}

export interface TargetResolution {
  targets: RouteTarget[];
  decisions: Decision[];
}

export interface ResolveTargetsInput {
  profile: Profile;
  requestedModel: string;
  /** Whether a provider of this kind can serve the route (same format, or translation available). */
  canServe: (kind: ProviderKind) => boolean;
  /** The profile's compiled allow-list. */
  isModelAllowed: (model: string) => boolean;
  /** Human name of the route for messages, e.g. "/v1/messages". */
  routeName: string;
  /**
   * Where decisions are appended as they are taken (returned as `decisions` too). A denial is
   * thrown midway, so a caller that must record the deny decision on the trace passes its own
   * list rather than reading the result.
   */
  decisions?: Decision[];
}

/**
 * Turns the requested model into the ordered list of targets to try: an alias expands to its
 * targets; a model with a `fallbacks` entry gets those after it; `providerId/model` names one
 * provider. Then the allow-list and residency filter the list, each decision recorded. Pure.
 */
export function resolveTargets(input: ResolveTargetsInput): TargetResolution {
  const { profile, requestedModel } = input;
  const decisions: Decision[] = input.decisions ?? [];
  const alias = profile.models?.aliases?.[requestedModel];
  const refs = alias ? [...alias] : [requestedModel, ...(profile.models?.fallbacks?.[stripProviderPrefix(profile, requestedModel)] ?? [])];
  if (alias) decisions.push({ rule: 'alias', outcome: 'allow', detail: `${requestedModel} → ${alias.join(', ')}` });

  const candidates: RouteTarget[] = [];
  refs.forEach((ref, index) => {
    const target = parseTargetRef(profile, ref);
    if (target === null) {
      if (index === 0 && !alias) {
        throw new GatewayError(
          'unknown_model',
          `Model "${ref}" is not routable: use a known model family (gpt-*, claude-*, mistral-*, …), "providerId/model" with a provider of profile "${profile.tenant}", or an alias.`,
        );
      }
      decisions.push({ rule: 'routing', outcome: 'skip', detail: `target "${ref}" has no provider in profile ${profile.tenant}` });
      return;
    }
    candidates.push(target);
  });

  // Models: the requested model itself must be allowed (never silently swap it for a fallback).
  const allowed: RouteTarget[] = [];
  for (const [i, t] of candidates.entries()) {
    if (input.isModelAllowed(t.model)) {
      allowed.push(t);
    } else if (i === 0 && !alias) {
      decisions.push({ rule: 'models.allow', outcome: 'deny', detail: t.model });
      throw new GatewayError('model_not_allowed', `Model "${t.model}" is not allowed by profile "${profile.tenant}".`);
    } else {
      decisions.push({ rule: 'models.allow', outcome: 'skip', detail: `${t.provider.id}/${t.model} not allowed` });
    }
  }
  if (allowed.length === 0) {
    decisions.push({ rule: 'models.allow', outcome: 'deny', detail: requestedModel });
    throw new GatewayError('model_not_allowed', `No target of "${requestedModel}" is allowed by profile "${profile.tenant}".`);
  }
  decisions.push({ rule: 'models.allow', outcome: 'allow', detail: allowed.map(refOf).join(', ') });

  // Residency: fail closed, a provider without a region is not in any allowed region.
  const regions = profile.residency?.regions;
  let resident = allowed;
  if (regions !== undefined) {
    resident = allowed.filter((t) => t.provider.region !== undefined && regions.includes(t.provider.region));
    for (const t of allowed) {
      if (!resident.includes(t)) {
        decisions.push({ rule: 'residency', outcome: 'skip', detail: `${t.provider.id} region ${t.provider.region ?? 'unset'} not in [${regions.join(', ')}]` });
      }
    }
    if (resident.length === 0) {
      decisions.push({ rule: 'residency', outcome: 'deny', detail: `allowed regions: ${regions.join(', ')}` });
      throw new GatewayError(
        'residency_denied',
        `No provider for "${requestedModel}" is in a region profile "${profile.tenant}" allows (${regions.join(', ')}).`,
      );
    }
    decisions.push({ rule: 'residency', outcome: 'allow', detail: resident.map((t) => `${t.provider.id}:${t.provider.region}`).join(', ') });
  }

  const servable = resident.filter((t) => input.canServe(t.provider.kind));
  if (servable.length === 0) {
    const first = resident[0]!;
    throw new GatewayError(
      'format_mismatch',
      `Model "${first.model}" is served by provider "${first.provider.id}" (${first.provider.kind}), which cannot serve ${input.routeName}.`,
    );
  }
  return { targets: servable, decisions };
}

function refOf(t: RouteTarget): string {
  return `${t.provider.id}/${t.model}`;
}

function stripProviderPrefix(profile: Profile, ref: string): string {
  const slash = ref.indexOf('/');
  if (slash > 0 && profile.providers.some((p) => p.id === ref.slice(0, slash))) return ref.slice(slash + 1);
  return ref;
}

/** `providerId/model` when the prefix names a provider of the profile; else the model family decides. */
export function parseTargetRef(profile: Profile, ref: string): RouteTarget | null {
  const slash = ref.indexOf('/');
  if (slash > 0) {
    const provider = profile.providers.find((p) => p.id === ref.slice(0, slash));
    const model = ref.slice(slash + 1);
    if (provider && model.length > 0) return { provider, model };
  }
  const kind = providerKindForModel(ref);
  if (kind === null) return null;
  const provider = profile.providers.find((p) => p.kind === kind);
  return provider ? { provider, model: ref } : null;
}
