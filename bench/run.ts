/**
 * `npm run bench` — ASC vs a bare pass-through floor vs direct-to-stub, side by side in one run.
 *
 *   npx tsx bench/run.ts [--quick] [--rounds N] [--duration S] [--seq N] [--connections N]
 *                        [--delays 0,20] [--asc-entry FILE] [--stand-in] [--no-asc]
 *                        [--no-policy] [--no-guardrails]
 *
 * Children (each its own process, so /proc CPU and memory are per process): the upstream stub, the
 * floor proxy and the ASC gateway, plus three more ASC gateways for section (d) (`asc-empty`: a profile
 * that enforces nothing; `asc-full`: every policy feature on; `asc-empty-2`: the empty profile again,
 * an A/A control that shows how far two identical gateways differ in the same run). The guardrail cost (lib/guardrails.ts)
 * is measured in this process before any child starts. Output: Markdown on stdout (progress on
 * stderr), plus bench/results/latest.md and bench/results/latest.json.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { request } from 'undici';
import { checkReply, describeError, mergeSlices, runLoad, runSequential, send, type LoadSample } from './lib/measure.js';
import { killAllNow, memMb, sleep, spawnServer, stopAll, stopChild, type Child } from './lib/procs.js';
import { computeChecks, medianLoad, medianSeq, renderMarkdown, seqStats, type BenchReport, type LoadRow, type MemRow, type SeqRow } from './lib/report.js';
import { buildCliBundle, compile } from './lib/build.js';
import { AA_CONTROL_ID, buildScenarios, headersFor, policyBody, type Scenario, type Target } from './lib/scenarios.js';
import { buildPrompt, countFindings, DENY_PATTERNS, measureGuardrails, SENSITIVE, type GuardrailReport } from './lib/guardrails.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const ROOT = path.resolve(HERE, '..');

const USAGE = `Usage: npx tsx bench/run.ts [options]
  --quick            smoke run: 3 s loads, 100 sequential requests, 1 round, guardrails at 40 % iterations
  --rounds N         rounds (default 3; quick 1)
  --duration S       seconds per load run (default 10, the issue's minimum; quick 3)
  --seq N            sequential requests per target per round (default 500; quick 100)
  --connections N    autocannon connections (default 50)
  --delays LIST      upstream delays in ms for the load runs (default 0,20)
  --asc-entry FILE   ASC CLI entry (default: out/cli/asc.mjs if built, else src/cli/main.ts via tsx)
  --stand-in         use a second floor proxy in place of ASC (to validate the harness)
  --no-asc           skip ASC entirely (and (d) and the guardrail cost)
  --no-policy        skip section (d) (the asc-empty / asc-full gateways)
  --no-guardrails    skip the guardrail cost measurement
  --out DIR          where latest.md / latest.json go (default bench/results)
  --slice S          cut (d)'s load runs in slices of S seconds, taken in turn with the other targets
                     of their comparison (default 2; --slice equal to --duration runs them whole)
  --sections LIST    which sections to run, of a,b,c,d (default all)
  --cpu-prof DIR     run each ASC child under V8's CPU profiler; profiles in DIR/<target>/ on exit`;

const log = (s: string): void => {
  process.stderr.write(`[bench ${new Date().toISOString().slice(11, 19)}] ${s}\n`);
};

function intArg(v: string | undefined, name: string, def: number, min: number, max: number): number {
  if (v === undefined) return def;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min || n > max) throw new Error(`--${name} must be an integer in [${min}, ${max}], got "${v}"`);
  return n;
}

function parseFlags() {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean' },
      rounds: { type: 'string' },
      duration: { type: 'string' },
      slice: { type: 'string' },
      sections: { type: 'string' },
      seq: { type: 'string' },
      connections: { type: 'string' },
      delays: { type: 'string' },
      'asc-entry': { type: 'string' },
      'stand-in': { type: 'boolean' },
      'no-asc': { type: 'boolean' },
      'no-policy': { type: 'boolean' },
      'no-guardrails': { type: 'boolean' },
      out: { type: 'string' },
      'cpu-prof': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
    strict: true,
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    process.exit(0);
  }
  const quick = values.quick === true;
  const durationS = intArg(values.duration, 'duration', quick ? 3 : 10, 1, 120);
  const sections = new Set((values.sections ?? 'a,b,c,d').split(',').map((x) => x.trim()));
  for (const x of sections) if (!['a', 'b', 'c', 'd'].includes(x)) throw new Error(`--sections takes a list of a, b, c, d; got "${x}"`);
  const delays = (values.delays ?? '0,20').split(',').map((d) => intArg(d.trim(), 'delays', 0, 0, 5000));
  return {
    quick,
    rounds: intArg(values.rounds, 'rounds', quick ? 1 : 3, 1, 20),
    durationS,
    sliceS: intArg(values.slice, 'slice', Math.min(2, durationS), 1, durationS),
    sections,
    seqCount: intArg(values.seq, 'seq', quick ? 100 : 500, 10, 10_000),
    connections: intArg(values.connections, 'connections', 50, 1, 1000),
    delays,
    warmupS: 1,
    ascEntry: values['asc-entry'],
    standIn: values['stand-in'] === true,
    noAsc: values['no-asc'] === true,
    noPolicy: values['no-policy'] === true,
    noGuardrails: values['no-guardrails'] === true,
    outDir: path.resolve(values.out ?? path.join(HERE, 'results')),
    cpuProfDir: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
  };
}
type Flags = ReturnType<typeof parseFlags>;

const TSX = ['--import', 'tsx'];

/** `node file.mjs` when the esbuild output exists, else `node --import tsx file.ts`. */
function nodeArgs(compiled: string | undefined, source: string): string[] {
  return compiled ? [compiled] : [...TSX, source];
}

