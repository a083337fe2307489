import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openGatewayStore, type GatewayStore } from '../../../src/core/storage/index.js';
import { makeTrace, minutesAfterBase } from './fixtures/make-trace.js';
import { makeTempDir } from './fixtures/temp-dir.js';

let dir: string;
let cleanup: () => void;
let store: GatewayStore;

/** One trace (and its audit entry) per hour for ten hours. */
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir());
  store = openGatewayStore({ dataDir: dir });
  for (let h = 0; h < 10; h++) store.recordTrace(makeTrace({ startedAt: minutesAfterBase(h * 60) }));
  store.flush();
});
afterEach(() => {
  try {
    store.close();
  } finally {
    cleanup();
  }
});

describe('pruneOlderThan', () => {
  it('removes old traces and audit entries and the remaining chain still verifies from the checkpoint', () => {
    expect(store.pruneOlderThan(minutesAfterBase(4 * 60))).toEqual({ removedTraces: 4, removedAudit: 4 });
    expect(store.recentTraces(100)).toHaveLength(6);
    expect(store.exportAudit({})[0]?.seq).toBe(5);
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 6 });
  });

  it('keeps verifying as the chain grows and is pruned again', () => {
    store.pruneOlderThan(minutesAfterBase(3 * 60));
    for (let h = 10; h < 13; h++) store.recordTrace(makeTrace({ startedAt: minutesAfterBase(h * 60) }));
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 10 });
    expect(store.pruneOlderThan(minutesAfterBase(8 * 60))).toEqual({ removedTraces: 5, removedAudit: 5 });
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 5 });
  });

  it('can prune everything and continue the chain from the checkpoint', () => {
    expect(store.pruneOlderThan(minutesAfterBase(24 * 60)).removedAudit).toBe(10);
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 0 });
    store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(25 * 60), tenant: null, profileVersion: null, detail: {} });
    expect(store.exportAudit({})[0]?.seq).toBe(11);
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 1 });
  });

  it('only removes a prefix of the chain when entry times are out of order', () => {
    store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(-600), tenant: null, profileVersion: null, detail: { late: true } });
    expect(store.pruneOlderThan(minutesAfterBase(2 * 60))).toEqual({ removedTraces: 2, removedAudit: 2 });
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 9 });
  });

  it('is a no-op when nothing is old enough', () => {
    expect(store.pruneOlderThan(minutesAfterBase(-1))).toEqual({ removedTraces: 0, removedAudit: 0 });
    expect(store.verifyAudit()).toEqual({ ok: true, entries: 10 });
  });

  it('does not sign off a tampered prefix: the traces holding its entries stay and verification still fails', () => {
    const errors: Error[] = [];
    store.close();
    const db = new Database(join(dir, 'asc.db'));
    db.prepare(`UPDATE traces SET tenant = 'x' WHERE audit_seq = 2`).run();
    db.close();
    store = openGatewayStore({ dataDir: dir, onError: (e) => errors.push(e) });
    expect(store.pruneOlderThan(minutesAfterBase(4 * 60))).toEqual({ removedTraces: 0, removedAudit: 0 });
    expect(store.recentTraces(100)).toHaveLength(10);
    expect(errors[0]?.message).toMatch(/chain broken at entry 2/);
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBrokenSeq: 2 });
  });

  it('a tampered checkpoint fails verification', () => {
    store.pruneOlderThan(minutesAfterBase(4 * 60));
    store.close();
    const db = new Database(join(dir, 'asc.db'));
    db.prepare(`UPDATE audit_checkpoints SET at = '2020-01-01T00:00:00.000Z'`).run();
    db.close();
    store = openGatewayStore({ dataDir: dir });
    expect(store.verifyAudit()).toMatchObject({ ok: false, firstBrokenSeq: 4, reason: expect.stringMatching(/checkpoint/) });
  });
});
