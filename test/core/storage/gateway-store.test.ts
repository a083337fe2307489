import { statSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  openGatewayStore,
  SCHEMA_VERSION,
  StoreNotFoundError,
  StoreStateError,
  type GatewayStore,
} from '../../../src/core/storage/index.js';
import { makeTrace, minutesAfterBase } from './fixtures/make-trace.js';
import { makeTempDir } from './fixtures/temp-dir.js';

let dir: string;
let cleanup: () => void;
const open: GatewayStore[] = [];

function openStore(opts: { flushIntervalMs?: number; readonly?: boolean } = {}): GatewayStore {
  const store = openGatewayStore({ dataDir: dir, ...opts });
  open.push(store);
  return store;
}

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(() => {
  try {
    for (const s of open.splice(0)) s.close();
  } finally {
    cleanup();
  }
});

describe('openGatewayStore', () => {
  it('creates asc.db in WAL mode with 16 KB pages at the current schema version, owner-only', () => {
    const store = openStore();
    store.close();
    const db = new Database(join(dir, 'asc.db'), { readonly: true });
    expect(db.pragma('journal_mode', { simple: true })).toBe('wal');
    expect(db.pragma('page_size', { simple: true })).toBe(16_384);
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
    if (process.platform !== 'win32') expect(statSync(join(dir, 'asc.db')).mode & 0o777).toBe(0o600);
  });

  it('refuses a read-only open when there is no database, with a one-line message', () => {
    expect(() => openGatewayStore({ dataDir: join(dir, 'nowhere'), readonly: true })).toThrow(StoreNotFoundError);
    expect(() => openGatewayStore({ dataDir: join(dir, 'nowhere'), readonly: true })).toThrow(/^no ASC database at .*asc\.db/);
  });

  it('refuses a database written by a newer schema', () => {
    openStore().close();
    const db = new Database(join(dir, 'asc.db'));
    db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
    db.close();
    expect(() => openGatewayStore({ dataDir: dir })).toThrow(/newer than this ASC supports/);
    expect(() => openGatewayStore({ dataDir: dir, readonly: true })).toThrow(/newer than this ASC supports/);
  });

  it('a read-only store cannot record', () => {
    openStore().close();
    const ro = openStore({ readonly: true });
    expect(() => ro.recordTrace(makeTrace())).toThrow(StoreStateError);
    expect(() => ro.recordAudit({ type: 'settings.changed', at: minutesAfterBase(0), tenant: null, profileVersion: null, detail: {} })).toThrow(StoreStateError);
  });
});

