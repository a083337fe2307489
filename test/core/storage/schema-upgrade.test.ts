import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson, GENESIS_HASH, hashAuditEntry, mapTraceToAuditEvent, openGatewayStore, SCHEMA_VERSION } from '../../../src/core/storage/index.js';
import { scrubSecrets } from '../../../src/core/storage/secret-scrub.js';
import { AUDIT_LINK_INDEX, TRACE_INSERT_COLUMNS, traceInsertValues } from '../../../src/core/storage/trace-rows.js';
import type { Trace } from '../../../src/shared/trace.js';
import { makeTrace, minutesAfterBase } from './fixtures/make-trace.js';
import { makeTempDir } from './fixtures/temp-dir.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
});
afterEach(() => cleanup());

/**
 * A database as schema 1 wrote it: traces without an audit link, and each request's audit entry
 * as its own audit_log row.
 */
function writeSchema1Database(traces: Trace[]): void {
  openGatewayStore({ dataDir: dir }).close();
  const db = new Database(join(dir, 'asc.db'));
  db.exec(`
    ALTER TABLE traces DROP COLUMN decision_list_id;
    DROP TABLE decision_lists;
    DROP INDEX traces_audit_seq;
    ALTER TABLE traces DROP COLUMN audit_seq;
    ALTER TABLE traces DROP COLUMN audit_type;
    ALTER TABLE traces DROP COLUMN audit_prev_hash;
    ALTER TABLE traces DROP COLUMN audit_hash;
    PRAGMA user_version = 1;
  `);
  const columns = TRACE_INSERT_COLUMNS.slice(0, AUDIT_LINK_INDEX);
  const insertTrace = db.prepare(`INSERT INTO traces (${columns.join(', ')}) VALUES (${columns.map(() => '?').join(', ')})`);
  const insertAudit = db.prepare(`INSERT INTO audit_log (seq, at, type, tenant, profile_version, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`);
  let prev = GENESIS_HASH;
  traces.forEach((trace, i) => {
    insertTrace.run(traceInsertValues(trace, null).slice(0, AUDIT_LINK_INDEX));
    const event = mapTraceToAuditEvent(trace);
    const entry = { seq: i + 1, at: trace.startedAt, type: event.type, tenant: event.tenant, profile_version: event.profileVersion, detail: scrubSecrets(event.detail) as Record<string, unknown> };
    const hash = hashAuditEntry(prev, entry);
    insertAudit.run(entry.seq, entry.at, entry.type, entry.tenant, entry.profile_version, canonicalJson(entry.detail), prev, hash);
    prev = hash;
  });
  db.prepare(`INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?)`).run(traces.length, prev);
  db.close();
}

describe('upgrading a schema-1 database', () => {
  it('keeps the old request entries in audit_log, holds new ones in trace rows, and verifies, exports, queries and prunes across both', () => {
    const old = [0, 60, 120].map((m) => makeTrace({ startedAt: minutesAfterBase(m) }));
    writeSchema1Database(old);

    const store = openGatewayStore({ dataDir: dir });
    try {
      expect(store.verifyAudit()).toEqual({ ok: true, entries: 3 });
      store.recordTrace(makeTrace({ startedAt: minutesAfterBase(180), modelUsed: 'gpt-4.1' }));
      store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(181), tenant: null, profileVersion: null, detail: { retentionDays: 30 } });
      expect(store.verifyAudit()).toEqual({ ok: true, entries: 5 });

      const exported = store.exportAudit({});
      expect(exported.map((e) => [e.seq, e.type])).toEqual([
        [1, 'request.served'],
        [2, 'request.served'],
        [3, 'request.served'],
        [4, 'request.served'],
        [5, 'settings.changed'],
      ]);
      expect(exported[0]?.detail.traceId).toBe(old[0]?.id);
      expect(exported[3]?.detail.modelUsed).toBe('gpt-4.1');
      expect(exported[3]?.prev_hash).toBe(exported[2]?.hash);

      // Nearest first, ties in chain order, from both tables.
      expect(store.queryAuditAt(minutesAfterBase(120), undefined, { windowMinutes: 70 }).requests.map((r) => r.seq)).toEqual([3, 2, 4]);

      expect(store.pruneOlderThan(minutesAfterBase(150))).toEqual({ removedTraces: 3, removedAudit: 3 });
      expect(store.verifyAudit()).toEqual({ ok: true, entries: 2 });
      expect(store.recentTraces(10)).toHaveLength(1);
    } finally {
      store.close();
    }
    const db = new Database(join(dir, 'asc.db'), { readonly: true });
    expect(db.pragma('user_version', { simple: true })).toBe(SCHEMA_VERSION);
    db.close();
  });
});
