/** Statistics, pass/fail checks and the Markdown report. */
import type { GuardrailReport } from './guardrails.js';
import { guardrailTable } from './guardrails.js';
import type { LoadSample } from './measure.js';
import { AA_CONTROL_ID, POLICY_KEYS, type Scenario, type Target } from './scenarios.js';

export function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  const i = Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1));
  return sorted[i] as number;
}

export function median(xs: number[]): number {
  const v = xs.filter((x) => Number.isFinite(x)).sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const m = v.length >> 1;
  return v.length % 2 ? (v[m] as number) : ((v[m - 1] as number) + (v[m] as number)) / 2;
}

export interface SeqStats {
  n: number;
  failures: number;
  p50: number;
  p99: number;
  ttfbP50: number;
  ttfbP99: number;
  ttftP50: number;
  ttftP99: number;
}

export function seqStats(total: number[], ttfb: number[], ttft: number[], failures: number): SeqStats {
  const s = (xs: number[]): number[] => [...xs].sort((a, b) => a - b);
  const t = s(total);
  const b = s(ttfb);
  const f = s(ttft);
  return {
    n: t.length,
    failures,
    p50: percentile(t, 50),
    p99: percentile(t, 99),
    ttfbP50: percentile(b, 50),
    ttfbP99: percentile(b, 99),
    ttftP50: percentile(f, 50),
    ttftP99: percentile(f, 99),
  };
}

/** Per-field median over rounds (peak RSS: the max, and counts: the sum). */
export function medianLoad(rounds: LoadSample[]): LoadSample {
  const m = (f: keyof LoadSample): number => median(rounds.map((r) => r[f]));
  const sum = (f: keyof LoadSample): number => rounds.reduce((a, r) => a + r[f], 0);
  return {
    rps: m('rps'),
    p50: m('p50'),
    p99: m('p99'),
    requests: sum('requests'),
    non2xx: sum('non2xx'),
    errors: sum('errors'),
    cpuUsPerReq: m('cpuUsPerReq'),
    stubCpuUsPerReq: m('stubCpuUsPerReq'),
    peakRssMb: rounds.some((r) => Number.isFinite(r.peakRssMb)) ? Math.max(...rounds.map((r) => r.peakRssMb).filter(Number.isFinite)) : NaN,
    loadgenCpuPct: m('loadgenCpuPct'),
    otherCpuPct: m('otherCpuPct'),
    durationS: sum('durationS'),
    wallMs: sum('wallMs'),
  };
}

export function medianSeq(rounds: SeqStats[]): SeqStats {
  const m = (f: keyof SeqStats): number => median(rounds.map((r) => r[f]));
  return {
    n: rounds.reduce((a, r) => a + r.n, 0),
    failures: rounds.reduce((a, r) => a + r.failures, 0),
    p50: m('p50'),
    p99: m('p99'),
    ttfbP50: m('ttfbP50'),
    ttfbP99: m('ttfbP99'),
    ttftP50: m('ttftP50'),
    ttftP99: m('ttftP99'),
  };
}

export interface LoadRow {
  scenario: Scenario;
  rounds: LoadSample[];
  med?: LoadSample;
}
export interface SeqRow {
  scenario: Scenario;
  rounds: SeqStats[];
  med?: SeqStats;
  firstFailure?: string;
}
export interface Check {
  name: string;
  value: string;
  threshold: string;
  pass: boolean | undefined;
  note?: string;
}
export interface MemRow {
  target: string;
  /** 1 s after the preflight requests: V8 has not yet given back what they used. */
  rssAfterPreflightMb: number;
  /** Settled idle: no traffic for 20+ s and RSS steady (run.ts `settledRss`). */
  idleRssMb: number;
  peakUnderLoadMb: number;
}

export interface BenchReport {
  meta: Record<string, unknown>;
  targets: Target[];
  load: LoadRow[];
  seq: SeqRow[];
  memory: MemRow[];
  checks: Check[];
  /** The guardrail cost measurement (lib/guardrails.ts), when it ran. */
  guardrails?: GuardrailReport;
}

/**
 * (c) translated paths, each compared with the passthrough of the SAME upstream (same upstream
 * response format and stub work; only the client side and the translation differ).
 * [label, translated seq key, translated load key, passthrough label, passthrough seq key, passthrough load key]
 */
