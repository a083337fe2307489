import { spawn } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import Database from 'better-sqlite3';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { openGatewayStore } from '../../../src/core/storage/index.js';
import { makeTrace } from './fixtures/make-trace.js';
import { makeTempDir } from './fixtures/temp-dir.js';

const WRITER = fileURLToPath(new URL('./fixtures/store-writer.ts', import.meta.url));

let dir: string;
let cleanup: () => void;
beforeEach(() => {
  ({ dir, cleanup } = makeTempDir('asc-crash-'));
});
afterEach(() => cleanup());

interface ChildReport {
  lastEnqueued: { traces: number; audit: number };
  lastFlushed: { traces: number; audit: number };
  /** Most traces enqueued between two consecutive commits: the size of one flush window. */
  maxWindow: number;
  flushes: number;
}

/** Runs the writer, SIGKILLs it about a second after it starts writing, and parses what it said. */
function runAndKill(dataDir: string, killAfterMs: number): Promise<ChildReport> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', WRITER, dataDir], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.setEncoding('utf8').on('data', (d: string) => {
      if (!out.includes('ready') && (out + d).includes('ready')) setTimeout(() => child.kill('SIGKILL'), killAfterMs);
      out += d;
    });
    child.stderr.setEncoding('utf8').on('data', (d: string) => (err += d));
    child.on('error', reject);
    // 'close', not 'exit': only then has everything the child wrote been read from the pipe.
    child.on('close', (code, signal) => {
      if (signal !== 'SIGKILL') return reject(new Error(`writer exited on its own (code ${code}): ${err || out.slice(-500)}`));
      const report: ChildReport = { lastEnqueued: { traces: 0, audit: 0 }, lastFlushed: { traces: 0, audit: 0 }, maxWindow: 0, flushes: 0 };
      let enqueuedAtLastFlush = 0;
      // The last line may be cut mid-write by the kill; only complete lines count.
      for (const line of out.split('\n').slice(0, -1)) {
        const [word, ...nums] = line.split(' ');
        const n = nums.map(Number);
        if (word === 'enqueued') report.lastEnqueued = { traces: n[0]!, audit: n[1]! };
        if (word === 'flushed') {
          report.lastFlushed = { traces: n[0]!, audit: n[1]! };
          report.maxWindow = Math.max(report.maxWindow, n[2]! - enqueuedAtLastFlush);
          enqueuedAtLastFlush = n[2]!;
          report.flushes++;
        }
      }
      resolve(report);
    });
  });
}

describe('crash durability', () => {
  it('after kill -9 mid-load: the database is intact, the chain verifies, and at most one flush window is lost', async () => {
    const report = await runAndKill(dir, 1000);
    expect(report.flushes).toBeGreaterThanOrEqual(2);

    const raw = new Database(join(dir, 'asc.db'));
    expect(raw.pragma('integrity_check', { simple: true })).toBe('ok');
    const traces = (raw.prepare('SELECT COUNT(*) AS n FROM traces').get() as { n: number }).n;
    // A request's audit entry is held in its trace row; the chain's other entries in audit_log.
    const requestAudit = (raw.prepare(`SELECT COUNT(*) AS n FROM traces WHERE audit_seq IS NOT NULL AND audit_type LIKE 'request.%'`).get() as { n: number }).n;
    const audit = (raw.prepare('SELECT COUNT(*) AS n FROM audit_log').get() as { n: number }).n + requestAudit;
    raw.close();

    // Every batch the child saw committed survived the kill...
    expect(traces).toBeGreaterThanOrEqual(report.lastFlushed.traces);
    expect(audit).toBeGreaterThanOrEqual(report.lastFlushed.audit);
    // ...nothing appears that was never enqueued, and what is missing is only the window that
    // was still queued: about one flush window (slack for a window stretched by a loaded machine).
    expect(traces).toBeLessThanOrEqual(report.lastEnqueued.traces);
    expect(report.lastEnqueued.traces - traces).toBeLessThanOrEqual(2 * report.maxWindow + 50);
    // Every trace carries its audit entry.
    expect(requestAudit).toBe(traces);

    const store = openGatewayStore({ dataDir: dir });
    expect(store.verifyAudit()).toEqual({ ok: true, entries: audit });
    // The chain head is read back from the database, so writing on after the crash stays consistent.
    store.recordTrace(makeTrace());
    expect(store.verifyAudit()).toEqual({ ok: true, entries: audit + 1 });
    store.close();
  });
});
