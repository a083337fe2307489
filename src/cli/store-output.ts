// Reading the store and printing what it holds: shared by `asc traces`, `asc spend` and `asc audit`.
import { resolveDataDir } from '../core/data-dir.js';
import { openGatewayStore, StoreNotFoundError, StoreSchemaError, type GatewayStore } from '../core/storage/index.js';
import { UsageError, type CliIo, type ParsedArgs } from './cli-command.js';

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
