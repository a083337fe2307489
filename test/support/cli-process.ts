import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const REPO_ROOT = fileURLToPath(new URL('../../', import.meta.url));
/** The bundle test/global-setup.ts built from the current sources, else the `asc` bin itself. */
const BIN = process.env.ASC_TEST_CLI ?? fileURLToPath(new URL('../../bin/asc.mjs', import.meta.url));

/**
 * The environment CLI process tests run `asc` with: the test local key and provider keys, and no
 * reachable keychain (those paths have their own tests against a real Secret Service).
 */
export function cliTestEnv(localKey: string, secrets: { openai: string; anthropic: string; mistral: string }): NodeJS.ProcessEnv {
  return {
    ASC_LOCAL_KEY: localKey,
    OPENAI_API_KEY: secrets.openai,
    ANTHROPIC_API_KEY: secrets.anthropic,
    MISTRAL_API_KEY: secrets.mistral,
    DBUS_SESSION_BUS_ADDRESS: 'unix:path=/nonexistent',
  };
}

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** Runs `asc …` from the sources as a real process, the way users and tooling run it. */
export function runAsc(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ASC_FROM_SOURCE: '1', ...opts.env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`asc ${args.join(' ')} timed out; stderr: ${stderr}`));
    }, opts.timeoutMs ?? 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr });
    });
    child.stdin.end(opts.input ?? '');
  });
}

export interface ServeProcess {
  child: ChildProcessWithoutNullStreams;
  url: string;
  stdout: () => string;
  stderr: () => string;
  exited: Promise<number | null>;
}

/** Starts `asc serve --port 0 …` and resolves once it printed its ready line. */
export function spawnServe(args: string[], env: NodeJS.ProcessEnv): Promise<ServeProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, 'serve', '--port', '0', ...args], {
      cwd: REPO_ROOT,
      env: { ...process.env, ASC_FROM_SOURCE: '1', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((r) => child.on('close', (code) => r(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`asc serve did not become ready; stderr: ${stderr}`));
    }, 20_000);
    child.stdout.on('data', (d: Buffer) => {
      stdout += d.toString();
      const m = /^ASC gateway listening on (http:\/\/127\.0\.0\.1:\d+)\n/.exec(stdout);
      if (m) {
        clearTimeout(timer);
        resolve({ child, url: m[1]!, stdout: () => stdout, stderr: () => stderr, exited });
      }
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new Error(`asc serve exited with ${code}; stderr: ${stderr}`));
    });
  });
}
