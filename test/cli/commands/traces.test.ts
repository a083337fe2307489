import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/cli-command.js';
import { tracesCommand } from '../../../src/cli/commands/traces.js';
import { formatTable, parseTimeOption } from '../../../src/cli/store-output.js';
import { openGatewayStore } from '../../../src/core/storage/index.js';
import type { Trace } from '../../../src/shared/trace.js';
import { makeTrace, minutesAfterBase } from '../../core/storage/fixtures/make-trace.js';
import { makeTempDir } from '../../core/storage/fixtures/temp-dir.js';
import { runCommand } from '../fixtures/buffer-io.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir('asc-cli-'));
});
afterEach(() => cleanup());

function seed(traces: Trace[]): void {
  const store = openGatewayStore({ dataDir: dir });
  for (const t of traces) store.recordTrace(t);
  store.close();
}

describe('asc traces', () => {
  it('prints one JSON array, newest first, limited', async () => {
    seed([0, 1, 2].map((m) => makeTrace({ startedAt: minutesAfterBase(m), route: `/r${m}` })));
    const r = await runCommand(tracesCommand, ['--json', '--limit', '2', '--data-dir', dir]);
    expect(r.code).toBe(0);
    const parsed = JSON.parse(r.stdout) as Trace[];
    expect(parsed.map((t) => t.route)).toEqual(['/r2', '/r1']);
  });

  it('prints a compact table with model requested→used, latency, ttft, tokens and cost', async () => {
    seed([
      makeTrace({ startedAt: minutesAfterBase(0) }),
      makeTrace({ startedAt: minutesAfterBase(1), costUsd: null, costNote: 'unpriced_model', modelUsed: 'gpt-4o-mini' }),
    ]);
    const r = await runCommand(tracesCommand, ['--data-dir', dir]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^TIME\s+STATUS\s+ROUTE\s+MODEL\s+PROVIDER\s+LATENCY\s+TTFT\s+TOKENS IN\/OUT\s+COST$/);
    expect(lines[1]).toContain('unpriced');
    expect(lines[2]).toContain('2025-03-01 10:00:00Z');
    expect(lines[2]).toContain('gpt-4o-mini→gpt-4o-mini-2024-07-18');
    expect(lines[2]).toMatch(/1250ms\s+310ms\s+100\/20\s+\$0\.0012$/);
  });

  it('reads ASC_DATA_DIR when --data-dir is not given', async () => {
    seed([makeTrace()]);
    const r = await runCommand(tracesCommand, ['--json'], { ASC_DATA_DIR: dir });
    expect(JSON.parse(r.stdout)).toHaveLength(1);
  });

  it('says so when nothing is recorded, and names a missing database in one line', async () => {
    seed([]);
    expect((await runCommand(tracesCommand, ['--data-dir', dir])).stdout).toBe('no traces recorded yet\n');
    const missing = await runCommand(tracesCommand, ['--data-dir', join(dir, 'nope')]);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toMatch(/^asc: no ASC database at .*\n$/);
  });

  it('rejects a bad limit as a usage error', async () => {
    await expect(runCommand(tracesCommand, ['--limit', '0', '--data-dir', dir])).rejects.toThrow(UsageError);
    await expect(runCommand(tracesCommand, ['--limit', '10001', '--data-dir', dir])).rejects.toThrow(UsageError);
    await expect(runCommand(tracesCommand, ['--bogus'])).rejects.toThrow(UsageError);
  });

  it('escapes control characters from recorded values in the table', async () => {
    seed([makeTrace({ modelRequested: 'evil\u001b[31mred', modelUsed: null })]);
    const r = await runCommand(tracesCommand, ['--data-dir', dir]);
    expect(r.stdout).not.toContain('\u001b');
    expect(r.stdout).toContain('evil\\u001b[31mred');
  });
});

describe('shared CLI helpers', () => {
  it('parseTimeOption takes a date as UTC midnight or an ISO time, and rejects anything else', () => {
    expect(parseTimeOption('2025-03-01', 'since')).toBe('2025-03-01T00:00:00.000Z');
    expect(parseTimeOption('2025-03-01T12:30:00+02:00', 'since')).toBe('2025-03-01T10:30:00.000Z');
    expect(parseTimeOption(undefined, 'since')).toBeUndefined();
    for (const bad of ['yesterday', 'March 1', '2025-13-01', '']) expect(() => parseTimeOption(bad, 'since')).toThrow(UsageError);
  });

  it('formatTable pads columns and right-aligns numbers', () => {
    expect(formatTable(['A', 'N'], [['x', '1'], ['long', '100']], [1])).toBe('A       N\nx       1\nlong  100\n');
  });
});
