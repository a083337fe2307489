import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Trace } from '../../src/shared/trace.js';
import { runAsc } from '../support/cli-process.js';
import { startTestGateway, type TestGateway } from '../support/gateway-harness.js';
import type { WireUpstream } from '../support/wire-upstream.js';

/**
 * Changing the profile while requests are in flight: every request runs under exactly one
 * profile (the tenant and version its trace names), switches and edits take effect on the next
 * request without a restart, and an edit that cannot be enforced leaves the last good profiles.
 */

const A = { tenant: 'team-a', version: 3, allow: 'gpt-*', maxOut: 30 };
const B = { tenant: 'team-b', version: 8, allow: 'claude-*', maxOut: 60 };

function profile(upstream: WireUpstream, p: { tenant: string; version: number; allow: string | string[]; maxOut: number }): Record<string, unknown> {
  return {
    tenant: p.tenant,
    version: p.version,
    providers: [
      { id: 'openai', kind: 'openai', baseUrl: upstream.baseUrls.openai },
      { id: 'anthropic', kind: 'anthropic', baseUrl: upstream.baseUrls.anthropic },
    ],
    models: { allow: Array.isArray(p.allow) ? p.allow : [p.allow] },
    guardrails: { maxOutputTokens: p.maxOut },
  };
}

let t: TestGateway;
let policyFile: string;
beforeAll(async () => {
  t = await startTestGateway({ policy: (u) => ({ active: A.tenant, profiles: [profile(u, A), profile(u, B)] }) });
  policyFile = join(t.dataDir, 'policy.json');
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  t.upstream.reset();
  t.drainTraces();
});

const MODELS = ['gpt-4.1-mini', 'claude-haiku-4-5'] as const;

/** One request, through either SDK, to either model family; the outcome comes back on the trace. */
function send(i: number, tenant?: string): Promise<unknown> {
  const model = MODELS[i % 2]!;
  const opts = tenant ? { headers: { 'x-asc-tenant': tenant } } : undefined;
  const req =
    Math.floor(i / 2) % 2 === 0
      ? t.openai.chat.completions.create({ model, max_tokens: 500, messages: [{ role: 'user', content: `req ${i}` }] }, opts)
      : t.anthropic.messages.create({ model, max_tokens: 500, messages: [{ role: 'user', content: `req ${i}` }] }, opts);
  return req.catch((e: unknown) => {
    if (e instanceof OpenAI.APIError || e instanceof Anthropic.APIError) return e;
    throw e;
  });
}

/** The decisions a trace must show if it ran under exactly the profile it names. */
function expectConsistent(trace: Trace): void {
  const p = trace.tenant === A.tenant ? A : trace.tenant === B.tenant ? B : null;
  expect(p, `trace ${trace.id} names tenant ${trace.tenant}`).not.toBeNull();
  expect(trace.profileVersion).toBe(p!.version);
  const allowed = trace.modelRequested!.startsWith(p!.allow.replace('*', ''));
  const allow = trace.decisions.find((d) => d.rule === 'models.allow');
  if (allowed) {
    expect(trace.status).toBe(200);
    expect(allow?.outcome).toBe('allow');
    expect(trace.decisions.find((d) => d.rule === 'guardrails.maxOutputTokens')?.detail).toBe(`max_tokens 500 → ${p!.maxOut}`);
  } else {
    expect(trace.status).toBe(403);
    expect(allow).toEqual({ rule: 'models.allow', outcome: 'deny', detail: trace.modelRequested });
  }
}