export const TRANSLATED_PAIRS: ReadonlyArray<readonly [string, string, string, string, string, string]> = [
  ['OpenAI client → Anthropic upstream', 'openai→anthropic stream', 'openai→anthropic stream 0ms', 'Anthropic → Anthropic passthrough', 'anthropic stream', 'anthropic stream 0ms'],
  ['Anthropic client → OpenAI upstream', 'anthropic→openai stream', 'anthropic→openai stream 0ms', 'OpenAI → OpenAI passthrough', 'openai stream', 'openai stream 0ms'],
];

/** The ratio a/b of a load field in each round (rounds are paired: the same round, order rotated); undefined unless both have every round. */
function roundRatios(a: LoadRow | undefined, b: LoadRow | undefined, field: 'rps' | 'cpuUsPerReq'): number[] | undefined {
  if (!a || !b || a.rounds.length === 0 || a.rounds.length !== b.rounds.length) return undefined;
  return a.rounds.map((r, i) => ratio(r[field], b.rounds[i]?.[field]));
}

/** Per-round ratios a/b after `lead`, e.g. "; per round 0.96/0.66/0.83"; empty for fewer than two rounds. */
function perRound(a: LoadRow | undefined, b: LoadRow | undefined, field: 'rps' | 'cpuUsPerReq', lead = '; per round '): string {
  const xs = roundRatios(a, b, field);
  return xs && xs.length >= 2 ? `${lead}${xs.map((x) => f(x)).join('/')}` : '';
}

/**
 * The median over rounds of the paired ratio a/b of a load field, what the (d) checks read. (d)'s
 * gateways are loaded in turn within a round and started afresh each round, so a round's ratio
 * compares like with like, while the level moves between rounds (the machine, the new processes):
 * a ratio of the two medians can pick one gateway's fast round and the other's slow one.
 */
function pairedMedian(a: LoadRow | undefined, b: LoadRow | undefined, field: 'rps' | 'cpuUsPerReq'): number {
  const xs = roundRatios(a, b, field);
  return xs ? median(xs) : NaN;
}

/** Section (a) thresholds (issue 1): ASC against the floor under load. */
export const FLOOR_RPS_MIN_RATIO = 0.85;
export const FLOOR_CPU_MAX_RATIO = 1.25;
/** Section (d) thresholds. */
export const POLICY_RPS_MIN_RATIO = 0.9;
export const POLICY_ADDED_P50_MAX_MS = 0.3;
/** Section (c) thresholds (issue 3). */
export const TRANSLATED_RPS_MIN_RATIO = 0.8;
export const TRANSLATED_ADDED_TTFB_MAX_MS = 0.5;
/** Guardrail cost threshold: CPU p50 per applyGuardrails call on the 100 KB prompt. */
export const GUARDRAILS_100KB_MAX_MS = 2;

/** Machine-wide CPU outside the measured processes above which a comparison is flagged as noisy (100 = one core). */
const NOISY_OTHER_CPU_PCT = 50;

const f = (x: number | undefined, digits = 2): string => (x === undefined || !Number.isFinite(x) ? '–' : x.toFixed(digits));
/** A checked ratio: with a third digit when two would round it onto its threshold (0.8976 shows as 0.898, not a failing "0.90"). */
const fChecked = (x: number, threshold: number): string => (Number(f(x)) === threshold ? f(x, 3) : f(x));
const ratio = (a: number | undefined, b: number | undefined): number => (a !== undefined && b !== undefined && b !== 0 ? a / b : NaN);
const firstLine = (s: string | undefined): string => (s ?? '').split('\n')[0]?.slice(0, 160) ?? '';

function findLoad(rep: BenchReport, key: string, target: string): LoadRow | undefined {
  return rep.load.find((r) => r.scenario.key === key && r.scenario.target === target);
}
function findSeq(rep: BenchReport, key: string, target: string): SeqRow | undefined {
  return rep.seq.find((r) => r.scenario.key === key && r.scenario.target === target);
}

/** The (d) request variants, each with the words the report uses for its prompt. */
const POLICY_VARIANTS = [
  ['~1 KB prompt resent', POLICY_KEYS.resent],
  ['a new ~1 KB prompt each request', POLICY_KEYS.fresh],
] as const;

function findPolicyRow<R extends { scenario: Scenario }>(rows: readonly R[], key: string, target: string | undefined): R | undefined {
  return rows.find((r) => r.scenario.section === 'd' && r.scenario.key === key && r.scenario.target === target);
}

