/**
 * Guardrail latency on realistic prompts (code + prose, a few PII items and secrets), everything
 * on: PII redact, secrets redact, three deny patterns, input and output limits.
 *
 *   npx tsx bench/guardrails-bench.ts
 *
 * Prints a Markdown table of p50 / p99 milliseconds per applyGuardrails call: wall time, and CPU
 * time of this process (process.cpuUsage), which stays meaningful when other work shares the
 * machine and preempts the benchmark. The measurement itself lives in lib/guardrails.ts; `npm run
 * bench` (run.ts) runs the same one and adds it to its report.
 */
import { guardrailTable, measureGuardrails } from './lib/guardrails.js';

const rep = await measureGuardrails();
if (!rep.available) {
  console.error(`guardrails benchmark not available: ${rep.note ?? ''}`);
  process.exit(1);
}
console.log(`Guardrails, everything on (Node ${process.version}, ${process.platform}/${process.arch})\n`);
console.log(guardrailTable(rep.rows));
