import { describe, expect, it } from 'vitest';
import { profileSchema, type Profile } from '../../../src/shared/policy-schema.js';
import { compileProfilePolicy, evaluateRequest, type CandidateTarget } from '../../../src/core/policy/index.js';

function profile(extra: Partial<Profile>): Profile {
  return profileSchema.parse({
    tenant: 'acme',
    version: 1,
    providers: [
      { id: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1', region: 'us' },
      { id: 'mistral', kind: 'mistral', baseUrl: 'https://api.mistral.ai/v1', region: 'eu' },
    ],
    ...extra,
  });
}

const targets: CandidateTarget[] = [
  { providerId: 'openai', model: 'gpt-4.1', region: 'us' },
  { providerId: 'mistral', model: 'mistral-large-latest', region: 'eu' },
];
const chat = (content: string): Record<string, unknown> => ({ model: 'smart', messages: [{ role: 'user', content }] });

describe('evaluateRequest', () => {
  it('targets whose model is not allowed are skipped and the rest kept in order', () => {
    const policy = compileProfilePolicy(profile({ models: { allow: ['mistral-*'] } }));
    const r = evaluateRequest({ format: 'openai-chat', body: chat('hi'), requestedModel: 'smart', targets }, policy);
    expect(r.denial).toBeUndefined();
    expect(r.targets.map((t) => t.providerId)).toEqual(['mistral']);
    expect(r.decisions[0]).toEqual({ rule: 'models.allow', outcome: 'skip', detail: 'openai/gpt-4.1' });
  });

  it('no allowed target is model_not_allowed', () => {
    const policy = compileProfilePolicy(profile({ models: { allow: ['claude-*'] } }));
    const r = evaluateRequest({ format: 'openai-chat', body: chat('hi'), requestedModel: 'smart', targets }, policy);
    expect(r.denial?.code).toBe('model_not_allowed');
    expect(r.targets).toEqual([]);
  });

  it('residency keeps only providers in allowed regions', () => {
    const policy = compileProfilePolicy(profile({ residency: { regions: ['eu'] } }));
    const r = evaluateRequest({ format: 'openai-chat', body: chat('hi'), requestedModel: 'smart', targets }, policy);
    expect(r.targets.map((t) => t.providerId)).toEqual(['mistral']);
  });

  it('no provider in an allowed region is residency_denied, and a provider without a region never qualifies', () => {
    const policy = compileProfilePolicy(profile({ residency: { regions: ['ch'] } }));
    const r = evaluateRequest(
      { format: 'openai-chat', body: chat('hi'), requestedModel: 'smart', targets: [...targets, { providerId: 'x', model: 'gpt-4.1' }] },
      policy,
    );
    expect(r.denial?.code).toBe('residency_denied');
  });

  it('the allow-list is checked before residency', () => {
    const policy = compileProfilePolicy(profile({ models: { allow: ['claude-*'] }, residency: { regions: ['ch'] } }));
    const r = evaluateRequest({ format: 'openai-chat', body: chat('hi'), requestedModel: 'smart', targets }, policy);
    expect(r.denial?.code).toBe('model_not_allowed');
  });

  it('guardrails run last and their edits and decisions come back', () => {
    const policy = compileProfilePolicy(profile({ guardrails: { pii: 'redact', maxOutputTokens: 100 } }));
    const body = chat('mail jane@example.com');
    const r = evaluateRequest({ format: 'openai-chat', body, requestedModel: 'smart', targets }, policy);
    expect(r.denial).toBeUndefined();
    expect(r.changed).toBe(true);
    expect(r.body).toMatchObject({ max_completion_tokens: 100, messages: [{ content: 'mail [EMAIL_1]' }] });
    expect(r.decisions.map((d) => `${d.rule}:${d.outcome}`)).toEqual([
      'models.allow:allow',
      'guardrails.pii:redact',
      'guardrails.maxOutputTokens:clamp',
    ]);
  });

  it('a guardrail block denies the request and leaves no targets', () => {
    const policy = compileProfilePolicy(profile({}));
    const r = evaluateRequest({ format: 'openai-chat', body: chat('AKIA' + 'IOSFODNN7EXAMPLE'), requestedModel: 'smart', targets }, policy);
    expect(r.denial?.code).toBe('guardrail_blocked');
    expect(r.targets).toEqual([]);
  });

  it('a profile is compiled once and reused', () => {
    const p = profile({ guardrails: { deny: ['x'] } });
    expect(compileProfilePolicy(p)).toBe(compileProfilePolicy(p));
  });

  it('a budget time zone the runtime does not know fails the profile at compile time', () => {
    expect(() => compileProfilePolicy(profile({ budgets: [{ window: 'day', usd: 1, action: 'block', timeZone: 'Mars/Olympus' }] }))).toThrow(/budgets\[0\]/);
  });
});