describe('recording traces', () => {
  it('round-trips a trace and lists newest first', () => {
    const store = openStore();
    const older = makeTrace({ startedAt: minutesAfterBase(0) });
    const newer = makeTrace({ startedAt: minutesAfterBase(1), usage: { inputTokens: 1, outputTokens: null, cachedInputTokens: null, cacheWriteTokens: 5 }, streamed: false, ttftMs: null });
    store.recordTrace(older);
    store.recordTrace(newer);
    store.flush();
    expect(store.recentTraces(10)).toEqual([newer, older]);
    expect(store.recentTraces(1)).toEqual([newer]);
  });

  it('does not write until the batch timer fires, then writes without an explicit flush', async () => {
    const store = openStore({ flushIntervalMs: 20 });
    const reader = new Database(join(dir, 'asc.db'), { readonly: true });
    const count = () => (reader.prepare('SELECT COUNT(*) AS n FROM traces').get() as { n: number }).n;
    store.recordTrace(makeTrace());
    store.recordTrace(makeTrace());
    expect(count()).toBe(0);
    await new Promise((r) => setTimeout(r, 80));
    expect(count()).toBe(2);
    reader.close();
  });

  it('writes a request.served audit entry for a trace in the same batch', () => {
    const store = openStore();
    const t = makeTrace();
    store.recordTrace(t);
    const [entry] = store.exportAudit({});
    expect(entry).toMatchObject({
      seq: 1,
      type: 'request.served',
      tenant: 'acme',
      profile_version: 3,
      detail: { traceId: t.id, modelRequested: 'gpt-4o-mini', modelUsed: 'gpt-4o-mini-2024-07-18', providerId: 'openai', credentialFingerprint: 'fp_ab12cd', status: 200, errorCode: null, costUsd: 0.0012 },
    });
  });

  it('audits a request refused before any upstream as request.denied, naming the rule', () => {
    const store = openStore();
    store.recordTrace(makeTrace({ status: 403, errorCode: 'policy_denied', attempts: [], providerId: null, modelUsed: null, credentialFingerprint: null, costUsd: null, decisions: [{ rule: 'deny-model', outcome: 'deny' }] }));
    store.recordTrace(makeTrace({ status: 502, errorCode: 'upstream_error', attempts: [{ providerId: 'openai', model: 'gpt-4o-mini', outcome: 'error', status: 500, durationMs: 10 }] }));
    expect(store.exportAudit({}).map((e) => [e.type, e.detail.deniedBy])).toEqual([
      ['request.denied', ['deny-model']],
      ['request.served', undefined],
    ]);
  });

  it('ignores a repeated trace id and does not audit it twice', () => {
    const store = openStore();
    const t = makeTrace();
    store.recordTrace(t);
    store.recordTrace({ ...t, status: 500 });
    expect(store.recentTraces(10)).toHaveLength(1);
    expect(store.exportAudit({})).toHaveLength(1);
  });

  it('stores a captured body only when one is given', () => {
    const store = openStore();
    const withBody = makeTrace();
    const without = makeTrace();
    store.recordTrace(withBody, '{"messages":[{"role":"user","content":"[REDACTED]"}]}');
    store.recordTrace(without);
    expect(store.capturedBody(withBody.id)).toContain('[REDACTED]');
    expect(store.capturedBody(without.id)).toBeNull();
  });

  it('normalizes times to UTC ISO so ranges compare correctly', () => {
    const store = openStore();
    store.recordTrace(makeTrace({ startedAt: '2025-03-01T12:00:00+02:00', endedAt: '2025-03-01T12:00:01+02:00' }));
    expect(store.recentTraces(1)[0]?.startedAt).toBe('2025-03-01T10:00:00.000Z');
  });

  it('a read-only store sees what the writer has committed while the writer stays open', () => {
    const writer = openStore();
    writer.recordTrace(makeTrace());
    writer.flush();
    const ro = openStore({ readonly: true });
    expect(ro.recentTraces(5)).toHaveLength(1);
    writer.recordTrace(makeTrace());
    writer.flush();
    expect(ro.recentTraces(5)).toHaveLength(2);
  });

  it('can be read read-only after the writer closed cleanly', () => {
    const writer = openStore();
    writer.recordTrace(makeTrace());
    writer.close();
    expect(openStore({ readonly: true }).recentTraces(5)).toHaveLength(1);
  });

  it('keeps a batch queued when the write fails and reports background failures', () => {
    const errors: Error[] = [];
    const store = openGatewayStore({ dataDir: dir, onError: (e) => errors.push(e), maxPending: 3 });
    open.push(store);
    for (let i = 0; i < 5; i++) store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(i), tenant: null, profileVersion: null, detail: { i } });
    expect(errors.map((e) => e.message)).toEqual([expect.stringMatching(/dropped 1 oldest/), expect.stringMatching(/dropped 1 oldest/)]);
    store.flush();
    expect(store.exportAudit({}).map((e) => e.detail.i)).toEqual([2, 3, 4]);
  });
});

