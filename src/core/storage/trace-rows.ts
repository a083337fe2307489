import type { Decision, Trace } from '../../shared/trace.js';
import type { AuditEvent } from './audit-chain.js';
import { scrubString } from './secret-scrub.js';

/** The `traces` table row; column names match the schema. */
export interface TraceRow {
  id: string;
  started_at: string;
  ended_at: string;
  tenant: string | null;
  profile_version: number | null;
  client_key_id: string | null;
  route: string;
  method: string;
  model_requested: string | null;
  model_used: string | null;
  provider_id: string | null;
  provider_region: string | null;
  credential_fingerprint: string | null;
  status: number;
  error_code: string | null;
  latency_ms: number;
  ttft_ms: number | null;
  streamed: number;
  input_tokens: number | null;
  output_tokens: number | null;
  cached_input_tokens: number | null;
  cache_write_tokens: number | null;
  cost_usd: number | null;
  cost_note: string | null;
  attempts: string;
  /** The decisions' JSON; empty when `decision_list_id` names a shared list instead (schema 3 on). */
  decisions: string;
  warnings: string;
  captured_body: string | null;
  /** The request's audit entry, held in its trace row (schema 2 on; null in rows written before). */
  audit_seq: number | null;
  audit_type: string | null;
  audit_prev_hash: string | null;
  audit_hash: string | null;
  /** A row of `decision_lists` holding this request's decisions, when they are a list shared by many requests. */
  decision_list_id: number | null;
}

/**
 * ISO times are stored as `Date#toISOString()` (UTC, milliseconds) so that range queries can
 * compare text; a value that does not parse as a date is kept as given rather than invented.
 */
const ISO_UTC_MS = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

export function normalizeIsoTime(value: string): string {
  // Traces already carry `toISOString()` output: skip the date round trip on the write path.
  if (value.length === 24 && value.charCodeAt(23) === 90 /* Z */ && ISO_UTC_MS.test(value)) return value;
  const ms = Date.parse(value);
  return Number.isNaN(ms) ? value : new Date(ms).toISOString();
}

/** For query bounds supplied by callers: an unparseable bound is a programming error, not an empty result. */
export function parseIsoBound(value: string, name: string): string {
  const ms = Date.parse(value);
  if (Number.isNaN(ms)) throw new RangeError(`${name} is not a valid ISO time: ${JSON.stringify(value)}`);
  return new Date(ms).toISOString();
}

/** Column order of `traceInsertValues`; the round-trip test fails if the two drift apart. */
export const TRACE_INSERT_COLUMNS = [
  'id', 'started_at', 'ended_at', 'tenant', 'profile_version', 'client_key_id', 'route', 'method', 'model_requested',
  'model_used', 'provider_id', 'provider_region', 'credential_fingerprint', 'status', 'error_code', 'latency_ms', 'ttft_ms',
  'streamed', 'input_tokens', 'output_tokens', 'cached_input_tokens', 'cache_write_tokens', 'cost_usd', 'cost_note',
  'attempts', 'decisions', 'warnings', 'captured_body', 'audit_seq', 'audit_type', 'audit_prev_hash', 'audit_hash', 'decision_list_id',
] as const satisfies readonly (keyof TraceRow)[];

/**
 * Where `traceInsertValues` leaves the request's audit link (seq, type, prev hash, hash) for the
 * writer to fill in: the seq is only known inside the write transaction.
 */
export const AUDIT_LINK_INDEX = TRACE_INSERT_COLUMNS.indexOf('audit_seq');

/** Where `traceInsertValues` leaves the shared decision list's row id for the writer to fill in. */
export const DECISION_LIST_INDEX = TRACE_INSERT_COLUMNS.indexOf('decision_list_id');

/**
 * The `traces` columns as read back, `decisions` resolved: a row that names a shared list reads
 * the list's JSON (null if that row is gone, which reads as no decisions). For `SELECT` lists.
 */
export function traceReadColumns(columns: readonly (keyof TraceRow)[], table = 'traces'): string {
  return columns
    .map((c) =>
      c === 'decisions'
        ? `CASE WHEN ${table}.decision_list_id IS NULL THEN ${table}.decisions ELSE (SELECT json FROM decision_lists WHERE id = ${table}.decision_list_id) END AS decisions`
        : `${table}.${c}`,
    )
    .join(', ');
}

