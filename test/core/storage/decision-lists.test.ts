import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openGatewayStore, type GatewayStore } from '../../../src/core/storage/index.js';
import { sharedDecisionList } from '../../../src/core/storage/trace-rows.js';
import type { Decision } from '../../../src/shared/trace.js';
import { makeTrace, minutesAfterBase } from './fixtures/make-trace.js';
import { editDatabase, queryDatabase } from './fixtures/raw-database.js';
import { makeTempDir } from './fixtures/temp-dir.js';

let dir: string;
let cleanup: () => void;
let store: GatewayStore;

beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
  store = openGatewayStore({ dataDir: dir });
});
afterEach(() => {
  try {
    store.close();
  } finally {
    cleanup();
  }
});

/** Shared, as the allow-list's, residency's, the clamp's and the rate limits' decisions are: frozen, one object for many requests. */
const allowModel = Object.freeze({ rule: 'models.allow', outcome: 'allow', detail: 'openai/gpt-4o-mini' } as const);
const resident = Object.freeze({ rule: 'residency', outcome: 'allow', detail: 'openai:us' } as const);
const withinLimits = Object.freeze({ rule: 'rate_limits', outcome: 'allow', detail: 'within rpm 600' } as const);
/** Made for one request. */
const redacted = (n: number): Decision => ({ rule: 'guardrails.pii', outcome: 'redact', detail: `EMAIL×${n}` });

const query = <T>(sql: string): T[] => queryDatabase<T>(dir, sql);
const rawColumns = () => query<{ decisions: string; decision_list_id: number | null }>(`SELECT decisions, decision_list_id FROM traces ORDER BY rowid`);
const lists = () => query<{ id: number; json: string }>(`SELECT id, json FROM decision_lists ORDER BY id`);
const lastUsed = () => query<{ id: number; last_used: string }>(`SELECT id, last_used FROM decision_lists ORDER BY id`);

const edit = (sql: string, ...params: unknown[]): void => editDatabase(dir, sql, ...params);

describe('sharedDecisionList', () => {
  it('is one object per sequence of shared decisions, holding the JSON of the list', () => {
    const a = sharedDecisionList([allowModel, resident, withinLimits]);
    expect(a?.json).toBe(JSON.stringify([allowModel, resident, withinLimits]));
    expect(sharedDecisionList([allowModel, resident, withinLimits])).toBe(a);
    expect(sharedDecisionList([allowModel, resident])?.json).toBe(JSON.stringify([allowModel, resident]));
    expect(sharedDecisionList([resident, allowModel])?.json).toBe(JSON.stringify([resident, allowModel]));
  });

  it('is none for an empty list or one with a decision made for this request', () => {
    expect(sharedDecisionList([])).toBeNull();
    expect(sharedDecisionList([allowModel, redacted(1)])).toBeNull();
    expect(sharedDecisionList([redacted(1), allowModel])).toBeNull();
  });
});

