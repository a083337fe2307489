import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashAuditEntry, openGatewayStore } from '../../../src/core/storage/index.js';
import { makeTrace, minutesAfterBase } from './fixtures/make-trace.js';
import { editDatabase } from './fixtures/raw-database.js';
import { makeTempDir } from './fixtures/temp-dir.js';

let dir: string;
let cleanup: () => void;

/** Ten entries: traces and events interleaved, then closed so a raw connection can tamper. */
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
  const store = openGatewayStore({ dataDir: dir });
  for (let i = 0; i < 5; i++) {
    store.recordTrace(makeTrace({ startedAt: minutesAfterBase(i) }));
    store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(i), tenant: 'acme', profileVersion: 3, detail: { setting: 'retentionDays', value: 30 + i } });
  }
  expect(store.verifyAudit()).toEqual({ ok: true, entries: 10 });
  store.close();
});
afterEach(() => cleanup());

function tamper(sql: string, ...params: unknown[]): void {
  editDatabase(dir, sql, ...params);
}

function verify() {
  const store = openGatewayStore({ dataDir: dir, readonly: true });
  try {
    return store.verifyAudit();
  } finally {
    store.close();
  }
}

/** Odd entries are requests, held in their trace rows; even ones are settings events in audit_log. */
describe('tamper evidence', () => {
  it.each([
    ['a request entry (its trace row)', 5, `UPDATE traces SET cost_usd = 0 WHERE audit_seq = 5`],
    ['the model a request used', 3, `UPDATE traces SET model_used = 'gpt-4o' WHERE audit_seq = 3`],
    ['a denial added to a request', 7, `UPDATE traces SET decisions = '[{"rule":"budget","outcome":"deny"}]' WHERE audit_seq = 7`],
    ['a settings entry (audit_log)', 4, `UPDATE audit_log SET detail = json_set(detail, '$.value', 0) WHERE seq = 4`],
  ])('an edited detail of %s fails verification at exactly that entry', (_what, seq, sql) => {
    tamper(sql);
    const r = verify();
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: seq, entries: seq - 1 });
    expect(!r.ok && r.reason).toMatch(/hash mismatch/);
  });

  it.each([
    ['audit_log', 8, `UPDATE audit_log SET tenant = 'someone-else' WHERE seq = 8`],
    ['a trace row', 9, `UPDATE traces SET tenant = 'someone-else' WHERE audit_seq = 9`],
  ])('an edited tenant in %s fails verification at exactly that entry', (_where, seq, sql) => {
    tamper(sql);
    expect(verify()).toMatchObject({ ok: false, firstBrokenSeq: seq, reason: expect.stringMatching(/hash mismatch/) });
  });

  it.each([
    ['type', `UPDATE traces SET audit_type = 'request.denied' WHERE audit_seq = 1`],
    ['time', `UPDATE traces SET started_at = '2020-01-01T00:00:00.000Z' WHERE audit_seq = 1`],
  ])('an edited %s fails verification', (_what, sql) => {
    tamper(sql);
    expect(verify()).toMatchObject({ ok: false, firstBrokenSeq: 1 });
  });

  it('a deleted entry fails verification naming the gap', () => {
    tamper(`DELETE FROM audit_log WHERE seq = 6`);
    const r = verify();
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: 6 });
    expect(!r.ok && r.reason).toMatch(/gap: entry 6 is missing \(next present entry is 7\)/);
  });

  it('a deleted trace row takes its entry with it and leaves a gap', () => {
    tamper(`DELETE FROM traces WHERE audit_seq = 7`);
    expect(verify()).toMatchObject({ ok: false, firstBrokenSeq: 7, reason: expect.stringMatching(/gap: entry 7 is missing/) });
  });

  it('an entry copied into the other table is reported, not taken as the next link', () => {
    tamper(`INSERT INTO audit_log SELECT audit_seq, started_at, audit_type, tenant, profile_version, '{}', audit_prev_hash, audit_hash FROM traces WHERE audit_seq = 3`);
    // Whichever copy is read first, the other cannot follow it.
    expect(verify()).toMatchObject({ ok: false, firstBrokenSeq: 3 });
  });

  it('entries deleted from the end are noticed through the recorded chain head', () => {
    tamper(`DELETE FROM audit_log WHERE seq >= 9`);
    tamper(`DELETE FROM traces WHERE audit_seq >= 9`);
    expect(verify()).toMatchObject({ ok: false, firstBrokenSeq: 9, reason: expect.stringMatching(/removed from the end/) });
  });

  it('an entry rewritten with a recomputed hash breaks the link from the next entry', () => {
    const db = new Database(join(dir, 'asc.db'));
    const row = db.prepare('SELECT * FROM audit_log WHERE seq = 4').get() as { seq: number; at: string; type: 'settings.changed'; tenant: string | null; profile_version: number | null; prev_hash: string };
    const detail = { forged: true };
    const hash = hashAuditEntry(row.prev_hash, { ...row, detail });
    db.prepare('UPDATE audit_log SET detail = ?, hash = ? WHERE seq = 4').run(JSON.stringify(detail), hash);
    db.close();
    expect(verify()).toMatchObject({ ok: false, firstBrokenSeq: 5, reason: expect.stringMatching(/prev link mismatch/) });
  });

  it('a writer opened after tampering keeps the evidence instead of papering over it', () => {
    tamper(`DELETE FROM audit_log WHERE seq >= 9`);
    tamper(`DELETE FROM traces WHERE audit_seq >= 9`);
    const store = openGatewayStore({ dataDir: dir });
    store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(9), tenant: null, profileVersion: null, detail: {} });
    store.recordTrace(makeTrace({ startedAt: minutesAfterBase(10) }));
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBrokenSeq: 9 });
    store.close();
  });
});