/**
 * A trace as the positional parameters of the traces INSERT, in `TRACE_INSERT_COLUMNS` order, the
 * audit link and the decision list's id left null. better-sqlite3 binds an array about a third
 * faster than named parameters looked up on an object, and the batch writer runs on the event loop.
 * Give it a trace from `scrubTraceForStorage`; with `sharedList` (its decisions' shared list) the
 * decisions column is left empty for the list's id.
 */
export function traceInsertValues(trace: Trace, capturedBody: string | null, sharedList: SharedDecisionList | null = null): unknown[] {
  return [
    trace.id,
    normalizeIsoTime(trace.startedAt),
    normalizeIsoTime(trace.endedAt),
    trace.tenant,
    trace.profileVersion,
    trace.clientKeyId,
    trace.route,
    trace.method,
    trace.modelRequested,
    trace.modelUsed,
    trace.providerId,
    trace.providerRegion,
    trace.credentialFingerprint,
    trace.status,
    trace.errorCode,
    trace.latencyMs,
    trace.ttftMs,
    trace.streamed ? 1 : 0,
    trace.usage.inputTokens,
    trace.usage.outputTokens,
    trace.usage.cachedInputTokens,
    trace.usage.cacheWriteTokens,
    trace.costUsd,
    trace.costNote,
    JSON.stringify(trace.attempts),
    sharedList === null ? decisionsJson(trace.decisions) : '',
    JSON.stringify(trace.warnings),
    capturedBody,
    null,
    null,
    null,
    null,
    null,
  ];
}

/**
 * A list of decisions every element of which is shared (frozen), as most requests' lists are: the
 * allow-list's and residency's per profile and model, the output clamp's and the rate limits' per
 * profile. Such a list is stored once, in `decision_lists`, and a trace row holds its id: a full
 * profile's list is ~300 bytes of JSON, written on every request otherwise. One object per distinct
 * sequence of decision objects; `json` is `JSON.stringify` of the list.
 */
export interface SharedDecisionList {
  readonly json: string;
}

interface ListNode extends SharedDecisionList {
  /** The list's JSON without its closing `]`, to extend. */
  readonly open: string;
  readonly next: WeakMap<Decision, ListNode>;
}

/** Lists by their decisions, one level per position; entries go when their decisions do. */
const LIST_ROOTS = new WeakMap<Decision, ListNode>();

/** The shared list these decisions are, or null when any of them was made for one request only. */
export function sharedDecisionList(decisions: readonly Decision[]): SharedDecisionList | null {
  if (decisions.length === 0) return null;
  let level = LIST_ROOTS;
  let node: ListNode | undefined;
  for (let i = 0; i < decisions.length; i++) {
    const d = decisions[i] as Decision;
    let found = level.get(d);
    if (found === undefined) {
      if (typeof d !== 'object' || d === null || !Object.isFrozen(d)) return null;
      const open = `${node === undefined ? '[' : `${node.open},`}${decisionJson(d)}`;
      found = { open, json: `${open}]`, next: new WeakMap() };
      level.set(d, found);
    }
    node = found;
    level = found.next;
  }
  return node ?? null;
}

/**
 * The JSON of frozen decisions, which are shared by every request they apply to: routing's, kept
 * per profile and model, and the output clamp's, kept per compiled profile.
 */
const FROZEN_DECISION_JSON = new WeakMap<Decision, string>();

/**
 * `JSON.stringify(decisions)`, byte for byte, writing each frozen decision's JSON once rather than
 * on every request (a full profile records four or five decisions per request, most of them
 * shared; serialising them was about 1 µs of each request's write).
 */
export function decisionsJson(decisions: readonly Decision[]): string {
  if (decisions.length === 0) return '[]';
  let out = '[';
  for (let i = 0; i < decisions.length; i++) {
    const d = decisions[i] as Decision;
    let json = FROZEN_DECISION_JSON.get(d);
    if (json === undefined) {
      json = decisionJson(d);
      if (typeof d === 'object' && d !== null && Object.isFrozen(d)) FROZEN_DECISION_JSON.set(d, json);
    }
    out += i === 0 ? json : `,${json}`;
  }
  return `${out}]`;
}

/**
 * `JSON.stringify(d)`. A decision made per request (a guardrail's counts, a clamp of the client's
 * own value, a denial) has the shape every decision is built with, `{ rule, outcome, detail? }`:
 * written out member by member it costs less than half of what `JSON.stringify` takes (measured on
 * a list of one fresh decision: 112 against 250 ns). Anything else, or a string that needs
 * escaping, goes to `JSON.stringify`.
 */