const built: { stub?: string; floor?: string } = {};

async function startStub(): Promise<{ child: Child; origin: string }> {
  const { child, match } = await spawnServer({
    name: 'upstream stub',
    command: process.execPath,
    args: nodeArgs(built.stub, path.join(HERE, 'upstream-stub.ts')),
    cwd: ROOT,
    env: { ...process.env, STUB_DELAY_MS: '0' },
    ready: /^STUB_PORT=(\d+)$/,
    timeoutMs: 20_000,
  });
  return { child, origin: `http://127.0.0.1:${match}` };
}

async function startFloor(upstream: string, name: string): Promise<{ child: Child; origin: string }> {
  const { child, match } = await spawnServer({
    name,
    command: process.execPath,
    args: nodeArgs(built.floor, path.join(HERE, 'floor-proxy.ts')),
    cwd: ROOT,
    env: { ...process.env, FLOOR_UPSTREAM: upstream },
    ready: /^FLOOR_PORT=(\d+)$/,
    timeoutMs: 20_000,
  });
  return { child, origin: `http://127.0.0.1:${match}` };
}

/**
 * How ASC is started: --asc-entry if given; else the current src/cli/main.ts bundled by
 * scripts/build-cli.mjs itself (the numbers are for today's sources, built as `npm start` builds
 * them, without tsx overhead); else a prebuilt out/cli/asc.mjs; else src/cli/main.ts through tsx
 * (RSS then includes ~30 MB of tsx loader).
 */
let ascCommandCache: Promise<{ args: string[]; describe: string } | undefined> | undefined;
/** Built once per run, so every ASC child runs the very same bundle (the sources may change meanwhile). */
function ascCommand(flags: Flags): Promise<{ args: string[]; describe: string } | undefined> {
  ascCommandCache ??= resolveAscCommand(flags);
  return ascCommandCache;
}

async function resolveAscCommand(flags: Flags): Promise<{ args: string[]; describe: string } | undefined> {
  let entry = flags.ascEntry;
  if (!entry && existsSync(path.join(ROOT, 'src/cli/main.ts'))) {
    const out = buildCliBundle(ROOT, `bench/.build/asc-${process.pid}.mjs`);
    if (out) entry = path.relative(ROOT, out);
  }
  if (!entry && existsSync(path.join(ROOT, 'out/cli/asc.mjs'))) entry = 'out/cli/asc.mjs';
  if (!entry && existsSync(path.join(ROOT, 'src/cli/main.ts'))) entry = 'src/cli/main.ts';
  if (!entry) return undefined;
  const args = /\.[cm]?ts$/.test(entry) ? [...TSX, entry] : [entry];
  const note = entry.startsWith('bench/.build/asc-') ? ' (scripts/build-cli.mjs bundle, as npm start builds it)' : /\.[cm]?ts$/.test(entry) ? ' (via tsx: RSS includes ~30 MB loader)' : '';
  return { args, describe: `node ${args.join(' ')} serve${note}` };
}

/**
 * Starts one ASC child. `profileExtras` is merged into the bench profile (empty = the bare profile:
 * providers only, i.e. the schema defaults: PII off, secrets block); section (d) starts `asc-empty`
 * and `asc-full` with EMPTY_PROFILE / FULL_PROFILE.
 */