/** The issue's targets, for every ASC-kind target against the floor (and direct-to-stub). */
export function computeChecks(rep: BenchReport): Check[] {
  const checks: Check[] = [];
  const ascs = rep.targets.filter((t) => t.kind === 'asc');
  for (const asc of ascs) {
    const na = asc.available ? undefined : `${asc.label} not available`;
    const who = ascs.length > 1 ? `${asc.id} ` : '';
    for (const row of rep.load.filter((r) => r.scenario.section === 'a' && r.scenario.target === asc.id)) {
      const floor = findLoad(rep, row.scenario.key, 'floor');
      const rr = ratio(row.med?.rps, floor?.med?.rps);
      const cr = ratio(row.med?.cpuUsPerReq, floor?.med?.cpuUsPerReq);
      const why = na ?? row.scenario.note;
      const other = Math.max(row.med?.otherCpuPct ?? 0, floor?.med?.otherCpuPct ?? 0);
      const noisy = other > NOISY_OTHER_CPU_PCT ? { note: `noisy: other CPU ${other.toFixed(0)} %` } : {};
      checks.push({
        name: `${who}req/s vs floor, ${row.scenario.key}`,
        value: Number.isFinite(rr) ? `${fChecked(rr, FLOOR_RPS_MIN_RATIO)}× (${f(row.med?.rps, 0)} vs ${f(floor?.med?.rps, 0)})` : 'n/a',
        threshold: `≥ ${FLOOR_RPS_MIN_RATIO}×`,
        pass: Number.isFinite(rr) ? rr >= FLOOR_RPS_MIN_RATIO : undefined,
        ...(why && !Number.isFinite(rr) ? { note: why } : noisy),
      });
      checks.push({
        name: `${who}CPU/request vs floor, ${row.scenario.key}`,
        value: Number.isFinite(cr) ? `${fChecked(cr, FLOOR_CPU_MAX_RATIO)}× (${f(row.med?.cpuUsPerReq, 0)} vs ${f(floor?.med?.cpuUsPerReq, 0)} µs)` : 'n/a',
        threshold: `≤ ${FLOOR_CPU_MAX_RATIO}×`,
        pass: Number.isFinite(cr) ? cr <= FLOOR_CPU_MAX_RATIO : undefined,
        ...(why && !Number.isFinite(cr) ? { note: why } : noisy),
      });
    }
    const json = findSeq(rep, 'openai json', asc.id);
    const jsonDirect = findSeq(rep, 'openai json', 'direct');
    const addedJson = (json?.med?.p50 ?? NaN) - (jsonDirect?.med?.p50 ?? NaN);
    checks.push({
      name: `${who}unloaded added latency p50 (JSON)`,
      value: Number.isFinite(addedJson) ? `${f(addedJson, 3)} ms` : 'n/a',
      threshold: '≤ 1 ms',
      pass: Number.isFinite(addedJson) ? addedJson <= 1 : undefined,
      ...(Number.isFinite(addedJson) ? {} : { note: na ?? json?.firstFailure ?? json?.scenario.note ?? 'no data' }),
    });
    const st = findSeq(rep, 'openai stream', asc.id);
    const stDirect = findSeq(rep, 'openai stream', 'direct');
    const addedTtfb = (st?.med?.ttfbP50 ?? NaN) - (stDirect?.med?.ttfbP50 ?? NaN);
    checks.push({
      name: `${who}unloaded added TTFB p50 (stream)`,
      value: Number.isFinite(addedTtfb) ? `${f(addedTtfb, 3)} ms` : 'n/a',
      threshold: '≤ 1.5 ms',
      pass: Number.isFinite(addedTtfb) ? addedTtfb <= 1.5 : undefined,
      ...(Number.isFinite(addedTtfb) ? {} : { note: na ?? st?.firstFailure ?? st?.scenario.note ?? 'no data' }),
    });
    const mem = rep.memory.find((m) => m.target === asc.id);
    checks.push({
      name: `${who}idle RSS (settled, no traffic for 20+ s)`,
      value: mem && Number.isFinite(mem.idleRssMb) ? `${f(mem.idleRssMb, 1)} MB (1 s after the preflight: ${f(mem.rssAfterPreflightMb, 1)} MB)` : 'n/a',
      threshold: '≤ 80 MB',
      pass: mem && Number.isFinite(mem.idleRssMb) ? mem.idleRssMb <= 80 : undefined,
      ...(mem && Number.isFinite(mem.idleRssMb) ? {} : { note: na ?? 'no data' }),
    });
    checks.push({
      name: `${who}peak RSS under load`,
      value: mem && Number.isFinite(mem.peakUnderLoadMb) ? `${f(mem.peakUnderLoadMb, 1)} MB` : 'n/a',
      threshold: '≤ 200 MB',
      pass: mem && Number.isFinite(mem.peakUnderLoadMb) ? mem.peakUnderLoadMb <= 200 : undefined,
      ...(mem && Number.isFinite(mem.peakUnderLoadMb) ? {} : { note: na ?? 'no data' }),
    });

    // (c) issue 3: each translated path vs the passthrough of the same upstream.
    for (const [name, sk, lk, pname, psk, plk] of TRANSLATED_PAIRS) {
      const l = findLoad(rep, lk, asc.id);
      const pl = findLoad(rep, plk, asc.id);
      const rr = ratio(l?.med?.rps, pl?.med?.rps);
      const other = Math.max(l?.med?.otherCpuPct ?? 0, pl?.med?.otherCpuPct ?? 0);
      const noisy = other > NOISY_OTHER_CPU_PCT ? { note: `noisy: other CPU ${other.toFixed(0)} %` } : {};
      checks.push({
        name: `${who}(c) translated req/s, ${name} vs ${pname} (load, 0 ms)`,
        value: Number.isFinite(rr) ? `${fChecked(rr, TRANSLATED_RPS_MIN_RATIO)}× (${f(l?.med?.rps, 0)} vs ${f(pl?.med?.rps, 0)}${perRound(l, pl, 'rps')})` : 'n/a',
        threshold: `≥ ${TRANSLATED_RPS_MIN_RATIO}×`,
        pass: Number.isFinite(rr) ? rr >= TRANSLATED_RPS_MIN_RATIO : undefined,
        ...(Number.isFinite(rr) ? noisy : { note: na ?? l?.scenario.note ?? pl?.scenario.note ?? 'no data' }),
      });
      const s = findSeq(rep, sk, asc.id);
      const ps = findSeq(rep, psk, asc.id);
      const added = (s?.med?.ttfbP50 ?? NaN) - (ps?.med?.ttfbP50 ?? NaN);
      checks.push({
        name: `${who}(c) translated added TTFB p50 unloaded, ${name} − ${pname}`,
        value: Number.isFinite(added) ? `${f(added, 3)} ms (${f(s?.med?.ttfbP50, 3)} − ${f(ps?.med?.ttfbP50, 3)})` : 'n/a',
        threshold: `≤ ${TRANSLATED_ADDED_TTFB_MAX_MS} ms`,
        pass: Number.isFinite(added) ? added <= TRANSLATED_ADDED_TTFB_MAX_MS : undefined,
        ...(Number.isFinite(added) ? {} : { note: na ?? s?.firstFailure ?? s?.scenario.note ?? ps?.scenario.note ?? 'no data' }),
      });
    }
  }

  // (d) full policy pipeline vs empty profile, same run, same requests: a prompt resent, and a new one each time.
  const empty = rep.targets.find((t) => t.id === 'asc-empty');
  const full = rep.targets.find((t) => t.id === 'asc-full');
  if (empty && full) {
    const na = !empty.available ? `${empty.label} not available` : !full.available ? `${full.label} not available` : undefined;
    for (const [prompt, keys] of POLICY_VARIANTS) {
      const le = findPolicyRow(rep.load, keys.load, empty.id);
      const lf = findPolicyRow(rep.load, keys.load, full.id);
      if (!le && !lf && keys === POLICY_KEYS.fresh) continue;
      const rr = pairedMedian(lf, le, 'rps');
      const control = findPolicyRow(rep.load, keys.load, AA_CONTROL_ID);
      const aa = pairedMedian(control, le, 'rps');
      const aaNote = Number.isFinite(aa)
        ? `; A/A control, a second empty-profile gateway: ${f(aa)}×${perRound(control, le, 'rps')}, CPU/req ${f(pairedMedian(control, le, 'cpuUsPerReq'))}×`
        : '';
      const other = Math.max(le?.med?.otherCpuPct ?? 0, lf?.med?.otherCpuPct ?? 0);
      const noisy = other > NOISY_OTHER_CPU_PCT ? { note: `noisy: other CPU ${other.toFixed(0)} %` } : {};
      checks.push({
        name: `(d) full policy req/s vs empty profile (openai json 0 ms, ${prompt})`,
        value: Number.isFinite(rr)
          ? `${fChecked(rr, POLICY_RPS_MIN_RATIO)}× (median of the per-round ratios${perRound(lf, le, 'rps', ': ')}; ` +
            `medians ${f(lf?.med?.rps, 0)} vs ${f(le?.med?.rps, 0)} = ${f(ratio(lf?.med?.rps, le?.med?.rps))}×; CPU/req ${f(pairedMedian(lf, le, 'cpuUsPerReq'))}×${aaNote})`
          : 'n/a',
        threshold: `≥ ${POLICY_RPS_MIN_RATIO}×`,
        pass: Number.isFinite(rr) ? rr >= POLICY_RPS_MIN_RATIO : undefined,
        ...(Number.isFinite(rr) ? noisy : { note: na ?? lf?.scenario.note ?? le?.scenario.note ?? 'no data' }),
      });
      const se = findPolicyRow(rep.seq, keys.seq, empty.id);
      const sf = findPolicyRow(rep.seq, keys.seq, full.id);
      const added = (sf?.med?.p50 ?? NaN) - (se?.med?.p50 ?? NaN);
      checks.push({
        name: `(d) full policy added p50 unloaded = full p50 − empty-profile p50 (JSON, ${prompt})`,
        value: Number.isFinite(added) ? `${f(added, 3)} ms (${f(sf?.med?.p50, 3)} − ${f(se?.med?.p50, 3)})` : 'n/a',
        threshold: `≤ ${POLICY_ADDED_P50_MAX_MS} ms`,
        pass: Number.isFinite(added) ? added <= POLICY_ADDED_P50_MAX_MS : undefined,
        ...(Number.isFinite(added) ? {} : { note: na ?? sf?.firstFailure ?? se?.firstFailure ?? sf?.scenario.note ?? 'no data' }),
      });
    }
  }

  // Guardrail cost: CPU p50 (not wall: wall includes preemption by other work on the shared machine).
  if (rep.guardrails) {
    const g = rep.guardrails;
    const row = g.rows.find((r) => r.bytes === 102_400);
    checks.push({
      name: 'guardrails, everything on, 100 KB prompt: CPU p50 per call',
      value: row ? `${f(row.cpuP50, 3)} ms (wall p50 ${f(row.wallP50, 3)}, CPU p99 ${f(row.cpuP99, 3)})` : 'n/a',
      threshold: `≤ ${GUARDRAILS_100KB_MAX_MS} ms`,
      pass: row && Number.isFinite(row.cpuP50) ? row.cpuP50 <= GUARDRAILS_100KB_MAX_MS : undefined,
      ...(row ? {} : { note: g.note ?? 'no data' }),
    });
  }
  return checks;
}

