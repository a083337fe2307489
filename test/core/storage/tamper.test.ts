import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { hashAuditEntry, openGatewayStore } from '../../../src/core/storage/index.js';
import { makeTrace, minutesAfterBase } from './fixtures/make-trace.js';
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
  const db = new Database(join(dir, 'asc.db'));
  db.prepare(sql).run(...params);
  db.close();
}

function verify() {
  const store = openGatewayStore({ dataDir: dir, readonly: true });
  try {
    return store.verifyAudit();
  } finally {
    store.close();
  }
}

describe('tamper evidence', () => {
  it('an edited detail fails verification at exactly that entry', () => {
    tamper(`UPDATE audit_log SET detail = json_set(detail, '$.costUsd', 0) WHERE seq = 5`);
    const r = verify();
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: 5, entries: 4 });
    expect(!r.ok && r.reason).toMatch(/hash mismatch/);
  });

  it('an edited tenant fails verification at exactly that entry', () => {
    tamper(`UPDATE audit_log SET tenant = 'someone-else' WHERE seq = 8`);
    expect(verify()).toMatchObject({ ok: false, firstBrokenSeq: 8, reason: expect.stringMatching(/hash mismatch/) });
  });

  it('an edited time or type fails verification', () => {
    tamper(`UPDATE audit_log SET type = 'request.denied' WHERE seq = 1`);
    expect(verify()).toMatchObject({ ok: false, firstBrokenSeq: 1 });
  });

  it('a deleted entry fails verification naming the gap', () => {
    tamper(`DELETE FROM audit_log WHERE seq = 6`);
    const r = verify();
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: 6 });
    expect(!r.ok && r.reason).toMatch(/gap: entry 6 is missing \(next present entry is 7\)/);
  });

  it('entries deleted from the end are noticed through the recorded chain head', () => {
    tamper(`DELETE FROM audit_log WHERE seq >= 9`);
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
    const store = openGatewayStore({ dataDir: dir });
    store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(9), tenant: null, profileVersion: null, detail: {} });
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBrokenSeq: 9 });
    store.close();
  });
});
