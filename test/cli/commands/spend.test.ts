import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/cli-command.js';
import { spendCommand } from '../../../src/cli/commands/spend.js';
import { openGatewayStore } from '../../../src/core/storage/index.js';
import { makeTrace } from '../../core/storage/fixtures/make-trace.js';
import { makeTempDir } from '../../core/storage/fixtures/temp-dir.js';
import { runCommand } from '../fixtures/buffer-io.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir('asc-cli-'));
  const store = openGatewayStore({ dataDir: dir });
  store.recordTrace(makeTrace({ startedAt: '2025-03-01T10:00:00.000Z', tenant: 'acme', costUsd: 1.25 }));
  store.recordTrace(makeTrace({ startedAt: '2025-03-02T10:00:00.000Z', tenant: 'acme', costUsd: null, costNote: 'unpriced_model' }));
  store.recordTrace(makeTrace({ startedAt: '2025-03-02T11:00:00.000Z', tenant: 'globex', providerId: 'mistral', costUsd: 0.5 }));
  store.close();
});
afterEach(() => cleanup());

describe('asc spend', () => {
  it('shows totals by tenant with the unpriced count spelled out', async () => {
    const r = await runCommand(spendCommand, ['--data-dir', dir]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^spend by tenant\nTENANT\s+REQUESTS/);
    expect(r.stdout).toMatch(/acme\s+2\s+0\s+200\s+40\s+0\s+\$1\.25\s+1\n/);
    expect(r.stdout).toMatch(/TOTAL\s+3\s+0\s+300\s+60\s+0\s+\$1\.75\s+1\n/);
    expect(r.stdout).toContain('total: $1.75 over 3 request(s); unpriced: 1 (no price known: not included in the USD total)');
  });

  it('prints unpriced: 0 when everything was priced', async () => {
    const r = await runCommand(spendCommand, ['--by', 'provider', '--since', '2025-03-02T10:30:00Z', '--data-dir', dir]);
    expect(r.stdout).toContain('spend by provider since 2025-03-02T10:30:00.000Z');
    expect(r.stdout).toContain('unpriced: 0\n');
  });

  it('prints one JSON object with rows and a total', async () => {
    const r = await runCommand(spendCommand, ['--by', 'day', '--json', '--data-dir', dir]);
    const parsed = JSON.parse(r.stdout) as { by: string; since: null; rows: Array<{ key: string; unpriced: number }>; total: { costUsd: number; unpriced: number } };
    expect(parsed.by).toBe('day');
    expect(parsed.since).toBeNull();
    expect(parsed.rows.map((x) => [x.key, x.unpriced])).toEqual([['2025-03-01', 0], ['2025-03-02', 1]]);
    expect(parsed.total).toMatchObject({ costUsd: 1.75, unpriced: 1 });
  });

  it('rejects an unknown grouping or a bad date as usage errors', async () => {
    await expect(runCommand(spendCommand, ['--by', 'colour', '--data-dir', dir])).rejects.toThrow(UsageError);
    await expect(runCommand(spendCommand, ['--since', 'last week', '--data-dir', dir])).rejects.toThrow(UsageError);
  });
});
