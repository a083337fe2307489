import type Database from 'better-sqlite3';

/**
 * Schema migrations, applied in order inside one transaction each; `PRAGMA user_version` holds
 * the number of migrations applied. Append new migrations, never edit an applied one.
 */
const MIGRATIONS: readonly string[] = [
  // 1: traces (one row per request = the spend row), hash-chained audit log, pruning checkpoints.
  `
  CREATE TABLE traces (
    id TEXT PRIMARY KEY,
    started_at TEXT NOT NULL,
    ended_at TEXT NOT NULL,
    tenant TEXT,
    profile_version INTEGER,
    client_key_id TEXT,
    route TEXT NOT NULL,
    method TEXT NOT NULL,
    model_requested TEXT,
    model_used TEXT,
    provider_id TEXT,
    provider_region TEXT,
    credential_fingerprint TEXT,
    status INTEGER NOT NULL,
    error_code TEXT,
    latency_ms REAL NOT NULL,
    ttft_ms REAL,
    streamed INTEGER NOT NULL,
    input_tokens INTEGER,
    output_tokens INTEGER,
    cached_input_tokens INTEGER,
    cache_write_tokens INTEGER,
    cost_usd REAL,
    cost_note TEXT,
    attempts TEXT NOT NULL,
    decisions TEXT NOT NULL,
    warnings TEXT NOT NULL,
    -- Only when the profile's logging.capture allows it (redacted or full); NULL otherwise.
    captured_body TEXT
  );
  CREATE INDEX traces_started_at ON traces (started_at);
  CREATE INDEX traces_tenant_started_at ON traces (tenant, started_at);

  CREATE TABLE audit_log (
    seq INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    type TEXT NOT NULL,
    tenant TEXT,
    profile_version INTEGER,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
  );
  CREATE INDEX audit_log_at ON audit_log (at);

  -- The writer's view of the chain head, updated in the same transaction as each append, so
  -- entries cut off the end of the chain are noticed by verify.
  CREATE TABLE audit_head (
    id INTEGER PRIMARY KEY CHECK (id = 1),
    seq INTEGER NOT NULL,
    hash TEXT NOT NULL
  );

  CREATE TABLE audit_checkpoints (
    seq INTEGER PRIMARY KEY,
    hash TEXT NOT NULL,
    at TEXT NOT NULL,
    checkpoint_hash TEXT NOT NULL,
    pruned_at TEXT NOT NULL,
    removed_entries INTEGER NOT NULL
  );
  `,
  // 2: a request's audit entry is held in its own trace row rather than in a second row: one row
  // per request, about a third fewer bytes written. The chain's other entries, and request entries
  // written before this migration, stay in audit_log; seq is one sequence across both tables.
  `
  ALTER TABLE traces ADD COLUMN audit_seq INTEGER;
  ALTER TABLE traces ADD COLUMN audit_type TEXT;
  ALTER TABLE traces ADD COLUMN audit_prev_hash TEXT;
  ALTER TABLE traces ADD COLUMN audit_hash TEXT;
  CREATE UNIQUE INDEX traces_audit_seq ON traces (audit_seq) WHERE audit_seq IS NOT NULL;
  `,
  // 3: a list of decisions shared by many requests (the same profile, model and route) is stored
  // once, and a trace row names it instead of repeating its JSON: a full profile's list is ~300
  // bytes on every request otherwise. Rows written before keep their JSON in traces.decisions.
  // last_used: the latest started_at of a trace naming the list, so retention can remove a list
  // once every trace that could name it is gone.
  `
  CREATE TABLE decision_lists (
    id INTEGER PRIMARY KEY,
    json TEXT NOT NULL UNIQUE,
    last_used TEXT NOT NULL
  );
  ALTER TABLE traces ADD COLUMN decision_list_id INTEGER;
  `,
];

export const SCHEMA_VERSION = MIGRATIONS.length;

export class StoreSchemaError extends Error {
  override readonly name = 'StoreSchemaError';
}

export function schemaVersion(db: Database.Database): number {
  return db.pragma('user_version', { simple: true }) as number;
}

/** Brings a writable database up to `SCHEMA_VERSION`; refuses a database written by a newer ASC. */
export function migrate(db: Database.Database): void {
  const current = schemaVersion(db);
  if (current > SCHEMA_VERSION) {
    throw new StoreSchemaError(`database schema version ${current} is newer than this ASC supports (${SCHEMA_VERSION}); upgrade ASC`);
  }
  for (let v = current; v < SCHEMA_VERSION; v++) {
    const sql = MIGRATIONS[v] as string;
    db.transaction(() => {
      // Another process may have migrated while we waited for the write lock.
      if (schemaVersion(db) !== v) return;
      db.exec(sql);
      db.pragma(`user_version = ${v + 1}`);
    }).immediate();
  }
}

/** A read-only opener cannot migrate: say what to do instead of failing on a missing column. */
export function assertReadableSchema(db: Database.Database, file: string): void {
  const current = schemaVersion(db);
  if (current === SCHEMA_VERSION) return;
  if (current > SCHEMA_VERSION) {
    throw new StoreSchemaError(`database ${file} has schema version ${current}, newer than this ASC supports (${SCHEMA_VERSION}); upgrade ASC`);
  }
  throw new StoreSchemaError(`database ${file} has schema version ${current}, older than this ASC expects (${SCHEMA_VERSION}); start the gateway once to upgrade it`);
}
