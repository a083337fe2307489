import { hash } from 'node:crypto';
import { canonicalJson } from './canonical-json.js';

export const AUDIT_EVENT_TYPES = [
  'request.served',
  'request.denied',
  'profile.loaded',
  'profile.switched',
  'profile.changed',
  'credential.added',
  'credential.removed',
  'credential.first_used',
  'settings.changed',
] as const;
export type AuditEventType = (typeof AUDIT_EVENT_TYPES)[number];

export interface AuditEvent {
  type: AuditEventType;
  /** ISO time. */
  at: string;
  tenant: string | null;
  profileVersion: number | null;
  /** e.g. for requests: traceId, model requested/used, providerId, credentialFingerprint, status, errorCode, costUsd. Never secrets. */
  detail: Record<string, unknown>;
}

/**
 * One stored audit entry, in the shape that is hashed and exported: field names are the ones the
 * hash covers, so an export can be re-verified without this code:
 * `hash = sha256_hex(prev_hash + canonicalJson({ seq, at, type, tenant, profile_version, detail }))`.
 */
export interface AuditRow {
  seq: number;
  at: string;
  type: AuditEventType;
  tenant: string | null;
  profile_version: number | null;
  detail: Record<string, unknown>;
  prev_hash: string;
  hash: string;
}

export const GENESIS_HASH = '0'.repeat(64);

export type AuditEntryContent = Omit<AuditRow, 'prev_hash' | 'hash'>;

export function sha256Hex(text: string): string {
  // One-shot: no Hash object per audit entry.
  return hash('sha256', text, 'hex');
}

export function hashAuditEntry(prevHash: string, entry: AuditEntryContent): string {
  return hashAuditEntryText(prevHash, { ...entry, detail: canonicalJson(entry.detail) });
}

/**
 * Same hash, for a writer that already holds the detail as canonical JSON text: the preimage is
 * spelled out with its keys in sorted order, exactly as `canonicalJson` would write the object.
 */
export function hashAuditEntryText(prevHash: string, entry: Omit<AuditEntryContent, 'detail'> & { detail: string }): string {
  const preimage =
    `{"at":${JSON.stringify(entry.at)},"detail":${entry.detail},"profile_version":${canonicalJson(entry.profile_version)},` +
    `"seq":${canonicalJson(entry.seq)},"tenant":${canonicalJson(entry.tenant)},"type":${JSON.stringify(entry.type)}}`;
  return sha256Hex(prevHash + preimage);
}

/** A pruning checkpoint: the last removed entry's seq and hash, sealed with a hash of its own. */
export interface AuditCheckpoint {
  seq: number;
  hash: string;
  at: string;
  checkpoint_hash: string;
}

export function hashCheckpoint(cp: Pick<AuditCheckpoint, 'seq' | 'hash' | 'at'>): string {
  return sha256Hex(canonicalJson({ seq: cp.seq, hash: cp.hash, at: cp.at }));
}

export type AuditVerifyResult =
  | { ok: true; entries: number }
  | { ok: false; entries: number; firstBrokenSeq: number; reason: string };

/** The stored form before parsing: `detail` is still text, so a corrupted row is reported, not thrown. */
export interface StoredAuditRow extends Omit<AuditRow, 'detail'> {
  detail: string;
}

/**
 * Walks the chain in seq order from the checkpoint (or genesis) and names the first entry that
 * does not hold: a missing seq (gap), a `prev_hash` that is not the previous entry's hash, or a
 * `hash` that does not match the entry's content. `head` is the chain head the writer recorded,
 * which catches entries cut off the end.
 */
export function verifyAuditChain(
  rows: Iterable<StoredAuditRow>,
  start: { checkpoint: AuditCheckpoint | null; head: { seq: number; hash: string } | null },
): AuditVerifyResult {
  let expectedSeq = 1;
  let expectedPrev = GENESIS_HASH;
  const cp = start.checkpoint;
  if (cp) {
    if (hashCheckpoint(cp) !== cp.checkpoint_hash) {
      return { ok: false, entries: 0, firstBrokenSeq: cp.seq, reason: `checkpoint at seq ${cp.seq} does not match its own hash` };
    }
    expectedSeq = cp.seq + 1;
    expectedPrev = cp.hash;
  }
  let entries = 0;
  for (const row of rows) {
    if (row.seq <= (cp?.seq ?? 0)) {
      return { ok: false, entries, firstBrokenSeq: row.seq, reason: `entry ${row.seq} is at or before the pruning checkpoint (seq ${cp?.seq ?? 0})` };
    }
    if (row.seq < expectedSeq) {
      // Entries live in two tables (requests in their trace rows): a seq held by both is read twice.
      return { ok: false, entries, firstBrokenSeq: row.seq, reason: `entry ${row.seq} appears more than once` };
    }
    if (row.seq !== expectedSeq) {
      const missing = row.seq - expectedSeq === 1 ? `entry ${expectedSeq} is` : `entries ${expectedSeq}..${row.seq - 1} are`;
      return { ok: false, entries, firstBrokenSeq: expectedSeq, reason: `gap: ${missing} missing (next present entry is ${row.seq})` };
    }
    if (row.prev_hash !== expectedPrev) {
      return { ok: false, entries, firstBrokenSeq: row.seq, reason: `prev link mismatch: prev_hash does not equal the hash of entry ${row.seq - 1}` };
    }
    let detail: unknown;
    try {
      detail = JSON.parse(row.detail);
    } catch {
      return { ok: false, entries, firstBrokenSeq: row.seq, reason: 'detail is not valid JSON' };
    }
    const recomputed = hashAuditEntry(row.prev_hash, { ...row, detail: detail as Record<string, unknown> });
    if (recomputed !== row.hash) {
      return { ok: false, entries, firstBrokenSeq: row.seq, reason: 'hash mismatch: the entry was changed after it was written' };
    }
    entries++;
    expectedPrev = row.hash;
    expectedSeq = row.seq + 1;
  }
  const head = start.head;
  if (head) {
    const lastSeq = expectedSeq - 1;
    if (head.seq > lastSeq) {
      return { ok: false, entries, firstBrokenSeq: lastSeq + 1, reason: `gap: the chain ends at entry ${lastSeq} but the recorded head is entry ${head.seq} (entries removed from the end)` };
    }
    if (head.seq < lastSeq || head.hash !== expectedPrev) {
      return { ok: false, entries, firstBrokenSeq: Math.min(head.seq + 1, lastSeq), reason: `the recorded chain head (entry ${head.seq}) does not match the last entry (${lastSeq})` };
    }
  }
  return { ok: true, entries };
}
