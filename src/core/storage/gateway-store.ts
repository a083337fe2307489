import { closeSync, existsSync, mkdirSync, openSync } from 'node:fs';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import type { Trace } from '../../shared/trace.js';
import { BoundedCache } from '../bounded-cache.js';
import {
  AUDIT_EVENT_TYPES,
  GENESIS_HASH,
  hashAuditEntryText,
  hashCheckpoint,
  verifyAuditChain,
  type AuditCheckpoint,
  type AuditEvent,
  type AuditEventType,
  type AuditRow,
  type AuditVerifyResult,
  type StoredAuditRow,
} from './audit-chain.js';
import { canonicalJson } from './canonical-json.js';
import { assertReadableSchema, migrate } from './schema.js';
import { scrubSecrets } from './secret-scrub.js';
import {
  AUDIT_LINK_INDEX,
  DECISION_LIST_INDEX,
  isDeniedTrace,
  mapRowToTrace,
  normalizeIsoTime,
  parseIsoBound,
  REQUEST_AUDIT_COLUMNS,
  requestAuditDetailFromRow,
  requestAuditDetailJson,
  scrubTraceForStorage,
  sharedDecisionList,
  TRACE_INSERT_COLUMNS,
  traceInsertValues,
  traceReadColumns,
  type RequestAuditColumns,
  type SharedDecisionList,
  type TraceRow,
} from './trace-rows.js';

export const DATABASE_FILE_NAME = 'asc.db';
/**
 * A queued trace that outlives two young-generation collections (one every ~40 ms under load) is
 * promoted to the old generation: a 100 ms window promoted nearly every trace and added ~40 MB to
 * the peak RSS under load. Batches of a 25 ms window cost no more CPU per row.
 */
export const DEFAULT_FLUSH_INTERVAL_MS = 25;
export const MAX_FLUSH_INTERVAL_MS = 250;
export const DEFAULT_MAX_PENDING = 100_000;
/** Shared decision lists whose row ids the writer remembers; a laptop's profiles make a few dozen. */
const MAX_REMEMBERED_LISTS = 4096;
const PAGE_SIZE = 16_384;

export type SpendGrouping = 'tenant' | 'model' | 'provider' | 'day';

export interface SpendRow {
  /** The tenant, model (used, else requested), provider id, or UTC day `YYYY-MM-DD`; null when the trace had none. */
  key: string | null;
  requests: number;
  /** Requests that ended with status >= 400. */
  errors: number;
  inputTokens: number;
  outputTokens: number;
  cachedInputTokens: number;
  cacheWriteTokens: number;
  /** Sum over priced requests only. */
  costUsd: number;
  /** Requests that reached a provider but have no cost (unknown price): never silently counted as $0. */
  unpriced: number;
}

export interface AuditQueryResult {
  at: string;
  tenant: string | null;
  windowMinutes: number;
  /**
   * The profile in force at `at`: the latest profile.switched, or profile.loaded / changed entry of
   * the then-active profile, at or before `at`; with a tenant, that tenant's latest profile entry.
   */
  activeProfile: AuditRow | null;
  /** request.served / request.denied entries within ±windowMinutes of `at`, nearest first. */
  requests: AuditRow[];
}

export interface GatewayStore {
  readonly file: string;
  readonly readonly: boolean;
  /**
   * Enqueue; never blocks on disk. Written in one transaction per batch, flushed every
   * `flushIntervalMs` by an unref'd timer. The trace row holds its audit entry (request.served or
   * request.denied), linked into the chain in the same transaction. `capturedBody` is stored only when given
   * (the profile's logging.capture allows it).
   */
  recordTrace(trace: Trace, capturedBody?: string): void;
  recordAudit(event: AuditEvent): void;
  /** Synchronous; used at shutdown. Throws if the write fails (the batch stays queued). */
  flush(): void;
  /** flush + close the database. Idempotent. */
  close(): void;
  /** Newest first. */
  recentTraces(limit: number): Trace[];
  capturedBody(traceId: string): string | null;
  spendSummary(opts: { by: SpendGrouping; since?: string }): SpendRow[];
  /** USD sum of priced requests for a tenant since a time; seeds budget ledgers at start. */
  spendSince(tenant: string, sinceIso: string): number;
  /** Fingerprints of every credential a recorded request used (for `credential.first_used`). */
  credentialFingerprintsSeen(): string[];
  verifyAudit(): AuditVerifyResult;
  /** Entries with since <= at < until, in chain (seq) order. */
  exportAudit(opts: { since?: string; until?: string }): AuditRow[];
  /** Which tenant used which model with which credential around time T, and the profile active then. */
  queryAuditAt(atIso: string, tenant?: string, opts?: { windowMinutes?: number; limit?: number }): AuditQueryResult;
  /** Removes traces and a verified prefix of the audit chain older than the cutoff, leaving a checkpoint. */
  pruneOlderThan(cutoffIso: string): { removedTraces: number; removedAudit: number };
}

