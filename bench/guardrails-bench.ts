/**
 * Guardrail latency on realistic prompts (code + prose, a few PII items and secrets), everything
 * on: PII redact, secrets redact, three deny patterns, input and output limits.
 *
 *   npx tsx bench/guardrails-bench.ts
 *
 * Prints a Markdown table of p50 / p99 milliseconds per applyGuardrails call: wall time, and CPU
 * time of this process (process.cpuUsage), which stays meaningful when other work shares the
 * machine and preempts the benchmark.
 */
import { performance } from 'node:perf_hooks';
import { applyGuardrails, compileGuardrails } from '../src/core/policy/index.js';

const PROSE = `The deployment failed again last night after the migration ran. Our on-call engineer traced it to
the connection pool: the retry loop opened a new socket for every attempt and never released the old ones.
Could you review the function below and suggest a safer approach? We also need the error messages to be
clearer for operators, and the metrics should show p50 and p99 latency per upstream (see v2.4.1 notes).
`;

const CODE = `export async function fetchWithRetry(url: string, attempts = 3): Promise<Response> {
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

const SENSITIVE = `Contact jane.doe@example.com or +44 20 7946 0958 about invoice 2024-117.
config: DB_HOST=10.0.12.7 api_key = "Zx8k2LqP9vRt4Wm7Yb3N" card 4111 1111 1111 1111
`;

function buildPrompt(targetBytes: number): string {
  let out = '';
  let i = 0;
  while (out.length < targetBytes) {
    out += i % 3 === 2 ? CODE : PROSE;
    if (i % 10 === 5) out += SENSITIVE;
    i++;
  }
  return out.slice(0, targetBytes);
}

function body(prompt: string): Record<string, unknown> {
  return {
    model: 'gpt-4.1',
    max_completion_tokens: 8000,
    messages: [
      { role: 'system', content: 'You are a careful senior engineer. Answer concisely.' },
      { role: 'user', content: prompt },
    ],
  };
}

const compiled = compileGuardrails({
  pii: 'redact',
  secrets: 'redact',
  deny: ['\\bproject\\s+nightingale\\b', 'internal[-_ ]only', 'do not (share|distribute)'],
  maxInputTokens: 1_000_000,
  maxOutputTokens: 4096,
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? NaN;
}

const rows: string[] = [];
for (const [label, size, iterations] of [
  ['1 KB', 1_024, 5_000],
  ['10 KB', 10_240, 2_000],
  ['100 KB', 102_400, 500],
] as const) {
  // Fresh strings per iteration so no engine-level caching of regex results helps.
  const bodies = Array.from({ length: 16 }, (_, k) => body(buildPrompt(size) + ` #${k}`));
  for (let w = 0; w < 200; w++) applyGuardrails('openai-chat', bodies[w % bodies.length]!, compiled);
  const times: number[] = [];
  const cpu: number[] = [];
  let findings = 0;
  for (let n = 0; n < iterations; n++) {
    const b = bodies[n % bodies.length]!;
    const c0 = process.cpuUsage();
    const t0 = performance.now();
    const r = applyGuardrails('openai-chat', b, compiled);
    times.push(performance.now() - t0);
    const c = process.cpuUsage(c0);
    cpu.push((c.user + c.system) / 1000);
    findings = r.findings.reduce((s, f) => s + f.count, 0);
  }
  times.sort((a, b) => a - b);
  cpu.sort((a, b) => a - b);
  const ms = (x: number): string => x.toFixed(3);
  rows.push(
    `| ${label} | ${iterations} | ${ms(percentile(times, 50))} | ${ms(percentile(times, 99))} | ${ms(percentile(cpu, 50))} | ${ms(percentile(cpu, 99))} | ${findings} |`,
  );
}

console.log(`Guardrails, everything on (Node ${process.version}, ${process.platform}/${process.arch})\n`);
console.log('| prompt | runs | wall p50 ms | wall p99 ms | CPU p50 ms | CPU p99 ms | findings/request |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) console.log(r);
