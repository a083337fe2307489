/** Child processes (one per server, so /proc CPU and memory are per process) and /proc readers. */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

export interface Child {
  name: string;
  proc: ChildProcess;
  pid: number;
  /** Last few KB of stdout+stderr, for error messages. */
  tail(): string;
  exited(): { code: number | null; signal: NodeJS.Signals | null } | undefined;
}

const children = new Set<Child>();

export interface SpawnOpts {
  name: string;
  command: string;
  args: string[];
  cwd: string;
  env: NodeJS.ProcessEnv;
  /** Matched against each stdout line; the first capture group is returned (the port). */
  ready: RegExp;
  timeoutMs: number;
}

/** Spawns a server and resolves once its ready line appears; rejects with its output on exit/timeout. */
export function spawnServer(opts: SpawnOpts): Promise<{ child: Child; match: string }> {
  const proc = spawn(opts.command, opts.args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
  let tail = '';
  let exitInfo: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const keep = (s: string): void => {
    tail = (tail + s).slice(-4000);
  };
  const child: Child = {
    name: opts.name,
    proc,
    pid: proc.pid ?? -1,
    tail: () => tail,
    exited: () => exitInfo,
  };
  children.add(child);
  return new Promise((resolve, reject) => {
    let lineBuf = '';
    let done = false;
    const finish = (err: Error | undefined, match?: string): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      if (err) {
        killChild(child);
        reject(err);
      } else resolve({ child, match: match ?? '' });
    };
    const timer = setTimeout(
      () => finish(new Error(`${opts.name}: no ready line within ${opts.timeoutMs} ms. Output:\n${indent(tail)}`)),
      opts.timeoutMs,
    );
    // Keep draining both pipes for the child's whole life: a full pipe would stall a logging server.
    proc.stdout?.setEncoding('utf8');
    proc.stderr?.setEncoding('utf8');
    proc.stdout?.on('data', (s: string) => {
      keep(s);
      if (done) return;
      lineBuf += s;
      let nl;
      while ((nl = lineBuf.indexOf('\n')) !== -1) {
        const line = lineBuf.slice(0, nl).trim();
        lineBuf = lineBuf.slice(nl + 1);
        const m = opts.ready.exec(line);
        if (m) finish(undefined, m[1]);
      }
      if (lineBuf.length > 100_000) lineBuf = lineBuf.slice(-10_000);
    });
    proc.stderr?.on('data', keep);
    proc.on('error', (e) => finish(new Error(`${opts.name}: failed to start: ${e.message}`)));
    proc.on('exit', (code, signal) => {
      exitInfo = { code, signal };
      children.delete(child);
      finish(new Error(`${opts.name}: exited (code ${code}, signal ${signal}) before it was ready. Output:\n${indent(tail)}`));
    });
  });
}

function indent(s: string): string {
  const t = s.trim();
  return t ? t.split('\n').slice(-25).map((l) => `    ${l}`).join('\n') : '    (no output)';
}

export function killChild(c: Child, signal: NodeJS.Signals = 'SIGTERM'): void {
  if (c.exited() === undefined && c.proc.exitCode === null) {
    try {
      c.proc.kill(signal);
    } catch {
      /* already gone */
    }
  }
}

/** SIGTERM one child, wait up to `graceMs` for it to exit, then SIGKILL it. */
export async function stopChild(c: Child, graceMs = 3000): Promise<void> {
  killChild(c, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && c.exited() === undefined) await sleep(50);
  if (c.exited() === undefined) killChild(c, 'SIGKILL');
  while (c.exited() === undefined && Date.now() < deadline + 2000) await sleep(50);
  children.delete(c);
}

/** SIGTERM every child, wait up to `graceMs`, then SIGKILL the rest. */
export async function stopAll(graceMs = 3000): Promise<void> {
  const list = [...children];
  for (const c of list) killChild(c, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && list.some((c) => c.exited() === undefined)) await sleep(50);
  for (const c of list) if (c.exited() === undefined) killChild(c, 'SIGKILL');
}

/** Synchronous last resort (process 'exit' handler): SIGKILL whatever is left. */
export function killAllNow(): void {
  for (const c of children) killChild(c, 'SIGKILL');
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}

let clkTck: number | undefined;
export function clockTicks(): number {
  if (clkTck === undefined) {
    try {
      clkTck = Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
    } catch {
      clkTck = 100;
    }
  }
  return clkTck;
}

/** utime+stime of a process in milliseconds (from /proc/<pid>/stat); undefined when unreadable. */
export function cpuMs(pid: number): number | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return Number.isFinite(ticks) ? (ticks * 1000) / clockTicks() : undefined;
  } catch {
    return undefined;
  }
}

/** VmRSS and VmHWM in MB from /proc/<pid>/status. */
export function memMb(pid: number): { rss: number; hwm: number } | undefined {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const get = (k: string): number => {
      const m = new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(status);
      return m ? Number(m[1]) / 1024 : NaN;
    };
    return { rss: get('VmRSS'), hwm: get('VmHWM') };
  } catch {
    return undefined;
  }
}

/** Resets VmHWM to the current RSS (Linux: write 5 to clear_refs). Returns false if not permitted. */
export function resetPeak(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, '5');
    return true;
  } catch {
    return false;
  }
}

/** Samples VmRSS every `everyMs` until stopped; the peak is max(sampled RSS, VmHWM if it was reset). */
export function peakSampler(pid: number, everyMs = 100): { stop(): number } {
  const hwmReset = resetPeak(pid);
  let peak = memMb(pid)?.rss ?? NaN;
  const t = setInterval(() => {
    const m = memMb(pid);
    if (m && !(m.rss <= peak)) peak = m.rss;
  }, everyMs);
  return {
    stop() {
      clearInterval(t);
      const m = memMb(pid);
      if (m) {
        if (!(m.rss <= peak)) peak = m.rss;
        if (hwmReset && !(m.hwm <= peak)) peak = m.hwm;
      }
      return peak;
    },
  };
}

/** Machine-wide busy CPU time in ms (all cores, from the `cpu` line of /proc/stat). */
export function machineBusyMs(): number | undefined {
  try {
    const line = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0] ?? '';
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    // user nice system idle iowait irq softirq steal guest guest_nice; guest is already in user.
    // irq/softirq are left out: loopback traffic of the benchmark itself lands there, unattributed.
    const busy = (v[0] ?? 0) + (v[1] ?? 0) + (v[2] ?? 0) + (v[7] ?? 0);
    return (busy * 1000) / clockTicks();
  } catch {
    return undefined;
  }
}