export interface OpenGatewayStoreOptions {
  dataDir: string;
  /** Default 25 ms, at most 250 ms. */
  flushIntervalMs?: number;
  readonly?: boolean;
  /** Failures of the background flush (the batch stays queued and is retried). Default: process.emitWarning. */
  onError?: (error: Error) => void;
  /** Called after each committed batch; for metrics and the durability test. */
  onFlush?: (info: { traces: number; audit: number; durationMs: number }) => void;
  /** Queue bound while the disk is failing; beyond it the oldest items are dropped and reported. */
  maxPending?: number;
}

/** No database yet (nothing recorded) or the data dir is wrong: a one-line message for the CLI. */
export class StoreNotFoundError extends Error {
  override readonly name = 'StoreNotFoundError';
}

/** The store cannot record: it was opened read-only or closed. */
export class StoreStateError extends Error {
  override readonly name = 'StoreStateError';
}

type Pending =
  | { kind: 'trace'; values: unknown[]; list: SharedDecisionList | null; audit: PendingAudit }
  | { kind: 'audit'; audit: PendingAudit };

interface PendingAudit {
  at: string;
  type: AuditEventType;
  tenant: string | null;
  profile_version: number | null;
  /** Canonical JSON, snapshotted at enqueue so later mutation by the caller changes nothing. */
  detail: string;
}

/**
 * A row of `auditEntriesSql`: an audit_log entry (detail set), or a request entry held in its trace
 * row (detail null; the trace columns it is rebuilt from set).
 */
type AuditUnionRow = Omit<StoredAuditRow, 'detail'> & { detail: string | null } & RequestAuditColumns;

/**
 * Every audit entry, whichever table holds it, as one row shape: `audit_log` rows and the request
 * entries held in trace rows (schema 2). `where` filters both (columns `seq`, `at`, `type`,
 * `tenant`); the caller orders. Each part can be read in seq order from an index, so
 * `ORDER BY seq` merges the two without sorting.
 */
function auditEntriesSql(where = '1'): string {
  const traceColumns = REQUEST_AUDIT_COLUMNS.map((c) => `NULL AS ${c}`).join(', ');
  return `
    SELECT * FROM (SELECT seq, at, type, tenant, profile_version, detail, prev_hash, hash, ${traceColumns} FROM audit_log) WHERE ${where}
    UNION ALL
    SELECT * FROM (
      SELECT audit_seq AS seq, started_at AS at, audit_type AS type, tenant, profile_version, NULL AS detail,
        audit_prev_hash AS prev_hash, audit_hash AS hash, ${traceReadColumns(REQUEST_AUDIT_COLUMNS)}
      FROM traces WHERE audit_seq IS NOT NULL
    ) WHERE ${where}`;
}

function toStoredAuditRow(r: AuditUnionRow): StoredAuditRow {
  return {
    seq: r.seq,
    at: r.at,
    type: r.type,
    tenant: r.tenant,
    profile_version: r.profile_version,
    detail: r.detail ?? requestAuditDetailFromRow(r),
    prev_hash: r.prev_hash,
    hash: r.hash,
  };
}

function* storedAuditRows(rows: IterableIterator<AuditUnionRow>): Generator<StoredAuditRow> {
  for (const r of rows) yield toStoredAuditRow(r);
}

const REQUEST_TYPES = ['request.served', 'request.denied'] as const;
const PROFILE_TYPES = ['profile.loaded', 'profile.switched', 'profile.changed'] as const;