async function startAsc(
  flags: Flags,
  stubOrigin: string,
  localKey: string,
  tmp: string,
  name = 'asc',
  profileExtras: Record<string, unknown> = {},
): Promise<{ child?: Child; origin: string; note?: string; detail?: string; describe: string }> {
  const cmd = await ascCommand(flags);
  if (!cmd) return { origin: '', note: 'ASC CLI not found (no out/cli/asc.mjs, no src/cli/main.ts; see --asc-entry)', describe: 'not found' };
  const policyFile = path.join(tmp, `${name}-policy.json`);
  writeFileSync(
    policyFile,
    JSON.stringify({
      active: 'bench',
      profiles: [
        {
          tenant: 'bench',
          version: 1,
          providers: [
            { id: 'openai', kind: 'openai', baseUrl: `${stubOrigin}/openai/v1`, region: 'us' },
            { id: 'anthropic', kind: 'anthropic', baseUrl: `${stubOrigin}/anthropic`, region: 'us' },
          ],
          ...profileExtras,
        },
      ],
    }),
  );
  const dataDir = path.join(tmp, `${name}-data`);
  mkdirSync(dataDir, { recursive: true });
  // V8's sampling profiler in each ASC child, written when it exits (after the run): where a target's CPU goes.
  const profile = flags.cpuProfDir ? ['--cpu-prof', '--cpu-prof-interval', '250', '--cpu-prof-dir', path.join(flags.cpuProfDir, name)] : [];
  const args = [...profile, ...cmd.args, 'serve', '--port', '0', '--data-dir', dataDir, '--policy', policyFile];
  try {
    const { child, match } = await spawnServer({
      name: `ASC gateway (${name})`,
      command: process.execPath,
      args,
      cwd: ROOT,
      env: {
        ...process.env,
        NODE_ENV: 'production',
        ASC_LOCAL_KEY: localKey,
        OPENAI_API_KEY: 'sk-bench-dummy-openai-key',
        ANTHROPIC_API_KEY: 'sk-ant-bench-dummy-anthropic-key',
        MISTRAL_API_KEY: 'bench-dummy-mistral-key',
      },
      ready: /ASC gateway listening on (http:\/\/127\.0\.0\.1:\d+)/,
      timeoutMs: 45_000,
    });
    return { child, origin: match, describe: cmd.describe };
  } catch (e) {
    const msg = (e as Error).message;
    const lines = msg.split('\n').map((l) => l.trim()).filter(Boolean);
    const why = lines.slice(1).find((l) => /(^asc:|error|usage)/i.test(l)) ?? lines[1] ?? '';
    return { origin: '', note: `${lines[0] ?? msg}${why ? ` ${why}` : ''}`, detail: msg, describe: cmd.describe };
  }
}

/** (d) `asc-empty`: a profile that enforces nothing (no budgets, rate limits, allow-list or residency). */
const EMPTY_PROFILE = { guardrails: { pii: 'off', secrets: 'off' } } as const;

/**
 * (d) `asc-full`: everything on. Limits are far above what a run can reach (≈ 10⁴ req/s × 60 s ≈ 6·10⁵
 * rpm; ≈ 5·10³ tokens reserved per request ≈ 3·10⁹ tpm; cents per 1 000 requests) so nothing is
 * denied, yet every check and reservation runs.
 */
const FULL_GUARDRAILS = { pii: 'redact', secrets: 'block', deny: DENY_PATTERNS, maxOutputTokens: 4096, maxInputTokens: 100_000 } as const;
const FULL_PROFILE = {
  models: { allow: ['gpt-4.1*', 'gpt-4o*', 'o4-mini*', 'claude-*-4-5*'] },
  residency: { regions: ['us', 'eu'] },
  guardrails: { ...FULL_GUARDRAILS, deny: [...DENY_PATTERNS] },
  rateLimits: { rpm: 10_000_000, tpm: 10_000_000_000 },
  budgets: [{ window: 'day', usd: 1e9, action: 'block' }],
};

/** The (d) gateways: id, label, profile. */
const POLICY_GATEWAYS = [
  ['asc-empty', 'ASC, empty profile', EMPTY_PROFILE],
  ['asc-full', 'ASC, full policy', FULL_PROFILE],
  [AA_CONTROL_ID, 'ASC, empty profile again (A/A control)', EMPTY_PROFILE],
] as const;
const policyChildren = new Map<string, Child>();

/** The (d) user prompt: ~1 KB of prose and code with nothing to redact or block. */
const POLICY_PROMPT = buildPrompt(1_024, false);
/**
 * The same prompt with a different opening on each, for the (d) requests that bring a new prompt
 * every time: more of them than the full profile's clean-text memo can hold (2 M characters), sent
 * in turn, so none is found remembered.
 */
const NEW_POLICY_PROMPTS = Array.from({ length: 4_096 }, (_, i) => `Ticket ${i}: ${POLICY_PROMPT}`.slice(0, POLICY_PROMPT.length));

async function setStubDelay(stubOrigin: string, delayMs: number): Promise<void> {
  const res = await request(`${stubOrigin}/__bench/config?delay=${delayMs}`, { method: 'POST' });
  await res.body.text();
}