describe('audit events', () => {
  it('appends to one chain across reopen, reading the head back from the database', () => {
    const a = openStore();
    a.recordAudit({ type: 'profile.loaded', at: minutesAfterBase(0), tenant: 'acme', profileVersion: 1, detail: { source: 'cache' } });
    a.close();
    const b = openStore();
    b.recordAudit({ type: 'credential.added', at: minutesAfterBase(1), tenant: null, profileVersion: null, detail: { providerId: 'openai', credentialFingerprint: 'fp_1' } });
    b.recordTrace(makeTrace());
    const rows = b.exportAudit({});
    expect(rows.map((r) => r.seq)).toEqual([1, 2, 3]);
    expect(rows[1]?.prev_hash).toBe(rows[0]?.hash);
    expect(b.verifyAudit()).toEqual({ ok: true, entries: 3 });
  });

  it('snapshots the detail at record time', () => {
    const store = openStore();
    const detail: Record<string, unknown> = { key: 'before' };
    store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(0), tenant: null, profileVersion: null, detail });
    detail.key = 'after';
    expect(store.exportAudit({})[0]?.detail).toEqual({ key: 'before' });
  });

  it('masks anything that looks like a secret before it is sealed into the chain', () => {
    const store = openStore();
    store.recordAudit({
      type: 'credential.added',
      at: minutesAfterBase(0),
      tenant: null,
      profileVersion: null,
      detail: { providerId: 'anthropic', apiKey: 'sk-ant-api03-abcdefghijklmnop', note: 'pasted sk-proj-ABCDEFGHIJKLMNOPQRSTUV by mistake', credentialFingerprint: 'fp_9', inputTokens: 3 },
    });
    const text = JSON.stringify(store.exportAudit({}));
    expect(text).not.toContain('sk-ant-api03');
    expect(text).not.toContain('sk-proj-ABCD');
    expect(store.exportAudit({})[0]?.detail).toMatchObject({ apiKey: '[redacted]', credentialFingerprint: 'fp_9', inputTokens: 3 });
  });

  it('rejects an unknown event type', () => {
    const store = openStore();
    expect(() => store.recordAudit({ type: 'nope' as never, at: minutesAfterBase(0), tenant: null, profileVersion: null, detail: {} })).toThrow(TypeError);
  });

  it('exports by time range in chain order with since inclusive and until exclusive', () => {
    const store = openStore();
    for (let i = 0; i < 5; i++) store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(i), tenant: null, profileVersion: null, detail: { i } });
    const rows = store.exportAudit({ since: minutesAfterBase(1), until: minutesAfterBase(3) });
    expect(rows.map((r) => r.seq)).toEqual([2, 3]);
    expect(rows[0]).toHaveProperty('prev_hash');
    expect(rows[0]).toHaveProperty('hash');
  });

  it('answers who used which model with which credential at time T, with the profile active then', () => {
    const store = openStore();
    store.recordAudit({ type: 'profile.loaded', at: minutesAfterBase(-60), tenant: 'acme', profileVersion: 3, detail: {} });
    store.recordAudit({ type: 'profile.switched', at: minutesAfterBase(-30), tenant: 'globex', profileVersion: 8, detail: {} });
    store.recordAudit({ type: 'profile.changed', at: minutesAfterBase(30), tenant: 'acme', profileVersion: 4, detail: {} });
    store.recordTrace(makeTrace({ startedAt: minutesAfterBase(-2), credentialFingerprint: 'fp_far' }));
    store.recordTrace(makeTrace({ startedAt: minutesAfterBase(1), credentialFingerprint: 'fp_near' }));
    store.recordTrace(makeTrace({ startedAt: minutesAfterBase(0.5), tenant: 'globex', credentialFingerprint: 'fp_globex' }));
    store.recordTrace(makeTrace({ startedAt: minutesAfterBase(20), credentialFingerprint: 'fp_outside' }));

    const all = store.queryAuditAt(minutesAfterBase(0));
    expect(all.requests.map((r) => r.detail.credentialFingerprint)).toEqual(['fp_globex', 'fp_near', 'fp_far']);
    expect(all.activeProfile).toMatchObject({ type: 'profile.switched', tenant: 'globex', profile_version: 8 });

    const acme = store.queryAuditAt(minutesAfterBase(0), 'acme', { windowMinutes: 1 });
    expect(acme.requests.map((r) => r.detail.credentialFingerprint)).toEqual(['fp_near']);
    expect(acme.activeProfile).toMatchObject({ type: 'profile.loaded', profile_version: 3 });
  });

  it('names the profile that was active at T, not the one loaded last at start', () => {
    const store = openStore();
    // A gateway logs every tenant's profile at start; only one of them is active.
    store.recordAudit({ type: 'profile.loaded', at: minutesAfterBase(-10), tenant: 'acme', profileVersion: 3, detail: { active: true } });
    store.recordAudit({ type: 'profile.loaded', at: minutesAfterBase(-10), tenant: 'globex', profileVersion: 8, detail: { active: false } });
    store.recordAudit({ type: 'profile.changed', at: minutesAfterBase(-5), tenant: 'globex', profileVersion: 9, detail: { active: false } });
    expect(store.queryAuditAt(minutesAfterBase(0)).activeProfile).toMatchObject({ tenant: 'acme', profile_version: 3 });
    expect(store.queryAuditAt(minutesAfterBase(0), 'globex').activeProfile).toMatchObject({ tenant: 'globex', profile_version: 9 });
    store.recordAudit({ type: 'profile.switched', at: minutesAfterBase(5), tenant: 'globex', profileVersion: 9, detail: { from: 'acme', to: 'globex' } });
    expect(store.queryAuditAt(minutesAfterBase(10)).activeProfile).toMatchObject({ type: 'profile.switched', tenant: 'globex' });
    expect(store.queryAuditAt(minutesAfterBase(0)).activeProfile).toMatchObject({ tenant: 'acme' });
  });
});

