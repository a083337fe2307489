import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import Database from 'better-sqlite3';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fingerprintSecret } from '../../src/core/credentials/fingerprint.js';
import { hashAuditEntry, openGatewayStore, type AuditQueryResult } from '../../src/core/storage/index.js';
import { cliTestEnv, runAsc, spawnServe } from '../support/cli-process.js';
import { LOCAL_KEY, PROVIDER_SECRETS, testPolicy } from '../support/gateway-harness.js';
import { startWireUpstream, type WireUpstream } from '../support/wire-upstream.js';

/**
 * The audit trail as an operator meets it: a real `asc serve` process, then `asc audit …` as
 * separate processes on the same data dir. Tampering with one row is named by seq; a `kill -9`
 * under load loses at most the last batch window and leaves a chain that verifies.
 */

let upstream: WireUpstream;
let dir: string;
let policyFile: string;
const env = cliTestEnv(LOCAL_KEY, PROVIDER_SECRETS);

beforeAll(async () => {
  upstream = await startWireUpstream({ requireAuth: PROVIDER_SECRETS });
  dir = await mkdtemp(join(tmpdir(), 'asc-audit-'));
  policyFile = join(dir, 'policy.json');
  // `test` is active; `other` is listed after it, so it is loaded last.
  await writeFile(policyFile, JSON.stringify(testPolicy(upstream, {}, [{ ...(testPolicy(upstream).profiles as object[])[0]!, tenant: 'other', version: 2 }])));
});
afterAll(async () => {
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

describe('asc audit query and asc audit verify', () => {
  const dataDir = (): string => join(dir, 'data-query');
  let atServed = '';
  const traceIds: string[] = [];

  it('answers which tenant used which model with which credential at time T', async () => {
    const serve = await spawnServe(['--data-dir', dataDir(), '--policy', policyFile], env);
    const openai = new OpenAI({ apiKey: LOCAL_KEY, baseURL: `${serve.url}/v1`, maxRetries: 0 });
    const anthropic = new Anthropic({ apiKey: LOCAL_KEY, baseURL: serve.url, maxRetries: 0 });
    const a = await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'who am i' }] }).withResponse();
    atServed = new Date().toISOString();
    const b = await anthropic.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: [{ role: 'user', content: 'and me' }] }, { headers: { 'x-asc-tenant': 'other' } })
      .withResponse();
    traceIds.push(a.response.headers.get('x-asc-request-id')!, b.response.headers.get('x-asc-request-id')!);
    serve.child.kill('SIGTERM');
    expect(await serve.exited).toBe(0);

    const res = await runAsc(['audit', 'query', '--at', atServed, '--json', '--data-dir', dataDir()], { env });
    expect(res.code, res.stderr).toBe(0);
    const q = JSON.parse(res.stdout) as AuditQueryResult;
    const byTrace = new Map(q.requests.map((r) => [r.detail.traceId, r]));
    expect(byTrace.get(traceIds[0])).toMatchObject({
      type: 'request.served',
      tenant: 'test',
      profile_version: 1,
      detail: { modelUsed: 'gpt-4.1-mini', providerId: 'openai', credentialFingerprint: fingerprintSecret(PROVIDER_SECRETS.openai), status: 200 },
    });
    expect(byTrace.get(traceIds[1])).toMatchObject({
      tenant: 'other',
      profile_version: 2,
      detail: { modelUsed: 'claude-haiku-4-5', providerId: 'anthropic', credentialFingerprint: fingerprintSecret(PROVIDER_SECRETS.anthropic) },
    });
    // The profile in force at T is the active one, not whichever profile happened to be loaded last.
    expect(q.activeProfile).toMatchObject({ tenant: 'test', profile_version: 1 });

    const forOther = JSON.parse((await runAsc(['audit', 'query', '--at', atServed, '--tenant', 'other', '--json', '--data-dir', dataDir()], { env })).stdout) as AuditQueryResult;
    expect(forOther.requests.map((r) => r.detail.traceId)).toEqual([traceIds[1]]);
    expect(forOther.activeProfile).toMatchObject({ tenant: 'other', profile_version: 2 });

    const text = await runAsc(['audit', 'query', '--at', atServed, '--data-dir', dataDir()], { env });
    expect(text.stdout).toContain('active profile: test v1');
    expect(text.stdout).toContain(fingerprintSecret(PROVIDER_SECRETS.openai));
    expect(text.stdout).toContain(traceIds[0]);
    for (const secret of [...Object.values(PROVIDER_SECRETS), LOCAL_KEY]) expect(text.stdout + res.stdout).not.toContain(secret);
  });

  it('answers with the profile switched to, after asc profiles use', async () => {
    await sleep(5);
    const use = await runAsc(['profiles', 'use', 'other', '--data-dir', dataDir()], { env });
    expect(use.code, use.stderr).toBe(0);
    await sleep(5);
    const q = JSON.parse((await runAsc(['audit', 'query', '--at', new Date().toISOString(), '--json', '--data-dir', dataDir()], { env })).stdout) as AuditQueryResult;
    expect(q.activeProfile).toMatchObject({ type: 'profile.switched', tenant: 'other', profile_version: 2 });
    // Asked about the earlier moment, the answer is still the profile in force then.
    const before = JSON.parse((await runAsc(['audit', 'query', '--at', atServed, '--json', '--data-dir', dataDir()], { env })).stdout) as AuditQueryResult;
    expect(before.activeProfile).toMatchObject({ tenant: 'test' });
  });

  it('verifies an untouched chain (exit 0), then names the seq of the one row edited behind its back', async () => {
    const ok = await runAsc(['audit', 'verify', '--data-dir', dataDir()], { env });
    expect(ok.code, ok.stderr).toBe(0);
    expect(ok.stdout).toMatch(/^audit chain OK: \d+ entries\n$/);

    const db = new Database(join(dataDir(), 'asc.db'));
    try {
      // A request's audit entry is held in its trace row.
      const row = db.prepare(`SELECT audit_seq AS seq FROM traces WHERE id = ?`).get(traceIds[0]) as { seq: number };
      // Rewrite history: the request "used" another model.
      db.prepare(`UPDATE traces SET model_used = 'gpt-4o' WHERE audit_seq = ?`).run(row.seq);
      const bad = await runAsc(['audit', 'verify', '--data-dir', dataDir()], { env });
      expect(bad.code).not.toBe(0);
      expect(bad.stdout).toBe('');
      expect(bad.stderr).toContain(`audit chain BROKEN at entry ${row.seq}: hash mismatch`);

      // A tamperer who also recomputes that entry's hash breaks the next link instead.
      const store = openGatewayStore({ dataDir: dataDir(), readonly: true });
      const edited = store.exportAudit({}).find((e) => e.seq === row.seq);
      store.close();
      if (!edited) throw new Error(`entry ${row.seq} missing from the export`);
      expect(edited.detail.modelUsed).toBe('gpt-4o');
      db.prepare(`UPDATE traces SET audit_hash = ? WHERE audit_seq = ?`).run(hashAuditEntry(edited.prev_hash, edited), row.seq);
      const next = await runAsc(['audit', 'verify', '--data-dir', dataDir()], { env });
      expect(next.code).not.toBe(0);
      expect(next.stderr).toContain(`audit chain BROKEN at entry ${row.seq + 1}: prev link mismatch`);
    } finally {
      db.close();
    }
  });
});