function table(head: string[], rows: string[][]): string {
  const lines = [`| ${head.join(' | ')} |`, `|${head.map((h, i) => (i === 0 ? ' --- ' : ' ---: ')).join('|')}|`];
  for (const r of rows) lines.push(`| ${r.join(' | ')} |`);
  return lines.join('\n');
}

function label(rep: BenchReport, id: string): string {
  return rep.targets.find((t) => t.id === id)?.label ?? id;
}

export function renderMarkdown(rep: BenchReport): string {
  const out: string[] = [];
  const m = rep.meta;
  out.push(`# ASC gateway benchmark (${String(m.date)})`);
  out.push('');
  out.push(
    `${String(m.cpus)} × ${String(m.cpuModel)}, Node ${String(m.node)}; ${String(m.rounds)} round(s), load ${String(m.durationS)} s × ${String(m.connections)} connections, ` +
      `${String(m.seqCount)} sequential requests; medians over rounds (peak RSS: max). ASC: ${String(m.ascCommand)}. Wall time ${String(m.wallS)} s.` +
      (m.sections !== undefined && m.sections !== 'a,b,c,d' ? ` Sections run: ${String(m.sections)} (the others' checks have no data).` : ''),
  );
  out.push('');
  out.push('Shared 2-core style machine: read the ratios within this run, not the absolute numbers.');
  for (const t of rep.targets) {
    if (t.available) continue;
    out.push(`\n> **${t.label}: not available** — ${firstLine(t.note)}`);
    if (t.detail) out.push(`\n\`\`\`\n${t.detail.trim().split('\n').slice(-30).join('\n')}\n\`\`\``);
  }
  out.push('');

  out.push('## Targets');
  out.push('');
  out.push(
    table(
      ['check', 'value', 'target', 'result'],
      rep.checks.map((c) => [
        c.name,
        c.value,
        c.threshold,
        `${c.pass === undefined ? 'n/a' : c.pass ? 'PASS' : 'FAIL'}${c.note ? ` (${firstLine(c.note)})` : ''}`,
      ]),
    ),
  );
  out.push('');

  out.push('## (a) Under load (autocannon)');
  out.push('');
  const aRows: string[][] = [];
  const aKeys = [...new Set(rep.load.filter((r) => r.scenario.section === 'a').map((r) => r.scenario.key))];
  for (const key of aKeys) {
    const rows = rep.load.filter((r) => r.scenario.key === key && r.scenario.section === 'a');
    const floor = rows.find((r) => r.scenario.target === 'floor');
    for (const r of rows) {
      const md = r.med;
      const vs =
        r.scenario.target !== 'floor' && md && floor?.med
          ? `${f(ratio(md.rps, floor.med.rps))}× / ${f(ratio(md.cpuUsPerReq, floor.med.cpuUsPerReq))}×`
          : '';
      aRows.push(
        md
          ? [key, label(rep, r.scenario.target), f(md.rps, 0), f(md.p50, 0), f(md.p99, 0), f(md.cpuUsPerReq, 0), vs, f(md.peakRssMb, 1), f(md.stubCpuUsPerReq, 0), f(md.loadgenCpuPct, 0), f(md.otherCpuPct, 0), `${md.non2xx}/${md.errors}`]
          : [key, label(rep, r.scenario.target), `n/a: ${firstLine(r.scenario.note)}`, '', '', '', '', '', '', '', '', ''],
      );
    }
  }
  out.push(
    table(
      ['scenario', 'target', 'req/s', 'p50 ms', 'p99 ms', 'CPU µs/req', 'vs floor req/s / CPU', 'peak RSS MB', 'stub µs/req', 'loadgen CPU %', 'other CPU %', 'non-2xx/err'],
      aRows,
    ),
  );
  out.push('');

  out.push('## (b) Unloaded (sequential, one keep-alive connection, interleaved)');
  out.push('');
  const bRows: string[][] = [];
  const bKeys = [...new Set(rep.seq.filter((r) => r.scenario.section === 'b').map((r) => r.scenario.key))];
  for (const key of bKeys) {
    const rows = rep.seq.filter((r) => r.scenario.key === key && r.scenario.section === 'b');
    const direct = rows.find((r) => r.scenario.target === 'direct')?.med;
    for (const r of rows) {
      const md = r.med;
      const isDirect = r.scenario.target === 'direct';
      const add = (a: number | undefined, b: number | undefined): string => (isDirect ? '' : f((a ?? NaN) - (b ?? NaN), 3));
      bRows.push(
        md && md.n > 0
          ? [
              key,
              label(rep, r.scenario.target),
              f(md.p50, 3),
              f(md.p99, 3),
              add(md.p50, direct?.p50),
              add(md.p99, direct?.p99),
              r.scenario.stream ? f(md.ttfbP50, 3) : '',
              r.scenario.stream ? add(md.ttfbP50, direct?.ttfbP50) : '',
              r.scenario.stream ? f(md.ttftP50, 3) : '',
              String(md.failures),
            ]
          : [key, label(rep, r.scenario.target), `n/a: ${firstLine(r.firstFailure ?? r.scenario.note)}`, '', '', '', '', '', '', md ? String(md.failures) : ''],
      );
    }
  }
  out.push(table(['scenario', 'target', 'p50 ms', 'p99 ms', 'added p50', 'added p99', 'TTFB p50', 'added TTFB p50', 'TTFT p50', 'failures'], bRows));
  out.push('');

  const ascs = rep.targets.filter((t) => t.kind === 'asc');
  if (ascs.length > 0) {
    out.push('## (c) Translated vs passthrough (streaming, same upstream)');
    out.push('');
    out.push(
      'Each translated path is compared with the passthrough of the **same upstream** (same upstream stream, same stub work; ' +
        'only the client format and the translation differ). TTFB/TTFT unloaded (sequential, interleaved with (b)); req/s and CPU under load, 0 ms upstream delay.',
    );
    out.push('');
    const cRows: string[][] = [];
    for (const asc of ascs) {
      const pre = ascs.length > 1 ? `${asc.id}: ` : '';
      for (const [name, sk, lk, pname, psk, plk] of TRANSLATED_PAIRS) {
        const direct = findSeq(rep, psk, 'direct');
        const ps = findSeq(rep, psk, asc.id);
        const pl = findLoad(rep, plk, asc.id);
        const s = findSeq(rep, sk, asc.id);
        const l = findLoad(rep, lk, asc.id);
        const row = (n: string, sq: SeqRow | undefined, ld: LoadRow | undefined, base: boolean): string[] => {
          if ((!sq?.med || sq.med.n === 0) && !ld?.med) {
            return [`${pre}${n}`, `n/a: ${firstLine(sq?.scenario.note ?? ld?.scenario.note ?? sq?.firstFailure ?? 'not measured')}`, '', '', '', '', '', '', '', ''];
          }
          const vs = (a: number | undefined, b: number | undefined, d = 3): string => (base ? '' : f((a ?? NaN) - (b ?? NaN), d));
          const rt = (a: number | undefined, b: number | undefined): string => (base ? '' : `${f(ratio(a, b))}×`);
          return [
            `${pre}${n}`,
            f(sq?.med?.ttfbP50, 3),
            vs(sq?.med?.ttfbP50, ps?.med?.ttfbP50),
            f(sq?.med?.ttftP50, 3),
            vs(sq?.med?.ttftP50, ps?.med?.ttftP50),
            f((sq?.med?.ttftP50 ?? NaN) - (direct?.med?.ttftP50 ?? NaN), 3),
            f(ld?.med?.rps, 0),
            rt(ld?.med?.rps, pl?.med?.rps),
            f(ld?.med?.cpuUsPerReq, 0),
            rt(ld?.med?.cpuUsPerReq, pl?.med?.cpuUsPerReq),
          ];
        };
        cRows.push(row(`${pname} (baseline)`, ps, pl, true));
        cRows.push(row(name, s, l, false));
      }
    }
    out.push(
      table(
        ['path', 'TTFB p50 ms', 'added TTFB vs passthrough', 'TTFT p50 ms', 'added TTFT vs passthrough', 'added TTFT vs direct upstream', 'req/s', 'req/s vs passthrough', 'CPU µs/req', 'CPU vs passthrough'],
        cRows,
      ),
    );
    out.push('');
  }

  const policy = rep.targets.filter((t) => t.kind === 'asc-policy');
  if (policy.length > 0) {
    out.push('## (d) Full policy pipeline vs empty profile');
    out.push('');
    const pp = rep.meta.policyPrompt as { chars?: number; check?: string } | undefined;
    out.push(
      `More ASC gateways, same bundle, same run, same requests: OpenAI chat JSON, a system prompt and a ~1 KB user prompt of prose and code ` +
        `(${pp?.chars ?? '?'} characters; ${pp?.check ?? 'not checked'}), 0 ms upstream delay. ` +
        'Two kinds of request: the same prompt every time (the guardrails find it in their memo of texts already found clean, ' +
        'as when a coding agent resends its conversation), and a new prompt every time (4 096 prompts in turn, more than the memo holds: every text is scanned). ' +
        '`asc-empty`: guardrails pii/secrets off, no budgets, rate limits, allow-list or residency. ' +
        '`asc-full`: `models.allow` globs, `residency.regions`, guardrails (PII redact, secrets block, 3 deny patterns, maxOutputTokens 4096, maxInputTokens 100 000), ' +
        '`rateLimits` (rpm 10⁷, tpm 10¹⁰) and a `budgets` entry (1e9 USD/day, block) — all active, none reachable in a run. ' +
        `\`${AA_CONTROL_ID}\`: the empty profile again, in its own process, given the same loads in the same rounds: ` +
        'its ratio to `asc-empty` (an A/A comparison) is how far two identical gateways differ in this run, the noise the (d) ratios are read against. ' +
        `Under load each gateway's ${String(rep.meta.durationS)} s per round are taken in ${String(rep.meta.policySliceS ?? rep.meta.durationS)} s slices, ` +
        'in turn with the other gateways of its comparison (order rotated every slice), and all three are started afresh (empty data directory, warmed up again) ' +
        'for every round after the first: neither a slow spell of the machine nor a slow process then reads as a difference between profiles. ' +
        '**Added = full-policy p50 − empty-profile p50**: the cost of the policy pipeline itself.',
    );
    if (typeof rep.meta.policyEnforcement === 'string') {
      out.push('');
      out.push(`Probes (one request each, HTTP status): ${rep.meta.policyEnforcement}.`);
    }
    out.push('');
    const empty = policy.find((t) => t.id === 'asc-empty');
    const dRows: string[][] = [];
    for (const [prompt, keys] of POLICY_VARIANTS) {
      const le = findPolicyRow(rep.load, keys.load, empty?.id);
      const se = findPolicyRow(rep.seq, keys.seq, empty?.id);
      for (const t of policy) {
        const l = findPolicyRow(rep.load, keys.load, t.id);
        const sq = findPolicyRow(rep.seq, keys.seq, t.id);
        const base = t.id === empty?.id;
        if (!l && !sq && keys === POLICY_KEYS.fresh) continue;
        if (!l?.med && !sq?.med) {
          dRows.push([t.label, prompt, `n/a: ${firstLine(t.available ? (l?.scenario.note ?? sq?.scenario.note ?? sq?.firstFailure) : t.note)}`, '', '', '', '', '', '', '', '', '', '']);
          continue;
        }
        dRows.push([
          t.label,
          prompt,
          f(l?.med?.rps, 0),
          base ? '' : `${f(pairedMedian(l, le, 'rps'))}×`,
          f(l?.med?.p50, 0),
          f(l?.med?.p99, 0),
          f(l?.med?.cpuUsPerReq, 0),
          base ? '' : `${f(pairedMedian(l, le, 'cpuUsPerReq'))}×`,
          f(sq?.med?.p50, 3),
          f(sq?.med?.p99, 3),
          base || !sq ? '' : f((sq?.med?.p50 ?? NaN) - (se?.med?.p50 ?? NaN), 3),
          `${l?.med ? `${l.med.non2xx}/${l.med.errors}` : '–'}, ${sq?.med ? String(sq.med.failures) : '–'}`,
          f(l?.med?.otherCpuPct, 0),
        ]);
      }
    }
    out.push(
      table(
        ['profile', 'prompt', 'req/s (load)', 'vs empty', 'p50 ms (load)', 'p99 ms (load)', 'CPU µs/req', 'CPU vs empty', 'unloaded p50 ms', 'unloaded p99 ms', 'added p50 (full − empty)', 'non-2xx/err, seq failures', 'other CPU %'],
        dRows,
      ),
    );
    out.push('');
  }

  if (rep.guardrails) {
    const g = rep.guardrails;
    out.push('## Guardrail cost (applyGuardrails, everything on)');
    out.push('');
    if (!g.available) {
      out.push(`Not available: ${firstLine(g.note)}`);
    } else {
      out.push(
        `lib/guardrails.ts (also \`npx tsx bench/guardrails-bench.ts\`), in the runner process before any child started, Node ${g.node}: ` +
          'PII redact, secrets redact, 3 deny patterns, input/output limits, on prose + code with PII and secrets sprinkled in (from ~6 KB on). ' +
          'Per call: wall time and CPU time of the process (process.cpuUsage); the check uses **CPU p50**, which preemption by other work on the shared machine does not inflate.',
      );
      out.push('');
      out.push(guardrailTable(g.rows));
    }
    out.push('');
  }

  out.push('## Memory');
  out.push('');
  out.push(
    table(
      ['target', 'RSS MB 1 s after the preflight', 'idle RSS MB (settled: no traffic for 20+ s, steady)', 'peak RSS under load MB'],
      rep.memory.map((r) => [label(rep, r.target), f(r.rssAfterPreflightMb, 1), f(r.idleRssMb, 1), f(r.peakUnderLoadMb, 1)]),
    ),
  );
  out.push('');
  out.push(
    'Notes: CPU µs/req = (utime+stime of the target process over the run, /proc/<pid>/stat) ÷ completed requests. ' +
      'Ratios in the (a)–(c) checks = ratio of the per-target medians over rounds; in (d) (checks and "vs empty" columns) = the median of the per-round ratios. ' +
      '"per round" = the paired ratio of each round (both measured in the same round, order rotated). ' +
      'Added latency/TTFB in (b) = target minus direct-to-stub, same connection type, interleaved; in (c) = translated minus the same-upstream passthrough through the same ASC; in (d) = full-policy minus empty-profile ASC. TTFT = first content delta. ' +
      'Under-load latencies come from autocannon (1 ms resolution). "stub µs/req" and "loadgen CPU %" show whether the stub or the load generator was the bottleneck; "other CPU %" is machine-wide busy CPU (/proc/stat, 100 % = one core) not spent in the target, the stub or the load generator — other work on the box; rows with a high value are noisy.',
  );
  return out.join('\n') + '\n';
}
