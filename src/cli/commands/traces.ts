import type { Trace } from '../../shared/trace.js';
import { resolveDataDir } from '../../core/data-dir.js';
import { openGatewayStore, StoreNotFoundError, StoreSchemaError, type GatewayStore } from '../../core/storage/index.js';
import { DATA_DIR_OPTION, intOption, UsageError, type CliCommand, type CliIo, type ParsedArgs } from '../cli-command.js';

const DEFAULT_LIMIT = 20;
const MAX_LIMIT = 10_000;

export const tracesCommand: CliCommand = {
  path: ['traces'],
  summary: 'List recent requests, newest first',
  usage: `[--json] [--limit N] [--data-dir DIR]\n\n  --limit N   how many traces (default ${DEFAULT_LIMIT}, max ${MAX_LIMIT})\n  --json      print one JSON array of trace records`,
  options: { json: { type: 'boolean' }, limit: { type: 'string' }, ...DATA_DIR_OPTION },
  async run({ values }, io) {
    const limit = intOption(values.limit, 'limit', { min: 1, max: MAX_LIMIT }) ?? DEFAULT_LIMIT;
    return withReadStore(values, io, (store) => {
      const traces = store.recentTraces(limit);
      if (values.json === true) {
        io.stdout(`${JSON.stringify(traces, null, 2)}\n`);
        return 0;
      }
      if (traces.length === 0) {
        io.stdout('no traces recorded yet\n');
        return 0;
      }
      io.stdout(formatTable(['TIME', 'STATUS', 'ROUTE', 'MODEL', 'PROVIDER', 'LATENCY', 'TTFT', 'TOKENS IN/OUT', 'COST'], traces.map(toTableRow), [5, 6, 7, 8]));
      return 0;
    });
  },
};

function toTableRow(t: Trace): string[] {
  const used = t.modelUsed && t.modelUsed !== t.modelRequested ? `${t.modelRequested ?? '?'}→${t.modelUsed}` : (t.modelRequested ?? t.modelUsed ?? '-');
  const status = t.errorCode ? `${t.status} ${t.errorCode}` : String(t.status);
  const tokens = `${t.usage.inputTokens ?? '-'}/${t.usage.outputTokens ?? '-'}`;
  return [
    formatTime(t.startedAt),
    status,
    t.route,
    used,
    t.providerId ? (t.providerRegion ? `${t.providerId} (${t.providerRegion})` : t.providerId) : '-',
    `${Math.round(t.latencyMs)}ms`,
    t.ttftMs === null ? '-' : `${Math.round(t.ttftMs)}ms`,
    tokens,
    t.costUsd !== null ? formatUsd(t.costUsd) : t.providerId ? 'unpriced' : '-',
  ];
}

// ---- helpers shared by the storage-reading commands (traces, spend, audit) ----

/**
 * Opens the store read-only for one command. A missing or unreadable database is a one-line
 * message and exit 1, not a stack trace.
 */
export async function withReadStore(values: ParsedArgs['values'], io: CliIo, fn: (store: GatewayStore) => number | Promise<number>): Promise<number> {
  const dataDirFlag = values['data-dir'];
  const dataDir = resolveDataDir(typeof dataDirFlag === 'string' ? dataDirFlag : undefined, io.env);
  let store: GatewayStore;
  try {
    store = openGatewayStore({ dataDir, readonly: true });
  } catch (e) {
    if (e instanceof StoreNotFoundError || e instanceof StoreSchemaError) {
      io.stderr(`asc: ${e.message}\n`);
      return 1;
    }
    throw e;
  }
  try {
    return await fn(store);
  } finally {
    store.close();
  }
}

const DATE_ONLY = /^\d{4}-\d{2}-\d{2}$/;
const DATE_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,9})?)?(Z|[+-]\d{2}:\d{2})?$/;

/**
 * `--since` / `--until` / `--at`: `YYYY-MM-DD` (UTC midnight) or an ISO date-time (without an
 * offset it is local time, as JavaScript reads it). Returned as a UTC ISO string.
 */
export function parseTimeOption(value: string | boolean | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const text = typeof value === 'string' ? value.trim() : '';
  const ms = DATE_ONLY.test(text) || DATE_TIME.test(text) ? Date.parse(text) : Number.NaN;
  if (Number.isNaN(ms)) {
    throw new UsageError(`--${name} must be a date (YYYY-MM-DD) or an ISO time (e.g. 2025-03-01T10:00:00Z), got "${String(value)}"`);
  }
  return new Date(ms).toISOString();
}

/**
 * Recorded values (routes, model names, tenants) come from clients and upstreams: control
 * characters are shown escaped so they cannot move the cursor or recolour the terminal.
 */
export function terminalSafe(text: string): string {
  // eslint-disable-next-line no-control-regex
  return text.replace(/[\u0000-\u001f\u007f-\u009f\u2028\u2029]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** A plain-text table; `rightAligned` lists the numeric columns by index. */
export function formatTable(header: string[], rows: string[][], rightAligned: number[] = []): string {
  const safe = rows.map((r) => r.map(terminalSafe));
  const widths = header.map((h, i) => Math.max(h.length, ...safe.map((r) => (r[i] ?? '').length)));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (rightAligned.includes(i) ? c.padStart(widths[i] ?? 0) : c.padEnd(widths[i] ?? 0)))
      .join('  ')
      .trimEnd();
  return `${[line(header), ...safe.map(line)].join('\n')}\n`;
}

export function formatUsd(usd: number): string {
  if (usd === 0) return '$0';
  if (Math.abs(usd) >= 1) return `$${usd.toFixed(2)}`;
  return `$${usd.toFixed(6).replace(/0+$/, '')}`;
}

export function formatTime(iso: string): string {
  return iso.replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}
