import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import OpenAI from 'openai';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_KEY, PROVIDER_SECRETS, testPolicy } from '../support/gateway-harness.js';
import { cliTestEnv, runAsc, spawnServe } from '../support/cli-process.js';
import { startWireUpstream, type WireUpstream } from '../support/wire-upstream.js';

let upstream: WireUpstream;
let dir: string;
let policyFile: string;
const env = {
  ...cliTestEnv(LOCAL_KEY, PROVIDER_SECRETS),
  // As chatty as it gets, so the secret scan below covers every log line the gateway can write.
  ASC_LOG_LEVEL: 'trace',
};

beforeAll(async () => {
  upstream = await startWireUpstream({ requireAuth: PROVIDER_SECRETS });
  dir = await mkdtemp(join(tmpdir(), 'asc-cli-'));
  policyFile = join(dir, 'policy.json');
  await writeFile(policyFile, JSON.stringify(testPolicy(upstream)));
});
afterAll(async () => {
  await upstream.close();
  await rm(dir, { recursive: true, force: true });
});

describe('asc serve as a real process', () => {
  it('prints exactly one ready line, finishes in-flight requests on SIGTERM, exits 0, and never writes a secret', async () => {
    const dataDir = join(dir, 'data-serve');
    const serve = await spawnServe(['--data-dir', dataDir, '--policy', policyFile], env);
    expect(serve.stdout()).toMatch(/^ASC gateway listening on http:\/\/127\.0\.0\.1:\d+\n$/);

    const client = new OpenAI({ apiKey: LOCAL_KEY, baseURL: `${serve.url}/v1`, maxRetries: 0 });
    await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'one' }] });
    const stream = await client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'two words' }], stream: true });
    for await (const _ of stream) void _;
    await client.chat.completions.create({ model: 'nope-model', messages: [] }).catch(() => {});

    // A slow request is in flight when SIGTERM arrives: it must still complete.
    upstream.enqueue('openai', { delayMs: 600 });
    const inFlight = client.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'slow one' }] });
    await new Promise((r) => setTimeout(r, 150));
    serve.child.kill('SIGTERM');
    const answer = await inFlight;
    expect(answer.choices[0]!.message.content).toBe('echo: slow one');
    expect(await serve.exited).toBe(0);
    expect(serve.stdout().trim().split('\n')).toHaveLength(1);

    const traces = await runAsc(['traces', '--json', '--limit', '10', '--data-dir', dataDir], { env });
    expect(traces.code).toBe(0);
    const rows = JSON.parse(traces.stdout) as { modelRequested: string; status: number; streamed: boolean }[];
    expect(rows).toHaveLength(4);
    expect(rows[0]!.modelRequested).toBe('gpt-4.1-mini'); // newest first: the in-flight one, flushed at shutdown
    expect(rows.map((r) => r.status).sort()).toEqual([200, 200, 200, 400]);

    const files = await readdir(dataDir);
    let disk = '';
    for (const f of files) disk += (await readFile(join(dataDir, f))).toString('latin1');
    for (const secret of [...Object.values(PROVIDER_SECRETS), LOCAL_KEY]) {
      expect(disk.includes(secret), `secret found in ${dataDir}`).toBe(false);
      expect(serve.stderr().includes(secret), 'secret found in logs').toBe(false);
      expect(serve.stdout().includes(secret)).toBe(false);
    }
  });

  it('stops with an error naming the policy file, the path inside it and what is wrong', async () => {
    const bad = join(dir, 'bad-policy.json');
    await writeFile(bad, JSON.stringify({ active: 'x', profiles: [{ tenant: 'x', version: 1, providers: [{ id: 'openai', kind: 'openai', baseUrl: 'not a url' }] }] }));
    const res = await runAsc(['serve', '--port', '0', '--data-dir', join(dir, 'd2'), '--policy', bad], { env });
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr).toContain(bad);
    expect(res.stderr).toContain('profiles[0].providers[0].baseUrl');
  });
});

describe('CLI contract', () => {
  it.each([
    [['serve', '--port', 'abc']],
    [['serve', '--bogus']],
    [['traces', '--limit', '-3']],
    [['nonsense']],
    [['keys', 'set']],
  ])('%j gives a one-line error and a non-zero exit', async (args) => {
    const res = await runAsc(args, { env });
    expect(res.code).not.toBe(0);
    expect(res.stdout).toBe('');
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
  });

  it.each([['serve'], ['key'], ['keys', 'set'], ['keys', 'list'], ['keys', 'delete'], ['traces'], ['spend'], ['audit', 'verify'], ['audit', 'export'], ['audit', 'query']])(
    'asc %s --help prints usage',
    async (...words) => {
      const res = await runAsc([...words, '--help'], { env });
      expect(res.code).toBe(0);
      expect(res.stdout).toContain(`Usage: asc ${words.join(' ')}`);
    },
  );

  it('a port already in use is a one-line error, not a stack trace', async () => {
    const { createServer } = await import('node:net');
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', r));
    const port = (blocker.address() as { port: number }).port;
    try {
      const res = await runAsc(['serve', '--port', String(port), '--data-dir', join(dir, 'd-busy'), '--policy', policyFile], { env });
      expect(res.code).not.toBe(0);
      expect(res.stdout).toBe('');
      expect(res.stderr).toContain(`port ${port} on 127.0.0.1 is already in use`);
    } finally {
      blocker.close();
    }
  });

  it('asc key prints ASC_LOCAL_KEY when set', async () => {
    const res = await runAsc(['key'], { env });
    expect(res.stdout).toBe(`${LOCAL_KEY}\n`);
  });

  it('npm run --silent asc prints only the CLI output on stdout', async () => {
    const { spawn } = await import('node:child_process');
    const out = await new Promise<string>((resolve, reject) => {
      const child = spawn('npm', ['run', '--silent', 'asc', '--', 'key'], { env: { ...process.env, ...env, ASC_FROM_SOURCE: '1' } });
      let s = '';
      child.stdout.on('data', (d: Buffer) => (s += d.toString()));
      child.on('error', reject);
      child.on('close', () => resolve(s));
    });
    expect(out).toBe(`${LOCAL_KEY}\n`);
  });
});
