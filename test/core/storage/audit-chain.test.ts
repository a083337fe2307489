import { describe, expect, it } from 'vitest';
import {
  GENESIS_HASH,
  hashAuditEntry,
  hashAuditEntryText,
  hashCheckpoint,
  sha256Hex,
  verifyAuditChain,
  type StoredAuditRow,
} from '../../../src/core/storage/audit-chain.js';
import { canonicalJson } from '../../../src/core/storage/canonical-json.js';

function buildChain(n: number, startSeq = 1, startPrev = GENESIS_HASH): StoredAuditRow[] {
  const rows: StoredAuditRow[] = [];
  let prev = startPrev;
  for (let seq = startSeq; seq < startSeq + n; seq++) {
    const content = { seq, at: `2025-03-01T10:00:${String(seq % 60).padStart(2, '0')}.000Z`, type: 'settings.changed' as const, tenant: 'acme', profile_version: 1, detail: { n: seq } };
    const hash = hashAuditEntry(prev, content);
    rows.push({ ...content, detail: canonicalJson(content.detail), prev_hash: prev, hash });
    prev = hash;
  }
  return rows;
}

describe('audit hash chain', () => {
  it('hashes prev_hash + the canonical JSON of seq, at, type, tenant, profile_version, detail', () => {
    const content = { seq: 1, at: '2025-03-01T10:00:00.000Z', type: 'profile.loaded' as const, tenant: null, profile_version: 7, detail: { b: [1, 2], a: 'x' } };
    const expected = sha256Hex(GENESIS_HASH + canonicalJson(content));
    expect(hashAuditEntry(GENESIS_HASH, content)).toBe(expected);
    expect(hashAuditEntryText(GENESIS_HASH, { ...content, detail: canonicalJson(content.detail) })).toBe(expected);
  });

  it('starts from a genesis prev_hash of 64 zeros', () => {
    expect(GENESIS_HASH).toBe('0'.repeat(64));
    expect(buildChain(1)[0]?.prev_hash).toBe(GENESIS_HASH);
  });

  it('verifies an intact chain and counts its entries', () => {
    const rows = buildChain(10);
    expect(verifyAuditChain(rows, { checkpoint: null, head: { seq: 10, hash: rows[9]!.hash } })).toEqual({ ok: true, entries: 10 });
  });

  it('verifies an empty chain', () => {
    expect(verifyAuditChain([], { checkpoint: null, head: null })).toEqual({ ok: true, entries: 0 });
  });

  it('names a changed entry as a hash mismatch', () => {
    const rows = buildChain(5);
    rows[2]!.tenant = 'someone-else';
    const r = verifyAuditChain(rows, { checkpoint: null, head: null });
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: 3, entries: 2 });
    expect(!r.ok && r.reason).toMatch(/hash mismatch/);
  });

  it('names the entry after a consistently rewritten one as a prev link mismatch', () => {
    const rows = buildChain(5);
    const forged = { ...rows[1]!, detail: '{"n":999}' };
    forged.hash = hashAuditEntry(forged.prev_hash, { ...forged, detail: { n: 999 } });
    rows[1] = forged;
    const r = verifyAuditChain(rows, { checkpoint: null, head: null });
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: 3 });
    expect(!r.ok && r.reason).toMatch(/prev link mismatch/);
  });

  it('names a missing entry as a gap', () => {
    const rows = buildChain(6);
    rows.splice(3, 1);
    const r = verifyAuditChain(rows, { checkpoint: null, head: null });
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: 4 });
    expect(!r.ok && r.reason).toMatch(/gap: entry 4 is missing/);
  });

  it('names an entry read twice (held in both tables) instead of calling it a gap', () => {
    const rows = buildChain(4);
    rows.splice(3, 0, rows[2]!);
    const r = verifyAuditChain(rows, { checkpoint: null, head: null });
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: 3, entries: 3 });
    expect(!r.ok && r.reason).toBe('entry 3 appears more than once');
  });

  it('notices entries cut off the end through the recorded head', () => {
    const rows = buildChain(6);
    const head = { seq: 6, hash: rows[5]!.hash };
    const r = verifyAuditChain(rows.slice(0, 4), { checkpoint: null, head });
    expect(r).toMatchObject({ ok: false, firstBrokenSeq: 5 });
    expect(!r.ok && r.reason).toMatch(/removed from the end/);
  });

  it('reports unparseable detail instead of throwing', () => {
    const rows = buildChain(3);
    rows[0]!.detail = '{not json';
    expect(verifyAuditChain(rows, { checkpoint: null, head: null })).toMatchObject({ ok: false, firstBrokenSeq: 1, reason: 'detail is not valid JSON' });
  });

  it('starts from a checkpoint after pruning, and rejects a checkpoint that does not match its hash', () => {
    const full = buildChain(8);
    const last = full[4]!;
    const checkpoint = { seq: last.seq, hash: last.hash, at: last.at, checkpoint_hash: hashCheckpoint(last) };
    const rest = full.slice(5);
    expect(verifyAuditChain(rest, { checkpoint, head: { seq: 8, hash: full[7]!.hash } })).toEqual({ ok: true, entries: 3 });
    const forged = { ...checkpoint, hash: 'f'.repeat(64) };
    expect(verifyAuditChain(rest, { checkpoint: forged, head: null })).toMatchObject({ ok: false, firstBrokenSeq: 5 });
  });
});
