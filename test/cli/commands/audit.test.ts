import { createHash } from 'node:crypto';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { UsageError } from '../../../src/cli/cli-command.js';
import { auditExportCommand, auditQueryCommand, auditVerifyCommand } from '../../../src/cli/commands/audit.js';
import { canonicalJson, openGatewayStore } from '../../../src/core/storage/index.js';
import { makeTrace, minutesAfterBase } from '../../core/storage/fixtures/make-trace.js';
import { makeTempDir } from '../../core/storage/fixtures/temp-dir.js';
import { runCommand } from '../fixtures/buffer-io.js';

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir('asc-cli-'));
  const store = openGatewayStore({ dataDir: dir });
  store.recordAudit({ type: 'profile.loaded', at: minutesAfterBase(-10), tenant: 'acme', profileVersion: 3, detail: { source: 'server' } });
  store.recordTrace(makeTrace({ startedAt: minutesAfterBase(0), credentialFingerprint: 'fp_one' }));
  store.recordTrace(makeTrace({ startedAt: minutesAfterBase(2), tenant: 'globex', credentialFingerprint: 'fp_two', status: 403, errorCode: 'policy_denied', attempts: [], decisions: [{ rule: 'deny', outcome: 'deny' }] }));
  store.recordAudit({ type: 'settings.changed', at: minutesAfterBase(60), tenant: null, profileVersion: null, detail: { note: 'has "quotes", commas\nand a newline' } });
  store.close();
});
afterEach(() => cleanup());

describe('asc audit verify', () => {
  it('exits 0 with the entry count when the chain holds', async () => {
    expect(await runCommand(auditVerifyCommand, ['--data-dir', dir])).toEqual({ code: 0, stdout: 'audit chain OK: 4 entries\n', stderr: '' });
  });

  it('exits non-zero naming the first broken entry', async () => {
    const db = new Database(join(dir, 'asc.db'));
    // Entry 2 is a request: its audit entry is held in its trace row.
    db.prepare(`UPDATE traces SET tenant = 'mallory' WHERE audit_seq = 2`).run();
    db.close();
    const r = await runCommand(auditVerifyCommand, ['--data-dir', dir]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/^audit chain BROKEN at entry 2: hash mismatch/);
  });

  it('names a missing database in one line', async () => {
    const r = await runCommand(auditVerifyCommand, ['--data-dir', join(dir, 'none')]);
    expect(r.code).toBe(1);
    expect(r.stderr.split('\n')).toHaveLength(2);
  });
});

describe('asc audit export', () => {
  it('writes JSON Lines that an outside verifier can re-hash', async () => {
    const r = await runCommand(auditExportCommand, ['--data-dir', dir]);
    const rows = r.stdout.trimEnd().split('\n').map((l) => JSON.parse(l) as Record<string, unknown>);
    expect(rows).toHaveLength(4);
    expect(Object.keys(rows[0]!)).toEqual(['seq', 'at', 'type', 'tenant', 'profile_version', 'detail', 'prev_hash', 'hash']);
    let prev = '0'.repeat(64);
    for (const row of rows) {
      expect(row.prev_hash).toBe(prev);
      const { seq, at, type, tenant, profile_version, detail } = row;
      const hash = createHash('sha256').update(String(prev) + canonicalJson({ seq, at, type, tenant, profile_version, detail })).digest('hex');
      expect(row.hash).toBe(hash);
      prev = hash;
    }
  });

  it('writes RFC 4180 CSV with the detail as canonical JSON, filtered by time', async () => {
    const r = await runCommand(auditExportCommand, ['--format', 'csv', '--since', minutesAfterBase(1), '--data-dir', dir]);
    const lines = r.stdout.split('\r\n');
    expect(lines[0]).toBe('seq,at,type,tenant,profile_version,detail,prev_hash,hash');
    expect(lines[1]).toMatch(/^3,2025-03-01T10:02:00.000Z,request.denied,globex,3,"\{""clientKeyId"":""ck_1"",/);
    expect(r.stdout).toContain('"{""note"":""has \\""quotes\\"", commas\\nand a newline""}"');
    const until = await runCommand(auditExportCommand, ['--format', 'csv', '--until', minutesAfterBase(1), '--data-dir', dir]);
    expect(until.stdout.trimEnd().split('\r\n').map((l) => l.split(',')[0])).toEqual(['seq', '1', '2']);
  });

  it('rejects an unknown format and an inverted range', async () => {
    await expect(runCommand(auditExportCommand, ['--format', 'xml', '--data-dir', dir])).rejects.toThrow(UsageError);
    await expect(runCommand(auditExportCommand, ['--since', '2025-03-02', '--until', '2025-03-01', '--data-dir', dir])).rejects.toThrow(UsageError);
  });
});

describe('asc audit query', () => {
  it('shows the active profile and the requests around the time, nearest first', async () => {
    const r = await runCommand(auditQueryCommand, ['--at', minutesAfterBase(0.5), '--data-dir', dir]);
    expect(r.code).toBe(0);
    const lines = r.stdout.trimEnd().split('\n');
    expect(lines[0]).toBe('audit around 2025-03-01T10:00:30.000Z (±5 min)');
    expect(lines[1]).toBe('active profile: acme v3 (profile.loaded at 2025-03-01 09:50:00Z, entry 1)');
    expect(lines[3]).toMatch(/^SEQ\s+TIME\s+OFFSET\s+OUTCOME\s+TENANT\s+MODEL\s+PROVIDER\s+CREDENTIAL\s+STATUS\s+TRACE$/);
    expect(lines[4]).toMatch(/^\s*2\s+2025-03-01 10:00:00Z\s+-30s\s+served\s+acme\s+gpt-4o-mini→gpt-4o-mini-2024-07-18\s+openai\s+fp_one\s+200\s+tr_/);
    expect(lines[5]).toMatch(/\+1m30s\s+denied\s+globex/);
  });

  it('filters by tenant and window, and prints JSON', async () => {
    const r = await runCommand(auditQueryCommand, ['--at', minutesAfterBase(0), '--tenant', 'globex', '--window', '1', '--json', '--data-dir', dir]);
    const parsed = JSON.parse(r.stdout) as { requests: unknown[]; activeProfile: unknown; windowMinutes: number };
    expect(parsed).toMatchObject({ requests: [], activeProfile: null, windowMinutes: 1 });
    const wide = await runCommand(auditQueryCommand, ['--at', minutesAfterBase(0), '--tenant', 'globex', '--window', '3', '--json', '--data-dir', dir]);
    expect((JSON.parse(wide.stdout) as { requests: Array<{ detail: { credentialFingerprint: string } }> }).requests.map((x) => x.detail.credentialFingerprint)).toEqual(['fp_two']);
  });

  it('requires --at and rejects a bad window', async () => {
    await expect(runCommand(auditQueryCommand, ['--data-dir', dir])).rejects.toThrow(/--at is required/);
    await expect(runCommand(auditQueryCommand, ['--at', '2025-03-01', '--window', '0', '--data-dir', dir])).rejects.toThrow(UsageError);
  });
});