/** One request per scenario; marks scenarios (and ASC) unavailable with a clear reason. */
async function preflight(scenarios: Scenario[], targets: Map<string, Target>, stubOrigin: string): Promise<void> {
  await setStubDelay(stubOrigin, 0);
  for (const s of scenarios) {
    const t = targets.get(s.target);
    if (!t || !t.available || !s.available) continue;
    const problems: string[] = [];
    let ok = false;
    for (const body of s.bodies) {
      let problem: string | undefined;
      try {
        const r = await send(t.origin, { ...s, body });
        problem = checkReply(s, r);
        if (problem && r.status === 400 && r.text.includes('format_mismatch')) problem = `translation: not available (${describeError(r)})`;
      } catch (e) {
        problem = `request failed: ${(e as Error).message}`;
      }
      if (!problem) {
        s.body = body;
        ok = true;
        break;
      }
      problems.push(problem);
    }
    if (!ok) {
      s.available = false;
      const tr = problems.find((p) => p.startsWith('translation: not available'));
      s.note = tr ? 'translation: not available' : problems.join(' | ');
      log(`preflight ${s.name}: ${tr ?? s.note}`);
    }
  }
}

/**
 * (d) sanity: the full profile really enforces (a disallowed model, a pasted secret and a deny-listed
 * phrase are refused) while the empty profile lets the same requests through. One request each, after
 * the preflight; the result goes into the report, so a silently ignored profile cannot pass (d).
 */
async function probeEnforcement(targets: Target[], localKey: string): Promise<string | undefined> {
  const empty = targets.find((t) => t.id === 'asc-empty' && t.available);
  const full = targets.find((t) => t.id === 'asc-full' && t.available);
  if (!empty || !full) return undefined;
  const probes: Array<[string, string]> = [
    ['model outside models.allow', policyBody(POLICY_PROMPT, 'gpt-3.5-turbo')],
    ['pasted secret', policyBody(`${POLICY_PROMPT}\n${SENSITIVE}`)],
    ['deny-listed phrase', policyBody(`${POLICY_PROMPT}\nThis roadmap is internal-only.`)],
  ];
  const parts: string[] = [];
  let ok = true;
  for (const [what, body] of probes) {
    const st: number[] = [];
    for (const t of [empty, full]) {
      try {
        const r = await send(t.origin, { method: 'POST', path: t.routes.openaiChat, headers: headersFor('openai', localKey), body });
        st.push(r.status);
      } catch {
        st.push(-1);
      }
    }
    const [e, f] = st as [number, number];
    if (!(f >= 400 && f < 500)) ok = false;
    parts.push(`${what} → empty ${e}, full ${f}`);
  }
  return `${ok ? 'full profile enforces' : 'WARNING: full profile did not refuse every probe'} (${parts.join('; ')})`;
}

/**
 * The (d) prompts must pass the full profile untouched (no finding to redact, nothing to block), or
 * (d) would measure a redaction or a refusal. One line for the report.
 */
async function checkPolicyPrompts(prompts: readonly string[]): Promise<string> {
  let findings = 0;
  for (const prompt of prompts) {
    const fc = await countFindings(JSON.parse(policyBody(prompt)) as Record<string, unknown>, FULL_GUARDRAILS);
    if ('error' in fc) return `not checked (${fc.error})`;
    if (fc.blocked) return `BLOCKED: ${fc.blocked}`;
    findings += fc.findings;
  }
  return `${findings} guardrail finding(s) on the full profile in all ${prompts.length} prompts`;
}

/** JSON.stringify replacer: no NaN (→ null), no duplicate body candidates, no local key. */
function jsonValue(k: string, v: unknown, localKey: string): unknown {
  if (k === 'bodies') return undefined;
  if (typeof v === 'number' && !Number.isFinite(v)) return null;
  if (typeof v === 'string' && v.includes(localKey)) return v.replaceAll(localKey, '<ASC_LOCAL_KEY>');
  return v;
}

/**
 * Idle RSS is read once the servers have settled. V8 gives back its young generation and compacts
 * only several seconds after allocation stops (its memory reducer), so RSS 1 s after the preflight
 * is still the footprint of the last requests, not of an idle process. Settled: at least `minMs`
 * without traffic and the last `window` samples of every server within `spreadMb`; at most `maxMs`.
 * Both figures are reported.
 */
const IDLE_SETTLE = { minMs: 20_000, maxMs: 30_000, everyMs: 500, window: 10, spreadMb: 0.5 } as const;

async function settledRss(pids: number[]): Promise<number[]> {
  const started = Date.now();
  const samples: number[][] = pids.map(() => []);
  for (;;) {
    pids.forEach((pid, i) => samples[i]?.push(memMb(pid)?.rss ?? NaN));
    const steady = samples.every((s) => {
      const recent = s.slice(-IDLE_SETTLE.window);
      return recent.length === IDLE_SETTLE.window && Math.max(...recent) - Math.min(...recent) <= IDLE_SETTLE.spreadMb;
    });
    const elapsed = Date.now() - started;
    if ((elapsed >= IDLE_SETTLE.minMs && steady) || elapsed >= IDLE_SETTLE.maxMs) return samples.map((s) => s[s.length - 1] ?? NaN);
    await sleep(IDLE_SETTLE.everyMs);
  }
}

