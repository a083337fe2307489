import { watch, type FSWatcher } from 'node:fs';
import { mkdir, readFile } from 'node:fs/promises';
import type { AddressInfo } from 'node:net';
import { basename, dirname, resolve as resolvePath } from 'node:path';
import type { PolicyDocument, Profile } from '../shared/policy-schema.js';
import type { Trace } from '../shared/trace.js';
import { createCredentialStore, type CredentialStore } from './credentials/credential-store.js';
import { createOsKeychain, type Keychain } from './credentials/keychain.js';
import { createLocalKeyVerifier, loadOrCreateLocalKey, type LocalClientKey } from './credentials/local-client-key.js';
import { createTraceBus, type TraceBus } from './events/trace-bus.js';
import { buildGatewayApp } from './http/build-gateway-app.js';
import { createLazyErrorLogger } from './http/error-logger.js';
import { compileProfilePolicy, computeCost, parsePricingTable, windowKeyFor, type CompiledProfilePolicy, type PricingTable } from './policy/index.js';
import { DEFAULT_POLICY } from './profiles/default-policy.js';
import { loadPolicyFile, PolicyFileError } from './profiles/policy-file.js';
import { createProfileRegistry, type ProfileRegistry } from './profiles/profile-registry.js';
import { budgetWindowStartMs, createPolicyGuard, type PolicyGuard } from './proxy/policy-guard.js';
import { createCircuitBreakers, tenantOfBreakerKey } from './routing/circuit-breaker.js';
import { readLocalSettings, SETTINGS_FILE, updateLocalSettings, type LocalSettings } from './settings/local-settings.js';
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
  profiles: ProfileRegistry<CompiledProfilePolicy>;
  credentials: CredentialStore;
  store: GatewayStore;
  guard: PolicyGuard;
  /** Stops accepting, lets in-flight requests finish (at most `graceMs`), flushes storage. */
  close(graceMs?: number): Promise<void>;
}

export const DEFAULT_PORT = 4141;
export const DEFAULT_BODY_LIMIT_BYTES = 32 * 1024 * 1024;

