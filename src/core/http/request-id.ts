import { randomUUID } from 'node:crypto';

/**
 * A UUIDv7 (RFC 9562): millisecond time first, then randomness. Time-ordered ids keep the
 * traces table's id index append-mostly, which makes each SQLite insert markedly cheaper than
 * with random v4 ids, and they sort in request order.
 */
export function newRequestId(nowMs: number = Date.now()): string {
  const t = nowMs.toString(16).padStart(12, '0');
  // randomUUID() is `xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx` with the variant already set at V.
  return `${t.slice(0, 8)}-${t.slice(8, 12)}-7${randomUUID().slice(15)}`;
}