/** Rotates a list by r (round r starts with a different target). */
function rotate<T>(xs: T[], r: number): T[] {
  if (xs.length === 0) return xs;
  const k = r % xs.length;
  return [...xs.slice(k), ...xs.slice(0, k)];
}

function groupByKey(list: Scenario[]): Scenario[][] {
  const groups = new Map<string, Scenario[]>();
  for (const s of list) {
    const k = `${s.section}|${s.mode}|${s.key}`;
    const g = groups.get(k) ?? [];
    g.push(s);
    groups.set(k, g);
  }
  return [...groups.values()];
}

/** Expected load runs and wall time, printed before anything starts (the real count follows the preflight). */
function planLine(flags: Flags): string {
  const asc = !flags.noAsc;
  const real = asc && !flags.standIn;
  const has = (x: string): boolean => flags.sections.has(x);
  const a = has('a') ? flags.delays.length * 2 * (asc ? 2 : 1) : 0;
  const c = asc && has('c') ? 3 + (flags.delays.includes(0) || !has('a') ? 0 : 1) : 0;
  const policy = real && !flags.noPolicy && has('d');
  // (d): resent and new prompt on the empty and full profiles and the A/A control.
  const d = policy ? 6 : 0;
  const n = a + c + d;
  const perRun = (sliceS: number): number => flags.rounds * (flags.durationS + 0.2 * Math.ceil(flags.durationS / sliceS) + 0.2);
  const loadS = (a + c) * perRun(flags.durationS) + d * perRun(flags.sliceS) + n * (flags.warmupS + 0.3);
  // (d)'s three gateways restart every round after the first: ~1.5 s each, then their warm-up again.
  const restartS = policy ? (flags.rounds - 1) * (3 * 1.5 + d * (flags.warmupS + 0.3)) : 0;
  // Sequential series (target × scenario): (b) 3 scenarios × direct/floor/ASC, (c) 2 translated, (d) 2 × 2; ~1 ms each.
  const series = (has('b') ? 3 * (asc ? 3 : 2) : 0) + (asc && has('c') ? 2 : 0) + (policy ? 4 : 0);
  const seqS = flags.rounds * series * flags.seqCount * 0.001;
  const gr = real && !flags.noGuardrails ? (flags.quick ? 1 : 3) : 0;
  const total = loadS + restartS + seqS + gr + 6 + IDLE_SETTLE.minMs / 1000;
  return (
    `plan: ${flags.rounds} round(s); load runs: ${a} (a) + ${c} (c) + ${d} (d) = ${n} × ${flags.durationS} s per round ` +
    `(${d ? `(d) in ${flags.sliceS} s slices, its gateways restarted each round; ` : ''}+ ${flags.warmupS} s warm-up each), ` +
    `${flags.connections} connections, delays ${flags.delays.join('/')} ms; ` +
    `${flags.seqCount} sequential requests per target per round; guardrail cost ${gr ? (flags.quick ? 'at 40 % iterations' : 'on') : 'skipped'}; ` +
    `≈ ${(total / 60).toFixed(1)} min`
  );
}

