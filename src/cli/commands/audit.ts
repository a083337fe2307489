import { canonicalJson, type AuditRow } from '../../core/storage/index.js';
import { DATA_DIR_OPTION, intOption, UsageError, type CliCommand } from '../cli-command.js';
import { formatTable, formatTime, parseTimeOption, terminalSafe, withReadStore } from '../store-output.js';

export const auditVerifyCommand: CliCommand = {
  path: ['audit', 'verify'],
  summary: 'Check the audit log hash chain',
  usage: '[--data-dir DIR]\n\nExit 0 when every entry links and hashes correctly; otherwise exit 1 naming the first broken entry.',
  options: { ...DATA_DIR_OPTION },
  async run({ values }, io) {
    return withReadStore(values, io, (store) => {
      const result = store.verifyAudit();
      if (result.ok) {
        io.stdout(`audit chain OK: ${result.entries} entries\n`);
        return 0;
      }
      io.stderr(`audit chain BROKEN at entry ${result.firstBrokenSeq}: ${result.reason} (${result.entries} entries verified before it)\n`);
      return 1;
    });
  },
};

const EXPORT_FIELDS = ['seq', 'at', 'type', 'tenant', 'profile_version', 'detail', 'prev_hash', 'hash'] as const;

export const auditExportCommand: CliCommand = {
  path: ['audit', 'export'],
  summary: 'Export audit entries with their chain hashes (JSON Lines or CSV)',
  usage:
    '[--format jsonl|csv] [--since YYYY-MM-DD|ISO] [--until YYYY-MM-DD|ISO] [--data-dir DIR]\n\n' +
    '  --format   jsonl (default) or csv\n' +
    '  --since    entries at or after this time; --until: entries before this time\n\n' +
    'Each entry carries seq, prev_hash and hash: hash = sha256_hex(prev_hash + canonical JSON of\n' +
    '{seq, at, type, tenant, profile_version, detail}) with keys sorted and no whitespace.',
  options: { format: { type: 'string' }, since: { type: 'string' }, until: { type: 'string' }, ...DATA_DIR_OPTION },
  async run({ values }, io) {
    const format = values.format ?? 'jsonl';
    if (format !== 'jsonl' && format !== 'csv') throw new UsageError(`--format must be jsonl or csv, got "${String(format)}"`);
    const since = parseTimeOption(values.since, 'since');
    const until = parseTimeOption(values.until, 'until');
    if (since !== undefined && until !== undefined && since >= until) throw new UsageError('--since must be before --until');
    return withReadStore(values, io, (store) => {
      const rows = store.exportAudit({ ...(since === undefined ? {} : { since }), ...(until === undefined ? {} : { until }) });
      if (format === 'jsonl') {
        io.stdout(rows.map((r) => `${JSON.stringify(orderFields(r))}\n`).join(''));
      } else {
        const lines = [EXPORT_FIELDS.join(',')];
        for (const r of rows) lines.push(EXPORT_FIELDS.map((f) => csvCell(f === 'detail' ? canonicalJson(r.detail) : r[f])).join(','));
        io.stdout(`${lines.join('\r\n')}\r\n`);
      }
      return 0;
    });
  },
};

export const auditQueryCommand: CliCommand = {
  path: ['audit', 'query'],
  summary: 'Who used which model with which credential around a given time',
  usage:
    '--at <YYYY-MM-DD|ISO time> [--tenant T] [--window MINUTES] [--json] [--data-dir DIR]\n\n' +
    '  --at       the moment in question\n' +
    '  --tenant   only this tenant\n' +
    '  --window   look this many minutes either side (default 5, max 1440)\n' +
    '  --json     print one JSON object { at, tenant, windowMinutes, activeProfile, requests }',
  options: { at: { type: 'string' }, tenant: { type: 'string' }, window: { type: 'string' }, json: { type: 'boolean' }, ...DATA_DIR_OPTION },
  async run({ values }, io) {
    const at = parseTimeOption(values.at, 'at');
    if (at === undefined) throw new UsageError('--at is required (see: asc audit query --help)');
    const windowMinutes = intOption(values.window, 'window', { min: 1, max: 1440 }) ?? 5;
    const tenant = typeof values.tenant === 'string' ? values.tenant : undefined;
    return withReadStore(values, io, (store) => {
      const result = store.queryAuditAt(at, tenant, { windowMinutes });
      if (values.json === true) {
        io.stdout(`${JSON.stringify(result, null, 2)}\n`);
        return 0;
      }
      const scope = tenant === undefined ? '' : `, tenant ${terminalSafe(tenant)}`;
      const out: string[] = [`audit around ${result.at} (±${windowMinutes} min${scope})`];
      const p = result.activeProfile;
      out.push(
        p
          ? `active profile: ${terminalSafe(p.tenant ?? '(no tenant)')} v${p.profile_version ?? '?'} (${p.type} at ${formatTime(p.at)}, entry ${p.seq})`
          : 'active profile: none recorded before this time',
      );
      if (result.requests.length === 0) {
        out.push('no requests in this window');
        io.stdout(`${out.join('\n')}\n`);
        return 0;
      }
      out.push('requests, nearest first:');
      const t0 = Date.parse(result.at);
      const rows = result.requests.map((r) => [
        String(r.seq),
        formatTime(r.at),
        formatOffset(Date.parse(r.at) - t0),
        r.type === 'request.denied' ? 'denied' : 'served',
        r.tenant ?? '-',
        modelText(r),
        str(r.detail.providerId),
        str(r.detail.credentialFingerprint),
        str(r.detail.status),
        str(r.detail.traceId),
      ]);
      io.stdout(`${out.join('\n')}\n${formatTable(['SEQ', 'TIME', 'OFFSET', 'OUTCOME', 'TENANT', 'MODEL', 'PROVIDER', 'CREDENTIAL', 'STATUS', 'TRACE'], rows, [0, 2])}`);
      return 0;
    });
  },
};

function orderFields(r: AuditRow): Record<string, unknown> {
  return Object.fromEntries(EXPORT_FIELDS.map((f) => [f, r[f]]));
}

/** RFC 4180: quote when needed, double embedded quotes. */
function csvCell(value: unknown): string {
  if (value === null || value === undefined) return '';
  const text = String(value);
  return /[",\r\n]/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

function str(v: unknown): string {
  return v === null || v === undefined ? '-' : String(v);
}

function modelText(r: AuditRow): string {
  const requested = r.detail.modelRequested;
  const used = r.detail.modelUsed;
  if (typeof used === 'string' && used !== requested) return `${str(requested)}→${used}`;
  return str(requested ?? used);
}

function formatOffset(ms: number): string {
  const s = Math.round(ms / 1000);
  const sign = s < 0 ? '-' : '+';
  const abs = Math.abs(s);
  return abs >= 60 ? `${sign}${Math.floor(abs / 60)}m${String(abs % 60).padStart(2, '0')}s` : `${sign}${abs}s`;
}
