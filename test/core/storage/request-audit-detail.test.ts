import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../../src/core/storage/canonical-json.js';
import { scrubSecrets } from '../../../src/core/storage/secret-scrub.js';
import { mapTraceToAuditEvent, requestAuditDetailJson, scrubTraceForStorage } from '../../../src/core/storage/trace-rows.js';
import type { Trace } from '../../../src/shared/trace.js';

const base: Trace = {
  id: '01a21c81-228f-7f02-a3ec-6477bf755f87',
  startedAt: '2026-11-27T10:00:00.000Z',
  endedAt: '2026-11-27T10:00:00.120Z',
  tenant: 'acme',
  profileVersion: 3,
  clientKeyId: 'abcd1234',
  route: 'openai.chat',
  method: 'POST',
  modelRequested: 'smart',
  providerId: 'anthropic',
  providerRegion: 'us',
  modelUsed: 'claude-sonnet-4-5',
  credentialFingerprint: 'deadbeef',
  status: 200,
  errorCode: null,
  latencyMs: 120,
  ttftMs: 40,
  streamed: true,
  usage: { inputTokens: 10, outputTokens: 5, cachedInputTokens: 0, cacheWriteTokens: null },
  costUsd: 0.000123,
  costNote: null,
  attempts: [],
  decisions: [],
  warnings: [],
};

describe('the request audit detail written on the hot path', () => {
  it.each<[string, Partial<Trace>]>([
    ['a served request', {}],
    ['a denied request with its rules', { status: 403, errorCode: 'model_not_allowed', costUsd: 0, decisions: [{ rule: 'models.allow', outcome: 'deny' }, { rule: 'residency', outcome: 'deny' }] }],
    ['nulls everywhere', { tenant: null, providerId: null, providerRegion: null, modelUsed: null, credentialFingerprint: null, costUsd: null, modelRequested: null }],
    ['a key-looking model name, which is masked', { modelRequested: 'sk-proj-abcdefghijklmnopqrstuvwxyz012345' }],
    ['unicode and quotes', { modelRequested: 'modèle "x" \u2028 \\' }],
  ])('is the canonical JSON of the generic mapping for %s', (_name, patch) => {
    const trace = { ...base, ...patch };
    expect(requestAuditDetailJson(scrubTraceForStorage(trace))).toBe(canonicalJson(scrubSecrets(mapTraceToAuditEvent(trace).detail)));
  });

  it('never carries a provider key given as a model name', () => {
    expect(requestAuditDetailJson(scrubTraceForStorage({ ...base, modelRequested: 'sk-ant-api03-abcdefghijklmnopqrstuvwxyz' }))).not.toContain('abcdefghijklmnop');
  });

  it('masks the stored trace the same way, and leaves a clean trace as the same object', () => {
    expect(scrubTraceForStorage(base)).toBe(base);
    const stored = scrubTraceForStorage({ ...base, modelUsed: 'sk-proj-abcdefghijklmnopqrstuvwxyz012345' });
    expect(stored.modelUsed).not.toContain('abcdefghijklmnop');
    expect(stored).toMatchObject({ ...base, modelUsed: stored.modelUsed });
  });
});