describe('spend', () => {
  function seed(store: GatewayStore): void {
    store.recordTrace(makeTrace({ startedAt: '2025-03-01T10:00:00.000Z', tenant: 'acme', costUsd: 1.5, usage: { inputTokens: 100, outputTokens: 10, cachedInputTokens: 5, cacheWriteTokens: null } }));
    store.recordTrace(makeTrace({ startedAt: '2025-03-02T10:00:00.000Z', tenant: 'acme', costUsd: null, costNote: 'unpriced_model', modelUsed: 'mystery-1' }));
    store.recordTrace(makeTrace({ startedAt: '2025-03-02T11:00:00.000Z', tenant: 'globex', providerId: 'anthropic', modelUsed: 'claude-x', costUsd: 0.25, usage: { inputTokens: 1, outputTokens: 2, cachedInputTokens: null, cacheWriteTokens: 7 } }));
    // Refused before any upstream: a request, an error, but not "unpriced".
    store.recordTrace(makeTrace({ startedAt: '2025-03-02T12:00:00.000Z', tenant: null, status: 403, errorCode: 'policy_denied', attempts: [], providerId: null, modelUsed: null, costUsd: null, usage: { inputTokens: null, outputTokens: null, cachedInputTokens: null, cacheWriteTokens: null } }));
  }

  it('sums requests, tokens and USD by tenant, flagging unpriced requests instead of counting them as zero', () => {
    const store = openStore();
    seed(store);
    expect(store.spendSummary({ by: 'tenant' })).toEqual([
      { key: 'acme', requests: 2, errors: 0, inputTokens: 200, outputTokens: 30, cachedInputTokens: 5, cacheWriteTokens: 0, costUsd: 1.5, unpriced: 1 },
      { key: 'globex', requests: 1, errors: 0, inputTokens: 1, outputTokens: 2, cachedInputTokens: 0, cacheWriteTokens: 7, costUsd: 0.25, unpriced: 0 },
      { key: null, requests: 1, errors: 1, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpriced: 0 },
    ]);
  });

  it('groups by model, provider and UTC day, and honours since', () => {
    const store = openStore();
    seed(store);
    expect(store.spendSummary({ by: 'model' }).map((r) => r.key)).toEqual(['gpt-4o-mini-2024-07-18', 'claude-x', 'gpt-4o-mini', 'mystery-1']);
    expect(store.spendSummary({ by: 'provider' }).map((r) => [r.key, r.requests])).toEqual([['openai', 2], ['anthropic', 1], [null, 1]]);
    expect(store.spendSummary({ by: 'day' }).map((r) => [r.key, r.requests, r.unpriced])).toEqual([['2025-03-01', 1, 0], ['2025-03-02', 3, 1]]);
    expect(store.spendSummary({ by: 'day', since: '2025-03-02' }).map((r) => r.key)).toEqual(['2025-03-02']);
  });

  it('seeds a budget ledger with a tenant\'s USD since a time', () => {
    const store = openStore();
    seed(store);
    expect(store.spendSince('acme', '2025-03-01T00:00:00.000Z')).toBe(1.5);
    expect(store.spendSince('acme', '2025-03-01T10:00:00.001Z')).toBe(0);
    expect(store.spendSince('nobody', '2025-01-01T00:00:00.000Z')).toBe(0);
    expect(() => store.spendSince('acme', 'yesterday')).toThrow(RangeError);
  });
});