describe('shared decision lists in storage', () => {
  it('are stored once, and each trace row names its list instead of repeating it', () => {
    const a = makeTrace({ startedAt: minutesAfterBase(0), decisions: [allowModel, resident, withinLimits] });
    const b = makeTrace({ startedAt: minutesAfterBase(1), decisions: [allowModel, resident, withinLimits] });
    const c = makeTrace({ startedAt: minutesAfterBase(2), decisions: [allowModel] });
    for (const t of [a, b, c]) store.recordTrace(t);
    store.flush();

    expect(lists()).toEqual([
      { id: 1, json: JSON.stringify(a.decisions) },
      { id: 2, json: JSON.stringify(c.decisions) },
    ]);
    expect(rawColumns()).toEqual([
      { decisions: '', decision_list_id: 1 },
      { decisions: '', decision_list_id: 1 },
      { decisions: '', decision_list_id: 2 },
    ]);
    expect(store.recentTraces(10).map((t) => t.decisions)).toEqual([c.decisions, b.decisions, a.decisions]);
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 3 });
  });

  it('leave a list with a decision made for one request written out in its row', () => {
    const t = makeTrace({ startedAt: minutesAfterBase(0), decisions: [allowModel, redacted(2)] });
    store.recordTrace(t);
    store.flush();
    expect(lists()).toEqual([]);
    expect(rawColumns()).toEqual([{ decisions: JSON.stringify(t.decisions), decision_list_id: null }]);
    expect(store.recentTraces(1)[0]?.decisions).toEqual(t.decisions);
  });

  it('are found again after a reopen, not stored twice', () => {
    store.recordTrace(makeTrace({ startedAt: minutesAfterBase(0), decisions: [allowModel, resident] }));
    store.close();
    store = openGatewayStore({ dataDir: dir });
    store.recordTrace(makeTrace({ startedAt: minutesAfterBase(1), decisions: [allowModel, resident] }));
    store.flush();
    expect(lists()).toHaveLength(1);
    expect(rawColumns().map((r) => r.decision_list_id)).toEqual([1, 1]);
  });

  it('read the same as a row written before schema 3, with its decisions in the row', () => {
    const denied = Object.freeze({ rule: 'models.allow', outcome: 'deny', detail: 'gpt-3.5-turbo' } as const);
    const trace = makeTrace({ startedAt: minutesAfterBase(0), status: 403, errorCode: 'model_not_allowed', attempts: [], decisions: [denied] });
    store.recordTrace(trace);
    store.flush();
    edit(`UPDATE traces SET decisions = ?, decision_list_id = NULL`, JSON.stringify(trace.decisions));

    expect(store.recentTraces(1)[0]?.decisions).toEqual(trace.decisions);
    expect(store.exportAudit({})[0]?.detail.deniedBy).toEqual(['models.allow']);
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 1 });
  });

  it('edited, removed or swapped, break the chain at the first request whose audit entry they change', () => {
    const denied = Object.freeze({ rule: 'residency', outcome: 'deny', detail: 'allowed regions: eu' } as const);
    const deniedTrace = (m: number) => makeTrace({ startedAt: minutesAfterBase(m), status: 403, errorCode: 'residency_denied', attempts: [], decisions: [allowModel, denied] });
    store.recordTrace(makeTrace({ startedAt: minutesAfterBase(0), decisions: [allowModel] }));
    store.recordTrace(deniedTrace(1));
    store.recordTrace(deniedTrace(2));
    store.flush();
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 3 });
    const deniedList = JSON.stringify([allowModel, denied]);

    edit(`UPDATE decision_lists SET json = ? WHERE json = ?`, JSON.stringify([allowModel, { ...denied, outcome: 'allow' }]), deniedList);
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBrokenSeq: 2 });
    edit(`UPDATE decision_lists SET json = ? WHERE json LIKE '%residency%'`, deniedList);
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 3 });

    edit(`UPDATE traces SET decision_list_id = 1 WHERE audit_seq = 3`);
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBrokenSeq: 3 });
    edit(`UPDATE traces SET decision_list_id = 2 WHERE audit_seq = 3`);

    edit(`DELETE FROM decision_lists WHERE json LIKE '%residency%'`);
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBrokenSeq: 2 });
    expect(store.recentTraces(1)[0]?.decisions).toEqual([]);
  });

  it('made in a batch that fails are made again when it is retried: no row names a list that was rolled back', () => {
    edit(`CREATE TABLE fail_next (x)`);
    edit(`INSERT INTO fail_next VALUES (1)`);
    edit(`CREATE TRIGGER fail_trace BEFORE INSERT ON traces WHEN (SELECT count(*) FROM fail_next) > 0 BEGIN SELECT RAISE(ABORT, 'injected failure'); END`);
    const trace = makeTrace({ startedAt: minutesAfterBase(0), decisions: [allowModel, resident] });
    store.recordTrace(trace);
    expect(() => store.flush()).toThrow(/injected failure/);
    expect(lists()).toEqual([]);

    edit(`DELETE FROM fail_next`);
    // Another list takes id 1 first: a retry that kept the rolled-back id would now name it.
    edit(`INSERT INTO decision_lists (json, last_used) VALUES ('[{"rule":"other","outcome":"skip"}]', '')`);
    store.flush();
    expect(store.recentTraces(1)[0]?.decisions).toEqual(trace.decisions);
    expect(rawColumns()[0]?.decision_list_id).toBe(2);
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 1 });
  });
});

describe('retention of shared decision lists', () => {
  const named = (m: number, decisions: Decision[]) => makeTrace({ startedAt: minutesAfterBase(m), decisions });

  it('note the latest start of a request naming each list', () => {
    store.recordTrace(named(0, [allowModel]));
    store.recordTrace(named(5, [allowModel, resident]));
    store.flush();
    store.recordTrace(named(9, [allowModel]));
    store.flush();
    // Per batch, the batch's latest start: an upper bound, so a list is never removed early.
    expect(lastUsed()).toEqual([
      { id: 1, last_used: minutesAfterBase(9) },
      { id: 2, last_used: minutesAfterBase(5) },
    ]);
  });

  it('removes a list once every request that named it is pruned, and keeps the ones still named', () => {
    store.recordTrace(named(0, [allowModel, resident]));
    store.flush();
    store.recordTrace(named(60, [allowModel]));
    store.flush();
    store.recordTrace(named(120, [allowModel]));
    store.flush();

    expect(store.pruneOlderThan(minutesAfterBase(90))).toEqual({ removedTraces: 2, removedAudit: 2 });
    expect(lists().map((l) => l.json)).toEqual([JSON.stringify([allowModel])]);

    // The removed list comes back under a new id; the writer does not name the old one.
    const again = named(180, [allowModel, resident]);
    store.recordTrace(again);
    store.flush();
    expect(store.recentTraces(1)[0]?.decisions).toEqual(again.decisions);
    expect(store.verifyAudit()).toMatchObject({ ok: true });
  });

  it('keeps every list while requests from before the cutoff are still kept (a broken chain is not pruned)', () => {
    store.recordTrace(named(0, [allowModel, resident]));
    store.recordTrace(named(1, [allowModel, resident]));
    store.flush();
    store.recordTrace(named(120, [allowModel]));
    store.flush();
    edit(`UPDATE traces SET model_used = 'gpt-4o' WHERE audit_seq = 1`);

    expect(store.pruneOlderThan(minutesAfterBase(90))).toEqual({ removedTraces: 0, removedAudit: 0 });
    expect(lists()).toHaveLength(2);
    expect(store.recentTraces(3).map((t) => t.decisions)).toEqual([[allowModel], [allowModel, resident], [allowModel, resident]]);
  });

  it('keeps a list while a request from before the cutoff is kept, recorded after a newer one', () => {
    store.recordTrace(named(120, [allowModel]));
    store.flush();
    const late = named(0, [allowModel, resident]);
    store.recordTrace(late);
    store.flush();

    // The chain keeps the late one (its entry follows one from after the cutoff), and so its list.
    store.pruneOlderThan(minutesAfterBase(90));
    expect(lists()).toHaveLength(2);
    expect(store.recentTraces(2).map((t) => t.decisions)).toEqual([[allowModel], late.decisions]);
  });
});
