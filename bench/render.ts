/**
 * Renders a report again from its JSON: `npx tsx bench/render.ts [bench/results/latest.json]`.
 * The checks are computed afresh from the per-round samples, so a change to how a figure is read
 * can be shown on a run already made; latest.md is rewritten next to the JSON.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { computeChecks, renderMarkdown, type BenchReport } from './lib/report.js';

const HERE = path.dirname(fileURLToPath(import.meta.url));
const file = path.resolve(process.argv[2] ?? path.join(HERE, 'results', 'latest.json'));
// JSON has no NaN: the runner wrote missing figures as null.
const report = JSON.parse(readFileSync(file, 'utf8'), (_k, v: unknown) => (v === null ? Number.NaN : v)) as BenchReport;
report.checks = computeChecks(report);
const md = renderMarkdown(report);
writeFileSync(path.join(path.dirname(file), 'latest.md'), md);
process.stdout.write(md);
