import type { SpendGrouping, SpendRow } from '../../core/storage/index.js';
import { DATA_DIR_OPTION, UsageError, type CliCommand } from '../cli-command.js';
import { formatTable, formatUsd, parseTimeOption, withReadStore } from '../store-output.js';

const GROUPINGS: readonly SpendGrouping[] = ['tenant', 'model', 'provider', 'day'];

export const spendCommand: CliCommand = {
  path: ['spend'],
  summary: 'Total requests, tokens and USD by tenant, model, provider or day',
  usage:
    '[--by tenant|model|provider|day] [--since YYYY-MM-DD|ISO] [--json] [--data-dir DIR]\n\n' +
    '  --by      grouping (default tenant); days are UTC\n' +
    '  --since   only requests started at or after this time (a date alone is UTC midnight)\n' +
    '  --json    print one JSON object { by, since, rows, total }\n\n' +
    'Requests whose model has no price are counted under "unpriced", never as $0.',
  options: { by: { type: 'string' }, since: { type: 'string' }, json: { type: 'boolean' }, ...DATA_DIR_OPTION },
  async run({ values }, io) {
    const by = values.by ?? 'tenant';
    if (typeof by !== 'string' || !(GROUPINGS as readonly string[]).includes(by)) {
      throw new UsageError(`--by must be one of ${GROUPINGS.join(', ')}, got "${String(by)}"`);
    }
    const grouping = by as SpendGrouping;
    const since = parseTimeOption(values.since, 'since');
    return withReadStore(values, io, (store) => {
      const rows = store.spendSummary(since === undefined ? { by: grouping } : { by: grouping, since });
      const total = sumRows(rows);
      if (values.json === true) {
        io.stdout(`${JSON.stringify({ by: grouping, since: since ?? null, rows, total }, null, 2)}\n`);
        return 0;
      }
      const scope = since === undefined ? '' : ` since ${since}`;
      if (rows.length === 0) {
        io.stdout(`no requests recorded${scope}\n`);
        return 0;
      }
      const cells = (key: string, r: Omit<SpendRow, 'key'>): string[] => [
        key,
        String(r.requests),
        String(r.errors),
        String(r.inputTokens),
        String(r.outputTokens),
        String(r.cachedInputTokens),
        formatUsd(r.costUsd),
        String(r.unpriced),
      ];
      const table = formatTable(
        [grouping.toUpperCase(), 'REQUESTS', 'ERRORS', 'TOKENS IN', 'TOKENS OUT', 'CACHED IN', 'USD', 'UNPRICED'],
        [...rows.map((r) => cells(r.key ?? '(none)', r)), cells('TOTAL', total)],
        [1, 2, 3, 4, 5, 6, 7],
      );
      io.stdout(`spend by ${grouping}${scope}\n${table}`);
      io.stdout(
        `total: ${formatUsd(total.costUsd)} over ${total.requests} request(s); unpriced: ${total.unpriced}` +
          (total.unpriced > 0 ? ' (no price known: not included in the USD total)' : '') +
          '\n',
      );
      return 0;
    });
  },
};

function sumRows(rows: SpendRow[]): Omit<SpendRow, 'key'> {
  const total = { requests: 0, errors: 0, inputTokens: 0, outputTokens: 0, cachedInputTokens: 0, cacheWriteTokens: 0, costUsd: 0, unpriced: 0 };
  for (const r of rows) {
    total.requests += r.requests;
    total.errors += r.errors;
    total.inputTokens += r.inputTokens;
    total.outputTokens += r.outputTokens;
    total.cachedInputTokens += r.cachedInputTokens;
    total.cacheWriteTokens += r.cacheWriteTokens;
    total.costUsd += r.costUsd;
    total.unpriced += r.unpriced;
  }
  return total;
}
