import type { Trace } from '../../shared/trace.js';
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
  decisions: string;
  warnings: string;
  captured_body: string | null;
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
  'attempts', 'decisions', 'warnings', 'captured_body',
] as const satisfies readonly (keyof TraceRow)[];

/**
 * A trace as the positional parameters of the traces INSERT, in `TRACE_INSERT_COLUMNS` order.
 * better-sqlite3 binds an array about a third faster than named parameters looked up on an
 * object, and the batch writer runs on the event loop.
 */
export function traceInsertValues(trace: Trace, capturedBody: string | null): unknown[] {
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
    JSON.stringify(trace.decisions),
    JSON.stringify(trace.warnings),
    capturedBody,
  ];
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
 * pays on the write path, and it equals `canonicalJson(scrubSecrets(mapTraceToAuditEvent(t).detail))`
 * (keys in sorted order, strings scrubbed) — a test holds the two together.
 */
export function requestAuditDetailJson(trace: Trace): string {
  const deniedBy = deniedRules(trace);
  return (
    `{"clientKeyId":${str(trace.clientKeyId)},"costUsd":${num(trace.costUsd)},"credentialFingerprint":${str(trace.credentialFingerprint)}` +
    (deniedBy.length > 0 ? `,"deniedBy":[${deniedBy.map(str).join(',')}]` : '') +
    `,"errorCode":${str(trace.errorCode)},"modelRequested":${str(trace.modelRequested)},"modelUsed":${str(trace.modelUsed)}` +
    `,"providerId":${str(trace.providerId)},"providerRegion":${str(trace.providerRegion)},"route":${str(trace.route)}` +
    `,"status":${num(trace.status)},"traceId":${str(trace.id)}}`
  );
}

function deniedRules(trace: Trace): string[] {
  const out: string[] = [];
  for (const d of trace.decisions) if (d.outcome === 'deny') out.push(d.rule);
  return out;
}

function str(v: string | null): string {
  return v === null ? 'null' : JSON.stringify(scrubString(v));
}

function num(v: number | null): string {
  return v === null || !Number.isFinite(v) ? 'null' : JSON.stringify(v);
}
