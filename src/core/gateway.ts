import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import pino from 'pino';
import type { PolicyDocument, Profile } from '../shared/policy-schema.js';
import type { Trace } from '../shared/trace.js';
import { createCredentialStore, type CredentialStore } from './credentials/credential-store.js';
import { createOsKeychain, type Keychain } from './credentials/keychain.js';
import { createLocalKeyVerifier, loadOrCreateLocalKey, type LocalClientKey } from './credentials/local-client-key.js';
import { createTraceBus, type TraceBus } from './events/trace-bus.js';
import { buildGatewayApp } from './http/build-gateway-app.js';
import { compileModelAllowList } from './policy/model-glob.js';
import { parsePricingTable, type PricingTable } from './policy/pricing-table.js';
import { computeCost } from './policy/pricing.js';
import { DEFAULT_POLICY } from './profiles/default-policy.js';
import { loadPolicyFile } from './profiles/policy-file.js';
import { createProfileRegistry, type ProfileRegistry } from './profiles/profile-registry.js';
import type { CompiledProfileRouting } from './proxy/handle-model-request.js';
import { PASS_THROUGH_GUARD, type RequestGuard } from './proxy/request-guard.js';
import { createCircuitBreakers } from './routing/circuit-breaker.js';
import { openGatewayStore, type GatewayStore } from './storage/index.js';
import { createUpstreamClients, type UpstreamClients } from './upstream/upstream-clients.js';

export interface GatewayOptions {
  dataDir: string;
  policyFile?: string;
  host?: string;
  port?: number;
  env?: NodeJS.ProcessEnv;
  /** One-line notices for the operator (stderr in the CLI). */
  log?: (line: string) => void;
  bodyLimitBytes?: number;
  /** Injected for tests; the OS keychain otherwise (null = none reachable). */
  keychain?: Keychain | null;
  upstream?: UpstreamClients;
  /** Overrides `resources/pricing.json`. */
  pricing?: PricingTable;
}

export interface RunningGateway {
  url: string;
  port: number;
  localKey: LocalClientKey;
  bus: TraceBus;
  profiles: ProfileRegistry<CompiledProfileRouting>;
  credentials: CredentialStore;
  store: GatewayStore;
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`), flushes storage. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_PORT = 4141;
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/** Compiles what the hot path needs from a profile once, when it is loaded. */
export function compileProfile(profile: Profile): CompiledProfileRouting {
  return { isModelAllowed: compileModelAllowList(profile.models?.allow) };
}

export async function loadPricingTable(file: URL | string = new URL('../../resources/pricing.json', import.meta.url)): Promise<PricingTable> {
  return parsePricingTable(JSON.parse(await readFile(file, 'utf8')));
}

/**
 * Wires the gateway's real dependencies and starts listening. The Electron shell and `asc serve`
 * both call this; tests call it with injected pieces.
 */
export async function startGateway(opts: GatewayOptions): Promise<RunningGateway> {
  const env = opts.env ?? process.env;
  const log = opts.log ?? ((line: string) => process.stderr.write(`${line}\n`));
  const host = opts.host ?? '127.0.0.1';
  const doc: PolicyDocument = opts.policyFile ? await loadPolicyFile(opts.policyFile) : DEFAULT_POLICY;
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });

  let keychain: Keychain | null;
  if (opts.keychain !== undefined) {
    keychain = opts.keychain;
  } else {
    const os = createOsKeychain();
    const probe = await os.probe();
    keychain = probe.available ? os : null;
    if (!probe.available) {
      log(`ASC: no OS keychain reachable (${probe.reason}); using provider keys from the environment only.`);
    }
  }

  const localKey = await loadOrCreateLocalKey({ env, keychain, dataDir: opts.dataDir });
  if (localKey === null) throw new Error('could not create a local client key');
  const pricing = opts.pricing ?? (await loadPricingTable());
  const credentials = createCredentialStore({ keychain, env });
  const profiles = createProfileRegistry(doc, compileProfile);
  const store = openGatewayStore({ dataDir: opts.dataDir });
  const bus = createTraceBus();
  const upstream = opts.upstream ?? createUpstreamClients();
  const guard: RequestGuard = PASS_THROUGH_GUARD;
  const breakers = createCircuitBreakers((providerId) => {
    const b = profiles.active().profile.routing?.breaker;
    void providerId;
    return { failureThreshold: b?.failures ?? 5, coolDownMs: b?.coolDownMs ?? 30_000 };
  });
  const logger = pino(
    {
      level: env.ASC_LOG_LEVEL ?? 'warn',
      redact: { paths: ['req.headers.authorization', 'req.headers["x-api-key"]', '*.secret', '*.apiKey'], censor: '[redacted]' },
    },
    pino.destination({ fd: 2, sync: false }),
  );

  let port = 0;
  const app = buildGatewayApp({
    profiles,
    credentials,
    upstream,
    breakers,
    guard,
    clientKeyId: localKey.id,
    verifyClientKey: createLocalKeyVerifier(localKey.key),
    getPort: () => port,
    bodyLimitBytes: opts.bodyLimitBytes ?? DEFAULT_BODY_LIMIT_BYTES,
    logger,
    price: (target, usage, profile) => {
      // Trace usage is normalised to OpenAI's meaning (prompt tokens include cached ones).
      return computeCost(target.provider.kind, target.model, usage, pricing, { overrides: profile.prices, usageShape: 'openai' });
    },
    finishTrace: (trace: Trace, extra) => {
      bus.publish(trace);
      store.recordTrace(trace, extra.capturedBody ?? undefined);
    },
    listModels: (profile) => listAllowedModels(profile, pricing),
  });

  await app.listen({ host, port: opts.port ?? DEFAULT_PORT });
  port = (app.server.address() as AddressInfo).port;
  const urlHost = host.includes(':') ? `[${host}]` : host;

  let closing: Promise<void> | null = null;
  return {
    url: `http://${urlHost}:${port}`,
    port,
    localKey,
    bus,
    profiles,
    credentials,
    store,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        const forced = setTimeout(() => app.server.closeAllConnections(), graceMs);
        forced.unref();
        // Keep-alive sockets whose request finishes during shutdown would otherwise hold the
        // server open until their idle timeout.
        const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
        reaper.unref();
        try {
          await app.close();
        } finally {
          clearTimeout(forced);
          clearInterval(reaper);
          await upstream.close();
          store.close();
          logger.flush();
        }
      })();
      return closing;
    },
  };
}

/** Models of the profile's provider kinds that its allow-list admits, plus its aliases. */
export function listAllowedModels(profile: Profile, pricing: PricingTable): { id: string; ownedBy: string }[] {
  const allowed = compileModelAllowList(profile.models?.allow);
  const out = new Map<string, string>();
  for (const entry of pricing.entries) {
    const provider = profile.providers.find((p) => p.kind === entry.provider);
    if (provider && allowed(entry.model)) out.set(entry.model, provider.id);
  }
  for (const pattern of profile.models?.allow ?? []) {
    if (!pattern.includes('*') && !out.has(pattern)) out.set(pattern, 'asc');
  }
  for (const alias of Object.keys(profile.models?.aliases ?? {})) out.set(alias, 'asc');
  return [...out].map(([id, ownedBy]) => ({ id, ownedBy }));
}