describe('switching the active profile under load', () => {
  it('never mixes two profiles in one request, and new requests use the new profile', async () => {
    // Bounded in time and count: until 400 ms after the CLI returned (the watch needs a moment),
    // never past 4 s, never more than 600 requests.
    const started = Date.now();
    const MAX_REQUESTS = 600;
    let sent = 0;
    let switchedAt = 0;
    const running = (): boolean => {
      const now = Date.now();
      return sent < MAX_REQUESTS && now < started + 4_000 && (switchedAt === 0 || now < switchedAt + 400);
    };
    const worker = async (): Promise<void> => {
      while (running()) await send(sent++);
    };
    const switcher = (async () => {
      await new Promise((r) => setTimeout(r, 300));
      const res = await runAsc(['profiles', 'use', B.tenant, '--data-dir', t.dataDir]);
      expect(res.code, res.stderr).toBe(0);
      expect(res.stdout).toBe(`active profile: ${B.tenant} (v${B.version})\n`);
      switchedAt = Date.now();
    })();
    await Promise.all([...Array.from({ length: 6 }, worker), switcher]);
    expect(switchedAt).toBeGreaterThan(0);

    const traces = await t.nextTraces(sent);
    for (const trace of traces) expectConsistent(trace);
    const underA = traces.filter((x) => x.tenant === A.tenant);
    const underB = traces.filter((x) => x.tenant === B.tenant);
    expect(underA.length).toBeGreaterThan(10);
    // The switch landed while the load ran (the settings watch, not a restart).
    expect(underB.length).toBeGreaterThan(0);
    // Once a request ran under B, none started later ran under A.
    const firstB = Math.min(...underB.map((x) => Date.parse(x.startedAt)));
    const lastA = Math.max(...underA.map((x) => Date.parse(x.startedAt)));
    expect(lastA).toBeLessThanOrEqual(firstB + 5);

    // After the switch: B for every new request, whatever the SDK.
    t.drainTraces();
    for (let i = 0; i < 4; i++) await send(i);
    for (const trace of await t.nextTraces(4)) {
      expect(trace).toMatchObject({ tenant: B.tenant, profileVersion: B.version });
      expectConsistent(trace);
    }
    expect(t.gateway.profiles.active().profile.tenant).toBe(B.tenant);
    // The switch is on the audit chain, and the chain written by two processes still verifies.
    const switched = t.gateway.store.exportAudit({}).filter((e) => e.type === 'profile.switched');
    expect(switched.map((e) => [e.tenant, e.profile_version, e.detail])).toEqual([[B.tenant, B.version, { from: A.tenant, to: B.tenant }]]);
    expect(t.gateway.store.verifyAudit()).toMatchObject({ ok: true });
  });
});

describe('editing the policy file', () => {
  async function untilVersion(tenant: string, version: number, timeoutMs = 3_000): Promise<Trace> {
    const end = Date.now() + timeoutMs;
    for (;;) {
      t.drainTraces();
      await send(0, tenant);
      const [trace] = await t.nextTraces();
      if (trace!.profileVersion === version || Date.now() > end) return trace!;
      await new Promise((r) => setTimeout(r, 25));
    }
  }

  it('takes effect on the next request after the edit, without a restart', async () => {
    await writeFile(policyFile, JSON.stringify({ active: A.tenant, profiles: [profile(t.upstream, { ...A, version: 4, allow: 'claude-*' }), profile(t.upstream, B)] }));
    const trace = await untilVersion(A.tenant, 4);
    expect(trace).toMatchObject({ tenant: A.tenant, profileVersion: 4, modelRequested: 'gpt-4.1-mini', status: 403, errorCode: 'model_not_allowed' });
    // An edit keeps the active profile the user chose (B, from the previous test).
    expect(t.gateway.profiles.active().profile.tenant).toBe(B.tenant);
    const changed = t.gateway.store.exportAudit({}).filter((e) => e.type === 'profile.changed');
    expect(changed.map((e) => [e.tenant, e.profile_version])).toEqual([[A.tenant, 4]]);
  });

  it('keeps the previous profiles when the edit does not parse or cannot be enforced', async () => {
    await writeFile(policyFile, '{ "active": "team-a", "profiles": [ ');
    await new Promise((r) => setTimeout(r, 250));
    let trace = await untilVersion(A.tenant, 4, 0);
    expect(trace.profileVersion).toBe(4);
    // Valid JSON and schema, but a deny pattern that is not a regular expression: fail closed.
    await writeFile(policyFile, JSON.stringify({ active: A.tenant, profiles: [{ ...profile(t.upstream, { ...A, version: 5 }), guardrails: { deny: ['(unclosed'] } }, profile(t.upstream, B)] }));
    await new Promise((r) => setTimeout(r, 250));
    trace = await untilVersion(A.tenant, 4, 0);
    expect(trace).toMatchObject({ profileVersion: 4, status: 403 });
    expect(t.gateway.profiles.list().find((p) => p.tenant === A.tenant)?.version).toBe(4);
    // A later good edit is still picked up.
    await writeFile(policyFile, JSON.stringify({ active: A.tenant, profiles: [profile(t.upstream, { ...A, version: 6 }), profile(t.upstream, B)] }));
    trace = await untilVersion(A.tenant, 6);
    expect(trace).toMatchObject({ profileVersion: 6, status: 200 });
  });
});
