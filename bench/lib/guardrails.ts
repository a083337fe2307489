/**
 * Guardrail cost on realistic prompts (code + prose, a few PII items and secrets), everything on:
 * PII redact, secrets redact, three deny patterns, input and output limits. Used by
 * `bench/guardrails-bench.ts` (standalone) and by `bench/run.ts` (the "Guardrail cost" section).
 *
 * Per applyGuardrails call: wall time (performance.now) and CPU time of this process
 * (process.cpuUsage), which stays meaningful when other work on the machine preempts the benchmark.
 *
 * `src/core/policy/index.js` is imported dynamically, so a broken source tree makes this one
 * measurement unavailable instead of failing the whole `npm run bench`.
 */
import { performance } from 'node:perf_hooks';

export const PROSE = `The deployment failed again last night after the migration ran. Our on-call engineer traced it to
the connection pool: the retry loop opened a new socket for every attempt and never released the old ones.
Could you review the function below and suggest a safer approach? We also need the error messages to be
clearer for operators, and the metrics should show p50 and p99 latency per upstream (see v2.4.1 notes).
`;

export const CODE = `export async function fetchWithRetry(url: string, attempts = 3): Promise<Response> {
  let lastError: unknown;
  for (let i = 0; i < attempts; i++) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(5_000) });
      if (res.status >= 500) throw new Error(\`upstream \${res.status}\`);
      return res;
    } catch (e) {
      lastError = e;
      await new Promise((r) => setTimeout(r, 2 ** i * 100));
    }
  }
  const tokenizer = getTokenizer(config.model);
  const pageSize = 1024; const timeoutMs = 30000; // 2024-11-05 12:30:00
  throw lastError;
}
`;

export const SENSITIVE = `Contact jane.doe@example.com or +44 20 7946 0958 about invoice 2024-117.
config: DB_HOST=10.0.12.7 api_key = "Zx8k2LqP9vRt4Wm7Yb3N" card 4111 1111 1111 1111
`;

/** Three realistic deny rules (the same in the guardrail measurement and in the bench's full-policy profile). */
export const DENY_PATTERNS = ['\\bproject\\s+nightingale\\b', 'internal[-_ ]only', 'do not (share|distribute)'];

/**
 * A prompt of exactly `targetBytes` characters: prose and code, alternating; with `sensitive`, a block
 * of PII and secrets every 10th piece (from ~6 KB on).
 */
export function buildPrompt(targetBytes: number, sensitive = true): string {
  let out = '';
  let i = 0;
  while (out.length < targetBytes) {
    out += i % 3 === 2 ? CODE : PROSE;
    if (sensitive && i % 10 === 5) out += SENSITIVE;
    i++;
  }
  return out.slice(0, targetBytes);
}

export const SYSTEM_PROMPT = 'You are a careful senior engineer. Answer concisely.';

export function chatBody(prompt: string, model = 'gpt-4.1'): Record<string, unknown> {
  return {
    model,
    max_completion_tokens: 8000,
    messages: [
      { role: 'system', content: SYSTEM_PROMPT },
      { role: 'user', content: prompt },
    ],
  };
}

export interface GuardrailSize {
  label: string;
  bytes: number;
  iterations: number;
}

export const GUARDRAIL_SIZES: readonly GuardrailSize[] = [
  { label: '1 KB', bytes: 1_024, iterations: 5_000 },
  { label: '10 KB', bytes: 10_240, iterations: 2_000 },
  { label: '100 KB', bytes: 102_400, iterations: 500 },
];

export interface GuardrailRow {
  label: string;
  bytes: number;
  runs: number;
  wallP50: number;
  wallP99: number;
  cpuP50: number;
  cpuP99: number;
  /** Occurrences detected in one request (the last one measured). */
  findings: number;
  /**
   * CPU p50 of a request whose texts these guardrails already found clean, as an agent resends
   * its conversation: the clean-text memo's lookup instead of a scan. The columns above scan.
   */
  resentCpuP50: number;
}

export interface GuardrailReport {
  available: boolean;
  /** Why not, when unavailable. */
  note?: string;
  node: string;
  rows: GuardrailRow[];
}

/** Nearest-rank style (floor index), as the standalone script always did. */
function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

export interface GuardrailOpts {
  sizes?: readonly GuardrailSize[];
  /** Multiplies every size's iteration count (e.g. 0.4 for a quick run); at least 50 runs each. */
  scale?: number;
}