/** Compiles what the hot path needs from a profile once, when it is loaded; fails closed. */
export function compileProfile(profile: Profile): CompiledProfilePolicy {
  try {
    return compileProfilePolicy(profile);
  } catch (e) {
    throw new Error(`profile "${profile.tenant}": ${(e as Error).message}`);
  }
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
  const policySource = opts.policyFile ?? 'the built-in policy';
  let profiles: ProfileRegistry<CompiledProfilePolicy>;
  try {
    profiles = createProfileRegistry(doc, compileProfile);
  } catch (e) {
    throw new PolicyFileError(`policy file ${policySource}: ${(e as Error).message}`);
  }
  const settings: LocalSettings = await readLocalSettings(opts.dataDir).catch((e: Error) => {
    log(`ASC: ignoring local settings: ${e.message}`);
    return {};
  });
  /** `asc profiles use` writes the choice to the settings file; a tenant the policy lacks is refused. */
  const applyActiveChoice = (tenant: string | undefined, refused: (tenant: string) => string): void => {
    if (!tenant || tenant === profiles.active().profile.tenant) return;
    if (profiles.list().some((p) => p.tenant === tenant)) profiles.setActive(tenant);
    else log(refused(tenant));
  };
  applyActiveChoice(settings.activeProfile, (t) => `ASC: the active profile chosen earlier ("${t}") is not in ${policySource}; using "${doc.active}".`);
  await updateLocalSettings(opts.dataDir, { policyFile: opts.policyFile ? resolvePath(opts.policyFile) : undefined });

  const store = openGatewayStore({ dataDir: opts.dataDir, onError: (e) => log(`ASC: storage: ${e.message}`) });
  const bus = createTraceBus((e) => log(`ASC: trace listener failed: ${(e as Error).message}`));
  // Pools are shared by every profile that names the same origin (and connect timeout); each
  // request passes its own profile's timeouts.
  const upstream = opts.upstream ?? createUpstreamClients();
  const guard = createPolicyGuard({ pricing });
  const seededWindows = new Set<string>();
  const nowIso = (): string => new Date().toISOString();

  /** Budgets count spend already recorded this window, so a restart does not reset them. */
  function seedBudgets(): void {
    const now = Date.now();
    for (const { tenant } of profiles.list()) {
      for (const budget of profiles.resolve(tenant).profile.budgets ?? []) {
        const windowKey = windowKeyFor(budget, now);
        const key = `${tenant}\u0000${windowKey}`;
        if (seededWindows.has(key)) continue;
        seededWindows.add(key);
        const spent = store.spendSince(tenant, new Date(budgetWindowStartMs(budget, now)).toISOString());
        guard.budgets.seed(tenant, windowKey, spent);
      }
    }
  }
  function auditProfiles(type: 'profile.loaded' | 'profile.changed', changed?: Set<string>): void {
    for (const p of profiles.list()) {
      if (changed && !changed.has(p.tenant)) continue;
      store.recordAudit({ type, at: nowIso(), tenant: p.tenant, profileVersion: p.version, detail: { source: policySource, active: p.active } });
    }
  }
  seedBudgets();
  auditProfiles('profile.loaded');

  const credentialsSeen = new Set(store.credentialFingerprintsSeen());
  // The thresholds of the profile the breaker belongs to, as loaded now (a reload applies at once).
  const breakers = createCircuitBreakers((key) => {
    let owner: ReturnType<typeof profiles.active>;
    try {
      owner = profiles.resolve(tenantOfBreakerKey(key));
    } catch {
      owner = profiles.active(); // a tenant the last reload removed: its requests are over
    }
    const b = owner.profile.routing?.breaker;
    return { failureThreshold: b?.failures ?? 5, coolDownMs: b?.coolDownMs ?? 30_000 };
  });
  const logger = createLazyErrorLogger(env.ASC_LOG_LEVEL ?? 'warn');

  let port = 0;
  const app = buildGatewayApp({
    profiles,
    credentials,
    upstream,
    breakers,
    guard,
    clientKeyId: localKey.id,
    onCredentialUsed: (providerId, fingerprint, profile) => {
      if (credentialsSeen.has(fingerprint)) return;
      credentialsSeen.add(fingerprint);
      store.recordAudit({ type: 'credential.first_used', at: nowIso(), tenant: profile.tenant, profileVersion: profile.version, detail: { providerId, credentialFingerprint: fingerprint } });
    },
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

  try {
    await app.listen({ host, port: opts.port ?? DEFAULT_PORT });
  } catch (e) {
    // Port taken or host unavailable: release what was opened before reporting it.
    await upstream.close();
    store.close();
    throw e;
  }
  const watchers = watchLocalChanges();
  const pruneTimer = setInterval(pruneExpired, 6 * 60 * 60 * 1000);
  pruneTimer.unref();
  pruneExpired();

  /** `logging.retentionDays` of the active profile, enforced on a schedule; the audit chain keeps a checkpoint. */
  function pruneExpired(): void {
    const days = profiles.active().profile.logging?.retentionDays;
    if (days === undefined) return;
    try {
      store.pruneOlderThan(new Date(Date.now() - days * 86_400_000).toISOString());
    } catch (e) {
      log(`ASC: retention pruning failed: ${(e as Error).message}`);
    }
  }

  /**
   * `asc profiles use` and edits of the policy file take effect on the next request: the new
   * state is swapped in whole. A policy that no longer parses is refused and the last good one
   * stays (fail closed).
   */
  function watchLocalChanges(): FSWatcher[] {
    const out: FSWatcher[] = [];
    const debounce = (fn: () => void): (() => void) => {
      let t: NodeJS.Timeout | undefined;
      return () => {
        clearTimeout(t);
        t = setTimeout(fn, 30);
      };
    };
    const onSettings = debounce(() => {
      readLocalSettings(opts.dataDir).then(
        (next) => applyActiveChoice(next.activeProfile, (t) => `ASC: cannot switch to unknown profile "${t}"`),
        (e: Error) => log(`ASC: ignoring local settings: ${e.message}`),
      );
    });
    out.push(watch(opts.dataDir, (_event, name) => name === SETTINGS_FILE && onSettings()));
    if (opts.policyFile) {
      const file = resolvePath(opts.policyFile);
      const onPolicy = debounce(() => {
        loadPolicyFile(file).then(
          (next) => {
            const before = new Map(profiles.list().map((p) => [p.tenant, p.version]));
            try {
              profiles.load(next);
            } catch (e) {
              log(`ASC: policy file ${file} changed but cannot be enforced (${(e as Error).message}); keeping the previous profiles`);
              return;
            }
            const changed = new Set(profiles.list().filter((p) => before.get(p.tenant) !== p.version).map((p) => p.tenant));
            if (changed.size > 0) {
              seedBudgets();
              auditProfiles('profile.changed', changed);
            }
          },
          (e: Error) => log(`ASC: ${e.message}; keeping the previous profiles`),
        );
      });
      out.push(watch(dirname(file), (_event, name) => name === basename(file) && onPolicy()));
    }
    for (const w of out) w.unref();
    return out;
  }

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
    guard,
    close(graceMs = 10_000) {
      closing ??= (async () => {
        const forced = setTimeout(() => app.server.closeAllConnections(), graceMs);
        forced.unref();
        // Keep-alive sockets whose request finishes during shutdown would otherwise hold the
        // server open until their idle timeout.
        const reaper = setInterval(() => app.server.closeIdleConnections(), 50);
        reaper.unref();
        for (const w of watchers) w.close();
        clearInterval(pruneTimer);
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
  const allowed = compileProfilePolicy(profile).isModelAllowed;
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