function decisionJson(d: Decision): string {
  if (typeof d === 'object' && d !== null && Object.getPrototypeOf(d) === Object.prototype && (d as { toJSON?: unknown }).toJSON === undefined) {
    const { rule, outcome, detail } = d;
    if (typeof rule === 'string' && typeof outcome === 'string' && (detail === undefined || typeof detail === 'string') && hasDecisionKeys(d, detail !== undefined)) {
      const head = `{"rule":${jsonString(rule)},"outcome":${jsonString(outcome)}`;
      return detail === undefined ? `${head}}` : `${head},"detail":${jsonString(detail)}}`;
    }
  }
  // `?? 'null'` as JSON.stringify writes a hole.
  return JSON.stringify(d) ?? 'null';
}

/** Own enumerable keys exactly `rule`, `outcome` and, when present, `detail`, in that order: JSON.stringify's order. */
function hasDecisionKeys(d: object, withDetail: boolean): boolean {
  const keys = Object.keys(d);
  return keys.length === (withDetail ? 3 : 2) && keys[0] === 'rule' && keys[1] === 'outcome' && (!withDetail || keys[2] === 'detail');
}

/** Printable ASCII other than `"` and `\`: what JSON.stringify writes unchanged. */
const JSON_VERBATIM = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;
function jsonString(s: string): string {
  return JSON_VERBATIM.test(s) ? `"${s}"` : JSON.stringify(s);
}

/**
 * The trace as it is stored: the text fields its audit detail is made of, with anything that looks
 * like a credential masked. The detail is rebuilt from the stored columns when the chain is
 * verified, so the columns must hold exactly the masked text that was hashed. The same object
 * when nothing needed masking, which is the rule.
 */
export function scrubTraceForStorage(trace: Trace): Trace {
  const id = scrubString(trace.id);
  const route = scrubString(trace.route);
  const clientKeyId = scrubNullable(trace.clientKeyId);
  const modelRequested = scrubNullable(trace.modelRequested);
  const modelUsed = scrubNullable(trace.modelUsed);
  const providerId = scrubNullable(trace.providerId);
  const providerRegion = scrubNullable(trace.providerRegion);
  const credentialFingerprint = scrubNullable(trace.credentialFingerprint);
  const errorCode = scrubNullable(trace.errorCode);
  if (
    id === trace.id &&
    route === trace.route &&
    clientKeyId === trace.clientKeyId &&
    modelRequested === trace.modelRequested &&
    modelUsed === trace.modelUsed &&
    providerId === trace.providerId &&
    providerRegion === trace.providerRegion &&
    credentialFingerprint === trace.credentialFingerprint &&
    errorCode === trace.errorCode
  ) {
    return trace;
  }
  return { ...trace, id, route, clientKeyId, modelRequested, modelUsed, providerId, providerRegion, credentialFingerprint, errorCode };
}

function scrubNullable(v: string | null): string | null {
  return v === null ? null : scrubString(v);
}

export function mapRowToTrace(row: TraceRow): Trace {
  return {
    id: row.id,
    startedAt: row.started_at,
    endedAt: row.ended_at,
    tenant: row.tenant,
    profileVersion: row.profile_version,
    clientKeyId: row.client_key_id,
    route: row.route,
    method: row.method,
    modelRequested: row.model_requested,
    providerId: row.provider_id,
    providerRegion: row.provider_region,
    modelUsed: row.model_used,
    credentialFingerprint: row.credential_fingerprint,
    status: row.status,
    errorCode: row.error_code,
    latencyMs: row.latency_ms,
    ttftMs: row.ttft_ms,
    streamed: row.streamed === 1,
    usage: {
      inputTokens: row.input_tokens,
      outputTokens: row.output_tokens,
      cachedInputTokens: row.cached_input_tokens,
      cacheWriteTokens: row.cache_write_tokens,
    },
    costUsd: row.cost_usd,
    costNote: row.cost_note,
    attempts: parseJsonArray(row.attempts) as Trace['attempts'],
    decisions: parseJsonArray(row.decisions) as Trace['decisions'],
    warnings: parseJsonArray(row.warnings) as Trace['warnings'],
  };
}

function parseJsonArray(text: string): unknown[] {
  try {
    const v: unknown = JSON.parse(text);
    return Array.isArray(v) ? v : [];
  } catch {
    return [];
  }
}

/**
 * A request is audited as denied when the gateway refused it before any upstream was tried (or a
 * policy rule said deny); everything that reached a provider is "served", with its status and
 * error code in the detail, because the audit question is who used which model with which key.
 */
