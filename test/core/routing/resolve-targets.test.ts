import { describe, expect, it } from 'vitest';
import type { Profile, ProviderKind } from '../../../src/shared/policy-schema.js';
import { resolveTargets, type ResolveTargetsInput } from '../../../src/core/routing/resolve-targets.js';
import { isGatewayError } from '../../../src/core/gateway-error.js';

const PROVIDERS: Profile['providers'] = [
  { id: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1', region: 'us' },
  { id: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com', region: 'us' },
  { id: 'mistral', kind: 'mistral', baseUrl: 'https://api.mistral.ai', region: 'eu' },
  { id: 'azure-eu', kind: 'openai', baseUrl: 'https://eu.example.com/v1', region: 'eu' },
];

function profile(extra: Partial<Profile> = {}): Profile {
  return { tenant: 'acme', version: 1, providers: PROVIDERS, ...extra };
}

function resolve(p: Profile, requestedModel: string, overrides: Partial<ResolveTargetsInput> = {}) {
  return resolveTargets({
    profile: p,
    requestedModel,
    canServe: () => true,
    isModelAllowed: () => true,
    routeName: '/v1/chat/completions',
    ...overrides,
  });
}

const refs = (r: ReturnType<typeof resolve>) => r.targets.map((t) => `${t.provider.id}/${t.model}`);

function errorCodeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (e) {
    return isGatewayError(e) ? e.code : `not a GatewayError: ${String(e)}`;
  }
  return undefined;
}

describe('resolveTargets', () => {
  it('routes a bare model by its family to the first provider of that kind', () => {
    expect(refs(resolve(profile(), 'gpt-4.1'))).toEqual(['openai/gpt-4.1']);
    expect(refs(resolve(profile(), 'claude-sonnet-4-5'))).toEqual(['anthropic/claude-sonnet-4-5']);
    expect(refs(resolve(profile(), 'mistral-large-latest'))).toEqual(['mistral/mistral-large-latest']);
  });

  it('expands an alias to its targets in order and records the decision', () => {
    const p = profile({ models: { aliases: { smart: ['anthropic/claude-sonnet-4-5', 'openai/gpt-4.1', 'mistral-large-latest'] } } });
    const r = resolve(p, 'smart');
    expect(refs(r)).toEqual(['anthropic/claude-sonnet-4-5', 'openai/gpt-4.1', 'mistral/mistral-large-latest']);
    expect(r.decisions[0]).toMatchObject({ rule: 'alias', outcome: 'allow' });
  });

  it('appends models.fallbacks after the requested model, also when it names a provider', () => {
    const p = profile({ models: { fallbacks: { 'claude-sonnet-4-5': ['openai/gpt-4.1', 'mistral/mistral-large-latest'] } } });
    expect(refs(resolve(p, 'claude-sonnet-4-5'))).toEqual(['anthropic/claude-sonnet-4-5', 'openai/gpt-4.1', 'mistral/mistral-large-latest']);
    expect(refs(resolve(p, 'anthropic/claude-sonnet-4-5'))).toEqual(['anthropic/claude-sonnet-4-5', 'openai/gpt-4.1', 'mistral/mistral-large-latest']);
  });

  it('takes an explicit provider prefix over the model family', () => {
    expect(refs(resolve(profile(), 'azure-eu/gpt-4.1'))).toEqual(['azure-eu/gpt-4.1']);
    // A custom model name the family rules do not know is fine with a provider prefix.
    expect(refs(resolve(profile(), 'azure-eu/my-deployment'))).toEqual(['azure-eu/my-deployment']);
  });

  it('refuses an unknown model with unknown_model, but skips an unroutable alias target', () => {
    expect(errorCodeOf(() => resolve(profile(), 'llama-3'))).toBe('unknown_model');
    const r = resolve(profile({ models: { aliases: { mix: ['nowhere/thing', 'llama-3', 'gpt-4.1'] } } }), 'mix');
    expect(refs(r)).toEqual(['openai/gpt-4.1']);
    expect(r.decisions.filter((d) => d.rule === 'routing' && d.outcome === 'skip')).toHaveLength(2);
  });

  it('denies a requested model the allow-list refuses (never swaps in a fallback)', () => {
    const p = profile({ models: { fallbacks: { 'gpt-4.1': ['anthropic/claude-sonnet-4-5'] } } });
    expect(errorCodeOf(() => resolve(p, 'gpt-4.1', { isModelAllowed: (m) => m !== 'gpt-4.1' }))).toBe('model_not_allowed');
  });

  it('skips a disallowed fallback or alias target and keeps the rest', () => {
    const p = profile({ models: { fallbacks: { 'gpt-4.1': ['anthropic/claude-sonnet-4-5', 'mistral/mistral-large-latest'] } } });
    const r = resolve(p, 'gpt-4.1', { isModelAllowed: (m) => !m.startsWith('claude-') });
    expect(refs(r)).toEqual(['openai/gpt-4.1', 'mistral/mistral-large-latest']);
    expect(r.decisions).toContainEqual(expect.objectContaining({ rule: 'models.allow', outcome: 'skip' }));

    const alias = profile({ models: { aliases: { smart: ['anthropic/claude-sonnet-4-5', 'openai/gpt-4.1'] } } });
    expect(refs(resolve(alias, 'smart', { isModelAllowed: (m) => !m.startsWith('claude-') }))).toEqual(['openai/gpt-4.1']);
  });

  it('denies an alias when none of its targets is allowed', () => {
    const alias = profile({ models: { aliases: { smart: ['anthropic/claude-sonnet-4-5'] } } });
    expect(errorCodeOf(() => resolve(alias, 'smart', { isModelAllowed: () => false }))).toBe('model_not_allowed');
  });

  it('filters by residency, failing closed for a provider without a region', () => {
    const providers: Profile['providers'] = [...PROVIDERS, { id: 'noregion', kind: 'openai', baseUrl: 'https://x.example.com/v1' }];
    const p = profile({ providers, residency: { regions: ['eu'] }, models: { aliases: { any: ['openai/gpt-4.1', 'noregion/gpt-4.1', 'azure-eu/gpt-4.1', 'mistral-small-latest'] } } });
    const r = resolve(p, 'any');
    expect(refs(r)).toEqual(['azure-eu/gpt-4.1', 'mistral/mistral-small-latest']);
    expect(r.decisions.filter((d) => d.rule === 'residency' && d.outcome === 'skip').map((d) => d.detail)).toEqual([
      'openai region us not in [eu]',
      'noregion region unset not in [eu]',
    ]);
    expect(errorCodeOf(() => resolve(p, 'claude-sonnet-4-5'))).toBe('residency_denied');
  });

  it('drops targets whose provider kind cannot serve the route, and refuses when none can', () => {
    const canServe = (k: ProviderKind) => k !== 'anthropic';
    const p = profile({ models: { aliases: { smart: ['anthropic/claude-sonnet-4-5', 'openai/gpt-4.1'] } } });
    expect(refs(resolve(p, 'smart', { canServe }))).toEqual(['openai/gpt-4.1']);
    expect(errorCodeOf(() => resolve(p, 'claude-sonnet-4-5', { canServe }))).toBe('format_mismatch');
  });
});
