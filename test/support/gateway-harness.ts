import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Anthropic from '@anthropic-ai/sdk';
import { afterAll, beforeAll, beforeEach } from 'vitest';
import { Mistral } from '@mistralai/mistralai';
import OpenAI from 'openai';
import type { Keychain } from '../../src/core/credentials/keychain.js';
import { startGateway, type RunningGateway } from '../../src/core/gateway.js';
import type { Trace } from '../../src/shared/trace.js';
import { startWireUpstream, type WireUpstream } from './wire-upstream.js';

/** Provider secrets the test upstream demands; they must never show up client-side or on disk. */
export const PROVIDER_SECRETS = {
  openai: 'sk-proj-TESTopenaiSECRET0123456789abcdefABCDEF',
  anthropic: 'sk-ant-api03-TESTanthropicSECRET0123456789abcdef',
  mistral: 'TESTmistralSECRET0123456789abcdef',
} as const;

export const LOCAL_KEY = 'asc-test-local-key-0123456789abcdefghijklmnopqrstuv';

export interface ProfileOverrides {
  [key: string]: unknown;
}

export interface TestGateway {
  gateway: RunningGateway;
  upstream: WireUpstream;
  dataDir: string;
  url: string;
  openai: OpenAI;
  anthropic: Anthropic;
  mistral: Mistral;
  /** Resolves with the next `n` traces published on the bus. */
  nextTraces(n?: number): Promise<Trace[]>;
  /** Forgets traces nobody waited for (call between tests). */
  drainTraces(): void;
  close(): Promise<void>;
}

/** A policy document whose providers point at the wire-format test upstream. */
export function testPolicy(upstream: WireUpstream, profile: ProfileOverrides = {}, extraProfiles: ProfileOverrides[] = []): Record<string, unknown> {
  return {
    active: (profile.tenant as string | undefined) ?? 'test',
    profiles: [
      {
        tenant: 'test',
        version: 1,
        providers: [
          { id: 'openai', kind: 'openai', baseUrl: upstream.baseUrls.openai, region: 'us' },
          { id: 'anthropic', kind: 'anthropic', baseUrl: upstream.baseUrls.anthropic, region: 'us' },
          { id: 'mistral', kind: 'mistral', baseUrl: upstream.baseUrls.mistral, region: 'eu' },
        ],
        ...profile,
      },
      ...extraProfiles,
    ],
  };
}

export interface StartOptions {
  profile?: ProfileOverrides;
  extraProfiles?: ProfileOverrides[];
  policy?: (upstream: WireUpstream) => Record<string, unknown>;
  keychain?: Keychain | null;
  env?: NodeJS.ProcessEnv;
  bodyLimitBytes?: number;
  /** An existing data dir (kept on close); a fresh temporary one otherwise. */
  dataDir?: string;
}

/** Starts the test upstream and a gateway in this process, with SDK clients pointed at the gateway. */
export async function startTestGateway(opts: StartOptions = {}): Promise<TestGateway> {
  const upstream = await startWireUpstream({ requireAuth: PROVIDER_SECRETS });
  const dataDir = opts.dataDir ?? (await mkdtemp(join(tmpdir(), 'asc-test-')));
  const policyFile = join(dataDir, 'policy.json');
  const policy = opts.policy ? opts.policy(upstream) : testPolicy(upstream, opts.profile, opts.extraProfiles);
  await writeFile(policyFile, JSON.stringify(policy));
  const env: NodeJS.ProcessEnv = {
    ASC_LOCAL_KEY: LOCAL_KEY,
    OPENAI_API_KEY: PROVIDER_SECRETS.openai,
    ANTHROPIC_API_KEY: PROVIDER_SECRETS.anthropic,
    MISTRAL_API_KEY: PROVIDER_SECRETS.mistral,
    ...opts.env,
  };
  const gateway = await startGateway({
    dataDir,
    policyFile,
    port: 0,
    env,
    keychain: opts.keychain === undefined ? null : opts.keychain,
    log: () => {},
    bodyLimitBytes: opts.bodyLimitBytes,
  });
  const queue: Trace[] = [];
  const waiters: Array<{ n: number; resolve: (t: Trace[]) => void }> = [];
  gateway.bus.subscribe((t) => {
    queue.push(t);
    const w = waiters[0];
    if (w && queue.length >= w.n) {
      waiters.shift();
      w.resolve(queue.splice(0, w.n));
    }
  });
  return {
    gateway,
    upstream,
    dataDir,
    url: gateway.url,
    openai: new OpenAI({ apiKey: LOCAL_KEY, baseURL: `${gateway.url}/v1`, maxRetries: 0 }),
    anthropic: new Anthropic({ apiKey: LOCAL_KEY, baseURL: gateway.url, maxRetries: 0 }),
    mistral: new Mistral({ apiKey: LOCAL_KEY, serverURL: gateway.url }),
    nextTraces(n = 1) {
      if (queue.length >= n) return Promise.resolve(queue.splice(0, n));
      return new Promise((resolve, reject) => {
        waiters.push({ n, resolve });
        setTimeout(() => reject(new Error(`timed out waiting for ${n} trace(s)`)), 10_000).unref();
      });
    },
    drainTraces() {
      queue.length = 0;
    },
    async close() {
      await gateway.close(2_000);
      await upstream.close();
      if (opts.dataDir === undefined) await rm(dataDir, { recursive: true, force: true });
    },
  };
}

/** Raw HTTP to the gateway with the local key, for what SDKs hide (headers, exact bytes). */
export async function rawPost(url: string, path: string, body: unknown, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(`${url}${path}`, {
    method: 'POST',
    headers: { authorization: `Bearer ${LOCAL_KEY}`, 'content-type': 'application/json', ...headers },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/**
 * One gateway for the surrounding test file or suite: started before its tests, closed after,
 * with the upstream's records and unclaimed traces cleared before each test.
 */
export function useTestGateway(assign: (t: TestGateway) => void, opts: StartOptions = {}): void {
  let t: TestGateway | undefined;
  beforeAll(async () => {
    t = await startTestGateway(opts);
    assign(t);
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => {
    t?.upstream.reset();
    t?.drainTraces();
  });
}