export function isDeniedTrace(trace: Trace): boolean {
  if (trace.status < 400) return false;
  // Attempts skipped (no key, circuit open, untranslatable) never reached a provider.
  return trace.attempts.every((a) => a.outcome === 'skipped') || trace.decisions.some((d) => d.outcome === 'deny');
}

export function mapTraceToAuditEvent(trace: Trace): AuditEvent {
  const deniedBy = deniedRules(trace);
  const event: AuditEvent = {
    type: isDeniedTrace(trace) ? 'request.denied' : 'request.served',
    at: trace.startedAt,
    tenant: trace.tenant,
    profileVersion: trace.profileVersion,
    detail: {
      traceId: trace.id,
      route: trace.route,
      clientKeyId: trace.clientKeyId,
      modelRequested: trace.modelRequested,
      modelUsed: trace.modelUsed,
      providerId: trace.providerId,
      providerRegion: trace.providerRegion,
      credentialFingerprint: trace.credentialFingerprint,
      status: trace.status,
      errorCode: trace.errorCode,
      costUsd: trace.costUsd,
    },
  };
  if (deniedBy.length > 0) event.detail.deniedBy = deniedBy;
  return event;
}

/**
 * The canonical JSON of a request's audit detail, spelled out directly: it is what every request
 * pays on the write path. For a trace from `scrubTraceForStorage` it equals
 * `canonicalJson(scrubSecrets(mapTraceToAuditEvent(t).detail))` (keys in sorted order, strings
 * masked) — a test holds the two together. Verification rebuilds it from the stored row
 * (`requestAuditDetailFromRow`), so it must depend only on fields that round-trip through the
 * traces table.
 */
export function requestAuditDetailJson(trace: RequestAuditFields): string {
  const deniedBy = deniedRules(trace);
  return (
    `{"clientKeyId":${str(trace.clientKeyId)},"costUsd":${num(trace.costUsd)},"credentialFingerprint":${str(trace.credentialFingerprint)}` +
    (deniedBy.length > 0 ? `,"deniedBy":[${deniedBy.map(str).join(',')}]` : '') +
    `,"errorCode":${str(trace.errorCode)},"modelRequested":${str(trace.modelRequested)},"modelUsed":${str(trace.modelUsed)}` +
    `,"providerId":${str(trace.providerId)},"providerRegion":${str(trace.providerRegion)},"route":${str(trace.route)}` +
    `,"status":${num(trace.status)},"traceId":${str(trace.id)}}`
  );
}

type RequestAuditFields = Pick<
  Trace,
  'id' | 'route' | 'clientKeyId' | 'modelRequested' | 'modelUsed' | 'providerId' | 'providerRegion' | 'credentialFingerprint' | 'status' | 'errorCode' | 'costUsd' | 'decisions'
>;

/** The trace columns a request's audit detail is rebuilt from. */
export const REQUEST_AUDIT_COLUMNS = [
  'id', 'route', 'client_key_id', 'model_requested', 'model_used', 'provider_id', 'provider_region', 'credential_fingerprint',
  'status', 'error_code', 'cost_usd', 'decisions',
] as const satisfies readonly (keyof TraceRow)[];

export type RequestAuditColumns = Pick<TraceRow, (typeof REQUEST_AUDIT_COLUMNS)[number]>;

/** `requestAuditDetailJson` of the trace a stored row holds; a column changed since makes it differ, and the hash with it. */
export function requestAuditDetailFromRow(row: RequestAuditColumns): string {
  return requestAuditDetailJson({
    id: row.id,
    route: row.route,
    clientKeyId: row.client_key_id,
    modelRequested: row.model_requested,
    modelUsed: row.model_used,
    providerId: row.provider_id,
    providerRegion: row.provider_region,
    credentialFingerprint: row.credential_fingerprint,
    status: row.status,
    errorCode: row.error_code,
    costUsd: row.cost_usd,
    decisions: parseJsonArray(row.decisions) as Trace['decisions'],
  });
}

function deniedRules(trace: Pick<Trace, 'decisions'>): string[] {
  const out: string[] = [];
  // A stored row may have been edited: anything that is not a well-formed decision is skipped here,
  // so the rebuilt detail differs and verification reports the entry instead of throwing.
  for (const d of trace.decisions as unknown[]) {
    if (d !== null && typeof d === 'object' && (d as Decision).outcome === 'deny' && typeof (d as Decision).rule === 'string') out.push((d as Decision).rule);
  }
  return out;
}

function str(v: string | null): string {
  return v === null ? 'null' : JSON.stringify(v);
}

function num(v: number | null): string {
  return v === null || !Number.isFinite(v) ? 'null' : JSON.stringify(v);
}