const SPEND_KEY: Record<SpendGrouping, string> = {
  tenant: 'tenant',
  model: 'COALESCE(model_used, model_requested)',
  provider: 'provider_id',
  day: 'substr(started_at, 1, 10)',
};

export function openGatewayStore(opts: OpenGatewayStoreOptions): GatewayStore {
  const file = join(opts.dataDir, DATABASE_FILE_NAME);
  const isReadonly = opts.readonly === true;
  const flushIntervalMs = Math.min(Math.max(opts.flushIntervalMs ?? DEFAULT_FLUSH_INTERVAL_MS, 1), MAX_FLUSH_INTERVAL_MS);
  const maxPending = opts.maxPending ?? DEFAULT_MAX_PENDING;
  const onError = opts.onError ?? ((e: Error) => process.emitWarning(e.message, 'ASCStorageWarning'));

  let db: Database.Database;
  if (isReadonly) {
    if (!existsSync(file)) {
      throw new StoreNotFoundError(`no ASC database at ${file} (nothing recorded yet, or pass --data-dir / ASC_DATA_DIR)`);
    }
    db = new Database(file, { readonly: true, fileMustExist: true });
    db.pragma('busy_timeout = 5000');
    assertReadableSchema(db, file);
  } else {
    mkdirSync(opts.dataDir, { recursive: true, mode: 0o700 });
    // Create the file owner-only before SQLite does; SQLite gives -wal and -shm the same mode.
    if (!existsSync(file)) closeSync(openSync(file, 'a', 0o600));
    db = new Database(file);
    // Only takes effect on a new, empty database (before WAL mode is set). Rows are appended in
    // batches, so larger pages mean fewer WAL frames and write calls per request; an existing
    // database keeps the page size it was created with.
    db.pragma(`page_size = ${PAGE_SIZE}`);
    db.pragma('journal_mode = WAL');
    // WAL + NORMAL: a committed batch survives a process crash; an OS crash may lose the last
    // batches but never corrupts the database.
    db.pragma('synchronous = NORMAL');
    db.pragma('busy_timeout = 5000');
    migrate(db);
  }

  const stmt = {
    // Only a repeated trace id is ignored: a clash on audit_seq is an error, never a silently lost request.
    insertTrace: isReadonly
      ? null
      : db.prepare(
          `INSERT INTO traces (${TRACE_INSERT_COLUMNS.join(', ')}) VALUES (${TRACE_INSERT_COLUMNS.map(() => '?').join(', ')}) ON CONFLICT (id) DO NOTHING`,
        ),
    insertAudit: isReadonly
      ? null
      : db.prepare(`INSERT INTO audit_log (seq, at, type, tenant, profile_version, detail, prev_hash, hash) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`),
    upsertHead: isReadonly
      ? null
      : db.prepare(`INSERT INTO audit_head (id, seq, hash) VALUES (1, ?, ?) ON CONFLICT (id) DO UPDATE SET seq = excluded.seq, hash = excluded.hash`),
    head: db.prepare(`SELECT seq, hash FROM audit_head WHERE id = 1`),
    lastAudit: db.prepare(
      `SELECT seq, hash FROM (SELECT seq, hash FROM audit_log UNION ALL SELECT audit_seq, audit_hash FROM traces WHERE audit_seq IS NOT NULL) ORDER BY seq DESC LIMIT 1`,
    ),
    lastCheckpoint: db.prepare(`SELECT seq, hash, at, checkpoint_hash FROM audit_checkpoints ORDER BY seq DESC LIMIT 1`),
    findList: isReadonly ? null : db.prepare(`SELECT id FROM decision_lists WHERE json = ?`).pluck(),
    insertList: isReadonly ? null : db.prepare(`INSERT INTO decision_lists (json, last_used) VALUES (?, '')`),
    touchList: isReadonly ? null : db.prepare(`UPDATE decision_lists SET last_used = @at WHERE id = @id AND last_used < @at`),
  };
  /** Row ids of shared decision lists, by JSON, as committed. */
  const listIds = new BoundedCache<string, number>(MAX_REMEMBERED_LISTS);
  /** Ids found or made by the batch being written: remembered only once it commits. */
  const batchListIds = new Map<string, number>();
  /** Lists named by the batch being written, for their `last_used`. */
  const batchUsedLists = new Set<number>();

  function listId(list: SharedDecisionList): number {
    const known = listIds.get(list.json) ?? batchListIds.get(list.json);
    if (known !== undefined) return known;
    const id = (stmt.findList!.get(list.json) as number | undefined) ?? Number(stmt.insertList!.run(list.json).lastInsertRowid);
    batchListIds.set(list.json, id);
    return id;
  }

  let queue: Pending[] = [];
  let timer: NodeJS.Timeout | null = null;
  let closed = false;

  /** The chain head as committed; read inside the write transaction so a lost batch or another writer cannot fork the chain. */
  function readChainHead(): { seq: number; hash: string } {
    const head = stmt.head.get() as { seq: number; hash: string } | undefined;
    if (head) return head;
    const last = stmt.lastAudit.get() as { seq: number; hash: string } | undefined;
    if (last) return last;
    const cp = stmt.lastCheckpoint.get() as AuditCheckpoint | undefined;
    return cp ? { seq: cp.seq, hash: cp.hash } : { seq: 0, hash: GENESIS_HASH };
  }

  const writeBatch = db.transaction((batch: Pending[]) => {
    const insertTrace = stmt.insertTrace!;
    const insertAudit = stmt.insertAudit!;
    let head = readChainHead();
    const startSeq = head.seq;
    /** The latest started_at of a trace in this batch that names a list: an upper bound for each list's. */
    let lastStarted = '';
    let traces = 0;
    /** The link `a` gets as the next entry; the chain moves on only once its row is written. */
    const nextLink = (a: PendingAudit): { seq: number; hash: string } => {
      const seq = head.seq + 1;
      return { seq, hash: hashAuditEntryText(head.hash, { seq, at: a.at, type: a.type, tenant: a.tenant, profile_version: a.profile_version, detail: a.detail }) };
    };
    for (const item of batch) {
      const link = nextLink(item.audit);
      if (item.kind === 'trace') {
        // The request's audit entry is part of its trace row. A repeated trace id is ignored, and
        // so is its entry: one request, one entry.
        const values = item.values;
        if (item.list !== null) {
          const id = listId(item.list);
          values[DECISION_LIST_INDEX] = id;
          batchUsedLists.add(id);
          if ((values[1] as string) > lastStarted) lastStarted = values[1] as string;
        }
        values[AUDIT_LINK_INDEX] = link.seq;
        values[AUDIT_LINK_INDEX + 1] = item.audit.type;
        values[AUDIT_LINK_INDEX + 2] = head.hash;
        values[AUDIT_LINK_INDEX + 3] = link.hash;
        if (insertTrace.run(values).changes === 0) continue;
        traces++;
      } else {
        const a = item.audit;
        insertAudit.run(link.seq, a.at, a.type, a.tenant, a.profile_version, a.detail, head.hash, link.hash);
      }
      head = link;
    }
    if (head.seq !== startSeq) stmt.upsertHead!.run(head.seq, head.hash);
    for (const id of batchUsedLists) stmt.touchList!.run({ at: lastStarted, id });
    batchUsedLists.clear();
    return { traces, audit: head.seq - startSeq };
  });

  function assertWritable(): void {
    if (closed) throw new StoreStateError('gateway store is closed');
    if (isReadonly) throw new StoreStateError('gateway store was opened read-only');
  }

  function enqueue(item: Pending): void {
    queue.push(item);
    if (queue.length > maxPending) {
      const dropped = queue.length - maxPending;
      queue.splice(0, dropped);
      onError(new Error(`storage queue full: dropped ${dropped} oldest unwritten record(s)`));
    }
    if (timer === null) {
      timer = setTimeout(backgroundFlush, flushIntervalMs);
      timer.unref();
    }
  }

  function backgroundFlush(): void {
    timer = null;
    try {
      flush();
    } catch (e) {
      onError(e instanceof Error ? e : new Error(String(e)));
      if (queue.length > 0 && !closed && timer === null) {
        timer = setTimeout(backgroundFlush, flushIntervalMs);
        timer.unref();
      }
    }
  }

  function flush(): void {
    if (closed || isReadonly || queue.length === 0) return;
    const batch = queue;
    queue = [];
    const started = performance.now();
    let info: { traces: number; audit: number };
    try {
      info = writeBatch.immediate(batch);
    } catch (e) {
      // Rolled back: the list rows this batch made are gone, so are their ids.
      batchListIds.clear();
      batchUsedLists.clear();
      queue = batch.concat(queue);
      throw e;
    }
    for (const [json, id] of batchListIds) listIds.set(json, id);
    batchListIds.clear();
    opts.onFlush?.({ ...info, durationMs: performance.now() - started });
  }

  /**
   * Removes the decision lists last named before the cutoff, once no trace from before it is left:
   * every trace that could name such a list is then gone (a list's `last_used` is at least the
   * started_at of each trace naming it). The writer forgets the ids it knew, removed or not.
   */
  function pruneDecisionLists(cutoff: string): void {
    if (db.prepare(`SELECT 1 FROM traces WHERE started_at < ? LIMIT 1`).get(cutoff) !== undefined) return;
    if (db.prepare(`DELETE FROM decision_lists WHERE last_used < ?`).run(cutoff).changes > 0) listIds.clear();
  }

  /** Reads on the writing store see everything recorded so far. */
  function beforeRead(): void {
    if (closed) throw new StoreStateError('gateway store is closed');
    if (!isReadonly) flush();
  }

  function toAuditRow(r: StoredAuditRow): AuditRow {
    let detail: Record<string, unknown>;
    try {
      detail = JSON.parse(r.detail) as Record<string, unknown>;
    } catch {
      detail = { unparseable: r.detail };
    }
    return { seq: r.seq, at: r.at, type: r.type, tenant: r.tenant, profile_version: r.profile_version, detail, prev_hash: r.prev_hash, hash: r.hash };
  }

  function verifyAudit(): AuditVerifyResult {
    beforeRead();
    return db.transaction(() => {
      const checkpoint = (stmt.lastCheckpoint.get() as AuditCheckpoint | undefined) ?? null;
      const head = (stmt.head.get() as { seq: number; hash: string } | undefined) ?? null;
      const rows = db.prepare(`${auditEntriesSql()} ORDER BY seq`).iterate() as IterableIterator<AuditUnionRow>;
      try {
        return verifyAuditChain(storedAuditRows(rows), { checkpoint, head });
      } finally {
        // An early verdict leaves the statement open; it holds the connection until returned.
        rows.return?.();
      }
    })();
  }

  return {
    file,
    readonly: isReadonly,

    recordTrace(given, capturedBody) {
      assertWritable();
      const trace = scrubTraceForStorage(given);
      const list = sharedDecisionList(trace.decisions);
      const values = traceInsertValues(trace, capturedBody ?? null, list);
      enqueue({
        kind: 'trace',
        values,
        list,
        audit: {
          at: values[1] as string, // started_at, normalised
          type: isDeniedTrace(trace) ? 'request.denied' : 'request.served',
          tenant: trace.tenant,
          profile_version: trace.profileVersion,
          detail: requestAuditDetailJson(trace),
        },
      });
    },

    recordAudit(event) {
      assertWritable();
      enqueue({ kind: 'audit', audit: toPendingAudit(event) });
    },

    flush,

    close() {
      if (closed) return;
      if (timer !== null) clearTimeout(timer);
      timer = null;
      try {
        flush();
      } finally {
        closed = true;
        db.close();
      }
    },

    recentTraces(limit) {
      beforeRead();
      const n = Math.max(0, Math.floor(limit));
      const rows = db.prepare(`SELECT ${traceReadColumns(TRACE_INSERT_COLUMNS)} FROM traces ORDER BY started_at DESC, rowid DESC LIMIT ?`).all(n) as TraceRow[];
      return rows.map(mapRowToTrace);
    },

    capturedBody(traceId) {
      beforeRead();
      const row = db.prepare(`SELECT captured_body FROM traces WHERE id = ?`).get(traceId) as { captured_body: string | null } | undefined;
      return row?.captured_body ?? null;
    },

    spendSummary({ by, since }) {
      beforeRead();
      const key = SPEND_KEY[by];
      if (key === undefined) throw new RangeError(`unknown spend grouping: ${String(by)}`);
      const sinceIso = since === undefined ? '' : parseIsoBound(since, 'since');
      const order = by === 'day' ? 'key ASC' : 'cost_usd DESC, requests DESC, key ASC';
      const rows = db
        .prepare(
          `SELECT ${key} AS key,
             COUNT(*) AS requests,
             SUM(CASE WHEN status >= 400 THEN 1 ELSE 0 END) AS errors,
             COALESCE(SUM(input_tokens), 0) AS input_tokens,
             COALESCE(SUM(output_tokens), 0) AS output_tokens,
             COALESCE(SUM(cached_input_tokens), 0) AS cached_input_tokens,
             COALESCE(SUM(cache_write_tokens), 0) AS cache_write_tokens,
             COALESCE(SUM(cost_usd), 0) AS cost_usd,
             SUM(CASE WHEN cost_usd IS NULL AND provider_id IS NOT NULL THEN 1 ELSE 0 END) AS unpriced
           FROM traces WHERE started_at >= ? GROUP BY 1 ORDER BY ${order}`,
        )
        .all(sinceIso) as Array<{
        key: string | null;
        requests: number;
        errors: number;
        input_tokens: number;
        output_tokens: number;
        cached_input_tokens: number;
        cache_write_tokens: number;
        cost_usd: number;
        unpriced: number;
      }>;
      return rows.map((r) => ({
        key: r.key,
        requests: r.requests,
        errors: r.errors,
        inputTokens: r.input_tokens,
        outputTokens: r.output_tokens,
        cachedInputTokens: r.cached_input_tokens,
        cacheWriteTokens: r.cache_write_tokens,
        costUsd: r.cost_usd,
        unpriced: r.unpriced,
      }));
    },

    spendSince(tenant, sinceIso) {
      beforeRead();
      const row = db
        .prepare(`SELECT COALESCE(SUM(cost_usd), 0) AS usd FROM traces WHERE tenant = ? AND started_at >= ?`)
        .get(tenant, parseIsoBound(sinceIso, 'sinceIso')) as { usd: number };
      return row.usd;
    },

    credentialFingerprintsSeen() {
      beforeRead();
      const rows = db
        .prepare(`SELECT DISTINCT credential_fingerprint AS fp FROM traces WHERE credential_fingerprint IS NOT NULL`)
        .all() as { fp: string }[];
      return rows.map((r) => r.fp);
    },

    verifyAudit,

    exportAudit({ since, until }) {
      beforeRead();
      const lo = since === undefined ? '' : parseIsoBound(since, 'since');
      const hi = until === undefined ? null : parseIsoBound(until, 'until');
      const rows = db.prepare(`${auditEntriesSql('at >= @lo AND (@hi IS NULL OR at < @hi)')} ORDER BY seq`).all({ lo, hi }) as AuditUnionRow[];
      return rows.map((r) => toAuditRow(toStoredAuditRow(r)));
    },

    queryAuditAt(atIso, tenant, queryOpts = {}) {
      beforeRead();
      const at = parseIsoBound(atIso, 'at');
      const windowMinutes = queryOpts.windowMinutes ?? 5;
      const limit = queryOpts.limit ?? 50;
      const t = Date.parse(at);
      const lo = new Date(t - windowMinutes * 60_000).toISOString();
      const hi = new Date(t + windowMinutes * 60_000).toISOString();
      const tenantFilter = tenant === undefined ? '' : 'AND tenant = @tenant';
      const params = { at, lo, hi, limit, tenant: tenant ?? null };
      const requestFilter = `type IN (${REQUEST_TYPES.map((x) => `'${x}'`).join(',')}) AND at >= @lo AND at <= @hi ${tenantFilter}`;
      const requests = db
        .prepare(`SELECT * FROM (${auditEntriesSql(requestFilter)}) ORDER BY abs(julianday(at) - julianday(@at)), seq LIMIT @limit`)
        .all(params) as AuditUnionRow[];
      // Every tenant's profile is logged at load, the inactive ones too (detail.active = false):
      // without a tenant, entries marked inactive cannot answer "which profile was in force", else
      // the answer is whichever tenant happened to be listed last. Entries without the flag
      // (switches, older writers) count as making their profile active.
      const activeFilter = tenant === undefined ? `AND COALESCE(json_extract(detail, '$.active'), 1) != 0` : tenantFilter;
      const profile = db
        .prepare(
          `SELECT * FROM audit_log
           WHERE type IN (${PROFILE_TYPES.map((x) => `'${x}'`).join(',')}) AND at <= @at ${activeFilter}
           ORDER BY at DESC, seq DESC LIMIT 1`,
        )
        .get({ at, tenant: tenant ?? null }) as StoredAuditRow | undefined;
      return {
        at,
        tenant: tenant ?? null,
        windowMinutes,
        activeProfile: profile ? toAuditRow(profile) : null,
        requests: requests.map((r) => toAuditRow(toStoredAuditRow(r))),
      };
    },

    pruneOlderThan(cutoffIso) {
      assertWritable();
      flush();
      const cutoff = parseIsoBound(cutoffIso, 'cutoffIso');
      return db.transaction(() => {
        // Traces written before schema 2 hold no audit entry: they go by age alone.
        let removedTraces = db.prepare(`DELETE FROM traces WHERE audit_seq IS NULL AND started_at < ?`).run(cutoff).changes;
        // Only a prefix of the chain can go: up to the first entry at or after the cutoff. A trace
        // that holds its request's entry goes with that entry, so one that started before the
        // cutoff but was recorded after a newer entry stays until the chain before it goes.
        const firstKept = db.prepare(`SELECT MIN(seq) AS seq FROM (${auditEntriesSql('at >= @cutoff')})`).get({ cutoff }) as { seq: number | null };
        const lastRemoved = firstKept.seq !== null ? firstKept.seq - 1 : ((stmt.lastAudit.get() as { seq: number } | undefined)?.seq ?? 0);
        const checkpoint = (stmt.lastCheckpoint.get() as AuditCheckpoint | undefined) ?? null;
        if (lastRemoved <= (checkpoint?.seq ?? 0)) {
          pruneDecisionLists(cutoff);
          return { removedTraces, removedAudit: 0 };
        }
        // Sign off only a prefix that verifies: pruning must not launder a tampered entry.
        const prefix = db.prepare(`${auditEntriesSql('seq <= @last')} ORDER BY seq`).iterate({ last: lastRemoved }) as IterableIterator<AuditUnionRow>;
        let check;
        try {
          check = verifyAuditChain(storedAuditRows(prefix), { checkpoint, head: null });
        } finally {
          prefix.return?.();
        }
        const last = db.prepare(`SELECT seq, hash, at FROM (${auditEntriesSql('seq = @last')})`).get({ last: lastRemoved }) as
          | { seq: number; hash: string; at: string }
          | undefined;
        if (!check.ok || !last) {
          onError(new Error(`audit pruning skipped: chain broken at entry ${check.ok ? lastRemoved : check.firstBrokenSeq}`));
          return { removedTraces, removedAudit: 0 };
        }
        const removedEntries = db.prepare(`DELETE FROM audit_log WHERE seq <= ?`).run(lastRemoved).changes;
        const removedRequestTraces = db.prepare(`DELETE FROM traces WHERE audit_seq <= ?`).run(lastRemoved).changes;
        removedTraces += removedRequestTraces;
        const removedAudit = removedEntries + removedRequestTraces;
        db.prepare(
          `INSERT INTO audit_checkpoints (seq, hash, at, checkpoint_hash, pruned_at, removed_entries) VALUES (?, ?, ?, ?, ?, ?)`,
        ).run(last.seq, last.hash, last.at, hashCheckpoint(last), new Date().toISOString(), removedAudit);
        pruneDecisionLists(cutoff);
        return { removedTraces, removedAudit };
      }).immediate();
    },
  };
}

function toPendingAudit(event: AuditEvent): PendingAudit {
  if (!(AUDIT_EVENT_TYPES as readonly string[]).includes(event.type)) {
    throw new TypeError(`unknown audit event type: ${String(event.type)}`);
  }
  if (event.detail === null || typeof event.detail !== 'object' || Array.isArray(event.detail)) {
    throw new TypeError('audit event detail must be an object');
  }
  return {
    at: normalizeIsoTime(event.at),
    type: event.type,
    tenant: event.tenant,
    profile_version: event.profileVersion,
    detail: canonicalJson(scrubSecrets(event.detail)),
  };
}
