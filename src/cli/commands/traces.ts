import type { Trace } from '../../shared/trace.js';
import { DATA_DIR_OPTION, intOption, type CliCommand } from '../cli-command.js';
import { formatTable, formatTime, formatUsd, withReadStore } from '../store-output.js';

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