async function main(): Promise<void> {
  const flags = parseFlags();
  log(planLine(flags));
  const started = Date.now();
  const tmp = mkdtempSync(path.join(os.tmpdir(), 'asc-bench-'));
  const localKey = randomBytes(20).toString('hex');
  const removeTemp = (): void => {
    rmSync(tmp, { recursive: true, force: true });
    for (const f of ['asc', 'upstream-stub', 'floor-proxy']) rmSync(path.join(HERE, '.build', `${f}-${process.pid}.mjs`), { force: true });
    for (const extra of ['.map', '.LEGAL.txt']) rmSync(path.join(HERE, '.build', `asc-${process.pid}.mjs${extra}`), { force: true });
  };
  const cleanup = async (): Promise<void> => {
    await stopAll();
    removeTemp();
  };
  let stopping = false;
  for (const sig of ['SIGINT', 'SIGTERM'] as const) {
    process.on(sig, () => {
      if (stopping) return;
      stopping = true;
      log(`${sig}: stopping children`);
      void cleanup().finally(() => process.exit(130));
    });
  }
  process.on('exit', () => {
    killAllNow();
    try {
      removeTemp();
    } catch {
      /* best effort */
    }
  });

  try {
    log('compiling stub and floor (esbuild)');
    built.stub = await compile(ROOT, 'bench/upstream-stub.ts', `bench/.build/upstream-stub-${process.pid}.mjs`);
    built.floor = await compile(ROOT, 'bench/floor-proxy.ts', `bench/.build/floor-proxy-${process.pid}.mjs`);
    let guardrails: GuardrailReport | undefined;
    if (!flags.noAsc && !flags.standIn && !flags.noGuardrails) {
      log('guardrail cost (in this process, before the children start)');
      guardrails = await measureGuardrails({ scale: flags.quick ? 0.4 : 1 });
      if (!guardrails.available) log(`guardrail cost not available: ${guardrails.note ?? ''}`);
      else for (const r of guardrails.rows) log(`guardrails ${r.label}: CPU p50 ${r.cpuP50.toFixed(3)} ms, p99 ${r.cpuP99.toFixed(3)} ms (${r.runs} runs)`);
    }
    log('starting upstream stub and floor');
    const stub = await startStub();
    const floor = await startFloor(stub.origin, 'floor proxy');
    const stubPaths = { openaiChat: '/openai/v1/chat/completions', anthropicMessages: '/anthropic/v1/messages' };
    const targets: Target[] = [
      { id: 'direct', label: 'direct (stub)', kind: 'stub', origin: stub.origin, routes: stubPaths, translates: false, available: true },
      { id: 'floor', label: 'floor', kind: 'floor', origin: floor.origin, pid: floor.child.pid, routes: stubPaths, translates: false, available: true },
    ];
    let ascDescribe = 'skipped (--no-asc)';
    if (flags.standIn) {
      const si = await startFloor(stub.origin, 'ASC stand-in (floor)');
      ascDescribe = 'stand-in: a second floor proxy';
      targets.push({ id: 'asc', label: 'ASC (stand-in: floor)', kind: 'asc', origin: si.origin, pid: si.child.pid, routes: stubPaths, translates: false, available: true });
    } else if (!flags.noAsc) {
      log('starting ASC gateway');
      const asc = await startAsc(flags, stub.origin, localKey, tmp);
      ascDescribe = asc.describe;
      targets.push({
        id: 'asc',
        label: 'ASC',
        kind: 'asc',
        origin: asc.origin,
        ...(asc.child ? { pid: asc.child.pid } : {}),
        routes: { openaiChat: '/v1/chat/completions', anthropicMessages: '/v1/messages' },
        translates: true,
        available: asc.child !== undefined,
        ...(asc.note ? { note: asc.note } : {}),
        ...(asc.detail ? { detail: asc.detail } : {}),
      });
      if (asc.note) log(`ASC not available: ${asc.detail ?? asc.note}`);
      if (asc.child && !flags.noPolicy && flags.sections.has('d')) {
        for (const [id, label, extras] of POLICY_GATEWAYS) {
          log(`starting ASC gateway (${id})`);
          const p = await startAsc(flags, stub.origin, localKey, tmp, id, extras);
          if (p.child) policyChildren.set(id, p.child);
          targets.push({
            id,
            label,
            kind: 'asc-policy',
            origin: p.origin,
            ...(p.child ? { pid: p.child.pid } : {}),
            routes: { openaiChat: '/v1/chat/completions', anthropicMessages: '/v1/messages' },
            translates: true,
            available: p.child !== undefined,
            ...(p.note ? { note: p.note } : {}),
            ...(p.detail ? { detail: p.detail } : {}),
          });
          if (p.note) log(`${label} not available: ${p.detail ?? p.note}`);
        }
      }
    }
    const byId = new Map(targets.map((t) => [t.id, t]));

    /**
     * (d) compares gateways that run the same bundle, so anything that makes one process of it
     * faster than another for its whole life (where its memory landed, which core it shares) would
     * read as a difference between profiles: the A/A control measured two empty-profile processes
     * 6–9 % apart in CPU per request, the same in every round of a run. Each round after the first
     * therefore starts them afresh, each with an empty data directory, and warms them up again.
     */
    const restartPolicyGateways = async (): Promise<void> => {
      for (const [id, , extras] of POLICY_GATEWAYS) {
        const t = byId.get(id);
        const old = policyChildren.get(id);
        if (!t?.available || !old) continue;
        await stopChild(old);
        rmSync(path.join(tmp, `${id}-data`), { recursive: true, force: true });
        const p = await startAsc(flags, stub.origin, localKey, tmp, id, extras);
        if (!p.child) {
          t.available = false;
          t.note = `restart failed: ${p.note ?? ''}`;
          log(`${t.label}: ${t.note}`);
          continue;
        }
        policyChildren.set(id, p.child);
        t.origin = p.origin;
        t.pid = p.child.pid;
      }
    };

    const scenarios = buildScenarios(targets, { localKey, delays: flags.delays, policyPrompt: POLICY_PROMPT, newPolicyPrompts: NEW_POLICY_PROMPTS }).filter(
      (s) => flags.sections.has(s.section),
    );
    // The (d) prompt must pass the full profile untouched: no finding to redact, nothing to block.
    let policyPromptCheck: string | undefined;
    if (targets.some((t) => t.kind === 'asc-policy')) {
      policyPromptCheck = await checkPolicyPrompts([POLICY_PROMPT, ...NEW_POLICY_PROMPTS]);
      log(`(d) prompts: ${POLICY_PROMPT.length} characters each, ${policyPromptCheck}`);
    }
    log('preflight');
    await preflight(scenarios, byId, stub.origin);
    // A target whose every scenario failed is down for the run (e.g. auth misconfigured): say why once.
    for (const t of targets) {
      const own = scenarios.filter((s) => s.target === t.id && s.section !== 'c');
      if (t.available && own.length > 0 && own.every((s) => !s.available)) {
        t.available = false;
        t.note = `every request failed in preflight: ${own[0]?.note ?? ''}`;
        log(`${t.label} not available: ${t.note}`);
      }
    }

    const enforcement = await probeEnforcement(targets, localKey);
    if (enforcement) log(`(d) probes: ${enforcement}`);

    await sleep(1000);
    const measured = targets.filter((t) => t.pid !== undefined && t.available);
    const afterPreflight = new Map(measured.map((t) => [t.id, memMb(t.pid as number)?.rss ?? NaN]));
    log(`idle RSS: waiting for every server to settle (${IDLE_SETTLE.minMs / 1000}–${IDLE_SETTLE.maxMs / 1000} s without traffic)`);
    const settled = await settledRss(measured.map((t) => t.pid as number));
    const memory: MemRow[] = targets
      .filter((t) => t.pid !== undefined)
      .map((t) => ({
        target: t.id,
        rssAfterPreflightMb: afterPreflight.get(t.id) ?? NaN,
        idleRssMb: t.available ? (settled[measured.findIndex((m) => m.id === t.id)] ?? NaN) : NaN,
        peakUnderLoadMb: NaN,
      }));

    const runnable = (s: Scenario): boolean => s.available && (byId.get(s.target)?.available ?? false);
    const loadGroups = groupByKey(scenarios.filter((s) => s.mode === 'load'));
    const seqGroups = groupByKey(scenarios.filter((s) => s.mode === 'seq'));
    const loadRows = new Map<string, LoadRow>(scenarios.filter((s) => s.mode === 'load').map((s) => [s.name, { scenario: s, rounds: [] }]));
    const seqRows = new Map<string, SeqRow>(scenarios.filter((s) => s.mode === 'seq').map((s) => [s.name, { scenario: s, rounds: [] }]));

    const nLoad = scenarios.filter((s) => s.mode === 'load' && runnable(s)).length;
    log(
      `plan: ${flags.rounds} round(s) × ${nLoad} load runs × ${flags.durationS} s + ${flags.seqCount} sequential/target; ` +
        `≈ ${Math.round((nLoad * (flags.rounds * (flags.durationS + 0.5) + flags.warmupS + 0.5)) / 6) / 10} min of load`,
    );

    log(`warm-up: ${flags.warmupS} s per load scenario`);
    for (const g of loadGroups) {
      for (const s of g.filter(runnable)) {
        await setStubDelay(stub.origin, s.delayMs);
        await runLoad(s, byId.get(s.target) as Target, stub.child.pid, { connections: flags.connections, durationS: flags.warmupS });
        await sleep(200);
      }
    }

    for (let round = 0; round < flags.rounds; round++) {
      if (round > 0 && policyChildren.size > 0) {
        log(`round ${round + 1}/${flags.rounds}: (d) gateways started afresh, warm-up`);
        await restartPolicyGateways();
        await setStubDelay(stub.origin, 0);
        for (const s of scenarios.filter((x) => x.mode === 'load' && x.section === 'd' && runnable(x))) {
          await runLoad(s, byId.get(s.target) as Target, stub.child.pid, { connections: flags.connections, durationS: flags.warmupS });
          await sleep(200);
        }
      }
      log(`round ${round + 1}/${flags.rounds}: unloaded`);
      await setStubDelay(stub.origin, 0);
      for (const g of seqGroups) {
        const items = rotate(g.filter(runnable), round).map((s) => ({ s, origin: (byId.get(s.target) as Target).origin }));
        if (items.length === 0) continue;
        const samples = await runSequential(items, flags.seqCount, round === 0 ? 20 : 5, 120_000);
        items.forEach((it, i) => {
          const smp = samples[i];
          const row = seqRows.get(it.s.name);
          if (!smp || !row) return;
          row.rounds.push(seqStats(smp.total, smp.ttfb, smp.ttft, smp.failures));
          if (smp.firstFailure) row.firstFailure ??= smp.firstFailure;
        });
      }
      for (const [gi, g] of loadGroups.entries()) {
        const list = rotate(g.filter(runnable), round);
        if (list.length === 0) continue;
        await setStubDelay(stub.origin, list[0]?.delayMs ?? 0);
        // (d)'s load runs are cut in slices taken in turn with the other targets of their comparison
        // (order rotated each slice), so the machine's slower and faster spells fall on all alike.
        // (a)-(c) keep whole runs: their peak RSS is read under sustained load.
        const sliceS = g[0]?.section === 'd' ? flags.sliceS : flags.durationS;
        const slices = new Map<Scenario, LoadSample[]>(list.map((s) => [s, []]));
        const sliceCount = Math.ceil(flags.durationS / sliceS);
        for (let k = 0; k < sliceCount; k++) {
          for (const s of rotate(list, k)) {
            if (!s.available) continue;
            const durationS = Math.min(sliceS, flags.durationS - k * sliceS);
            const r = await runLoad(s, byId.get(s.target) as Target, stub.child.pid, { connections: flags.connections, durationS });
            slices.get(s)?.push(r);
            if (r.requests === 0 || r.non2xx > r.requests / 2) {
              s.available = false;
              s.note = `failing under load (${r.non2xx} non-2xx, ${r.errors} errors)`;
            }
            await sleep(200);
          }
        }
        for (const [s, taken] of slices) {
          if (taken.length === 0) continue;
          const r = mergeSlices(taken);
          loadRows.get(s.name)?.rounds.push(r);
          log(
            `round ${round + 1} load ${gi + 1}/${loadGroups.length} ${s.key} @ ${s.target}: ${r.rps.toFixed(0)} req/s, p50 ${r.p50.toFixed(1)} ms, p99 ${r.p99} ms, ` +
              `${r.cpuUsPerReq.toFixed(0)} µs CPU/req, peak ${r.peakRssMb.toFixed(0)} MB${r.non2xx + r.errors > 0 ? `, non-2xx ${r.non2xx}, errors ${r.errors}` : ''}`,
          );
        }
      }
    }

    for (const row of loadRows.values()) if (row.rounds.length > 0) row.med = medianLoad(row.rounds);
    for (const row of seqRows.values()) if (row.rounds.length > 0) row.med = medianSeq(row.rounds);
    for (const m of memory) {
      const peaks = [...loadRows.values()].filter((r) => r.scenario.target === m.target && r.med).map((r) => r.med?.peakRssMb ?? NaN);
      m.peakUnderLoadMb = peaks.length ? Math.max(...peaks) : NaN;
    }

    const report: BenchReport = {
      meta: {
        date: new Date().toISOString(),
        node: process.version,
        cpus: os.cpus().length,
        cpuModel: os.cpus()[0]?.model ?? 'unknown',
        loadavgAtEnd: os.loadavg(),
        rounds: flags.rounds,
        durationS: flags.durationS,
        policySliceS: flags.sliceS,
        sections: [...flags.sections].sort().join(','),
        connections: flags.connections,
        seqCount: flags.seqCount,
        delays: flags.delays,
        quick: flags.quick,
        ascCommand: ascDescribe,
        wallS: Math.round((Date.now() - started) / 1000),
        ...(policyPromptCheck ? { policyPrompt: { chars: POLICY_PROMPT.length, check: policyPromptCheck } } : {}),
        ...(enforcement ? { policyEnforcement: enforcement } : {}),
        ...(targets.some((t) => t.kind === 'asc-policy') ? { policyProfiles: { 'asc-empty': EMPTY_PROFILE, 'asc-full': FULL_PROFILE, [AA_CONTROL_ID]: EMPTY_PROFILE } } : {}),
      },
      ...(guardrails ? { guardrails } : {}),
      targets,
      load: [...loadRows.values()],
      seq: [...seqRows.values()],
      memory,
      checks: [],
    };
    report.checks = computeChecks(report);
    const md = renderMarkdown(report);
    mkdirSync(flags.outDir, { recursive: true });
    writeFileSync(path.join(flags.outDir, 'latest.md'), md);
    writeFileSync(
      path.join(flags.outDir, 'latest.json'),
      `${JSON.stringify(report, (k, v: unknown) => jsonValue(k, v, localKey), 2)}\n`,
    );
    process.stdout.write(md);
    log(`wrote ${path.relative(process.cwd(), path.join(flags.outDir, 'latest.md'))} and latest.json (${report.meta.wallS} s)`);
  } finally {
    await cleanup();
  }
}

main().then(
  () => process.exit(0),
  (e: unknown) => {
    log(`failed: ${(e as Error).stack ?? String(e)}`);
    void stopAll().finally(() => process.exit(1));
  },
);