describe('kill -9 under load', () => {
  it('loses at most the last batch window; the chain verifies and the database is intact', async () => {
    const dataDir = join(dir, 'data-crash');
    const serve = await spawnServe(['--data-dir', dataDir, '--policy', policyFile], env);
    const openai = new OpenAI({ apiKey: LOCAL_KEY, baseURL: `${serve.url}/v1`, maxRetries: 0 });
    const anthropic = new Anthropic({ apiKey: LOCAL_KEY, baseURL: serve.url, maxRetries: 0 });

    /** Trace id (x-asc-request-id) → when the client had the whole answer. */
    const completed = new Map<string, number>();
    let killed = false;
    let sent = 0;
    const MAX_REQUESTS = 3_000;
    const worker = async (w: number): Promise<void> => {
      while (!killed && sent < MAX_REQUESTS) {
        const i = sent++;
        try {
          const { response } =
            w % 2 === 0
              ? await openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `load ${i}` }] }).withResponse()
              : await anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 30, messages: [{ role: 'user', content: `load ${i}` }] }).withResponse();
          completed.set(response.headers.get('x-asc-request-id')!, Date.now());
        } catch {
          if (killed) return; // the connection died with the process
          throw new Error(`request ${i} failed before the kill`);
        }
      }
    };
    const load = Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
    await sleep(1_000);
    killed = true;
    const killedAt = Date.now();
    serve.child.kill('SIGKILL');
    await serve.exited;
    await load;
    expect(completed.size).toBeGreaterThan(50);

    const verify = await runAsc(['audit', 'verify', '--data-dir', dataDir], { env });
    expect(verify.code, verify.stderr).toBe(0);

    const db = new Database(join(dataDir, 'asc.db'), { readonly: true });
    let present: Set<string>;
    let requestEntries: number;
    try {
      expect(db.pragma('integrity_check', { simple: true })).toBe('ok');
      present = new Set((db.prepare(`SELECT id FROM traces`).all() as { id: string }[]).map((r) => r.id));
      requestEntries = (db.prepare(`SELECT COUNT(*) AS n FROM traces WHERE audit_seq IS NOT NULL AND audit_type LIKE 'request.%'`).get() as { n: number }).n;
    } finally {
      db.close();
    }
    // Each committed trace carries its audit entry.
    expect(requestEntries).toBe(present.size);
    const lost = [...completed].filter(([id]) => !present.has(id));
    const BATCH_WINDOW_MS = 250;
    for (const [id, at] of lost) expect(killedAt - at, `trace ${id} answered ${killedAt - at} ms before the kill was lost`).toBeLessThanOrEqual(BATCH_WINDOW_MS);
    const inLastWindow = [...completed.values()].filter((at) => killedAt - at <= BATCH_WINDOW_MS).length;
    expect(lost.length).toBeLessThanOrEqual(inLastWindow);
  });
});