export async function measureGuardrails(opts: GuardrailOpts = {}): Promise<GuardrailReport> {
  let policy: typeof import('../../src/core/policy/index.js');
  try {
    policy = await import('../../src/core/policy/index.js');
  } catch (e) {
    return { available: false, note: `cannot import src/core/policy/index.js: ${(e as Error).message.split('\n')[0] ?? ''}`, node: process.version, rows: [] };
  }
  const { applyGuardrails, compileGuardrails } = policy;
  const compiled = compileGuardrails({
    pii: 'redact',
    secrets: 'redact',
    deny: DENY_PATTERNS,
    maxInputTokens: 1_000_000,
    maxOutputTokens: 4096,
  });
  // The figures the target is judged on scan every text: no clean-text memo.
  const scanning = { ...compiled, cleanTexts: null };
  const scale = opts.scale ?? 1;
  const rows: GuardrailRow[] = [];
  for (const size of opts.sizes ?? GUARDRAIL_SIZES) {
    const iterations = Math.max(50, Math.round(size.iterations * scale));
    // Fresh strings per iteration so no engine-level caching of regex results helps.
    const bodies = Array.from({ length: 16 }, (_, k) => chatBody(buildPrompt(size.bytes) + ` #${k}`));
    const scanned = timeCalls(bodies, iterations, (b) => applyGuardrails('openai-chat', b, scanning));
    // One conversation resent: the same content in new strings each time, as each request's JSON.parse gives.
    const clean = buildPrompt(size.bytes, false);
    const cleanBodies = Array.from({ length: 16 }, () => JSON.parse(JSON.stringify(chatBody(clean))) as Record<string, unknown>);
    const resent = timeCalls(cleanBodies, iterations, (b) => applyGuardrails('openai-chat', b, compiled));
    rows.push({
      label: size.label,
      bytes: size.bytes,
      runs: iterations,
      wallP50: percentile(scanned.wall, 50),
      wallP99: percentile(scanned.wall, 99),
      cpuP50: percentile(scanned.cpu, 50),
      cpuP99: percentile(scanned.cpu, 99),
      findings: scanned.last.findings.reduce((sum, f) => sum + f.count, 0),
      resentCpuP50: percentile(resent.cpu, 50),
    });
  }
  return { available: true, node: process.version, rows };
}

/** Wall and CPU times (ms, sorted) of `iterations` calls over `bodies` in turn, after 200 warm-up calls. */
function timeCalls<R>(bodies: Record<string, unknown>[], iterations: number, call: (body: Record<string, unknown>) => R): { wall: number[]; cpu: number[]; last: R } {
  for (let w = 0; w < 200; w++) call(bodies[w % bodies.length]!);
  const wall: number[] = [];
  const cpu: number[] = [];
  let last!: R;
  for (let n = 0; n < iterations; n++) {
    const b = bodies[n % bodies.length]!;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    last = call(b);
    wall.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
  }
  wall.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  return { wall, cpu, last };
}

/** The Markdown table (same layout the standalone script has always printed, plus the resent column). */
export function guardrailTable(rows: readonly GuardrailRow[]): string {
  const ms = (x: number): string => (Number.isFinite(x) ? x.toFixed(3) : '–');
  return [
    '| prompt | runs | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms | findings/request | resent clean prompt, CPU p50 ms |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...rows.map(
      (r) => `| ${r.label} | ${r.runs} | ${ms(r.wallP50)} | ${ms(r.wallP99)} | ${ms(r.cpuP50)} | ${ms(r.cpuP99)} | ${r.findings} | ${ms(r.resentCpuP50)} |`,
    ),
  ].join('\n');
}

/**
 * How many findings the given guardrail settings report for an OpenAI chat body, or a reason it could
 * not be checked. The runner uses it to prove its (d) prompt triggers nothing on the full profile.
 */
export async function countFindings(
  body: Record<string, unknown>,
  guardrails: Parameters<typeof import('../../src/core/policy/index.js').compileGuardrails>[0],
): Promise<{ findings: number; blocked?: string } | { error: string }> {
  try {
    const { applyGuardrails, compileGuardrails } = await import('../../src/core/policy/index.js');
    const r = applyGuardrails('openai-chat', body, compileGuardrails(guardrails));
    return { findings: r.findings.reduce((s, f) => s + f.count, 0), ...(r.blocked ? { blocked: r.blocked.message } : {}) };
  } catch (e) {
    return { error: (e as Error).message.split('\n')[0] ?? String(e) };
  }
}
