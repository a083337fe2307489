import type { ProviderConfig, ProviderKind } from '../../shared/policy-schema.js';
import { fingerprintSecret } from './fingerprint.js';
import type { Keychain } from './keychain.js';

export type CredentialSource = 'keychain' | 'env';

export interface ProviderCredential {
  secret: string;
  source: CredentialSource;
  fingerprint: string;
}

export interface CredentialListing {
  providerId: string;
  source: CredentialSource | null;
  fingerprint: string | null;
}

/** Environment variable read for a provider kind when the keychain holds no key for the provider. */
export const ENV_VAR_BY_KIND: Record<ProviderKind, string> = {
  openai: 'OPENAI_API_KEY',
  anthropic: 'ANTHROPIC_API_KEY',
  mistral: 'MISTRAL_API_KEY',
};

export interface CredentialStore {
  /** The provider's credential: keychain (account = provider id) first, then the kind's env var. */
  get(provider: ProviderConfig): Promise<ProviderCredential | null>;
  set(providerId: string, secret: string): Promise<void>;
  delete(providerId: string): Promise<boolean>;
  list(providers: readonly ProviderConfig[]): Promise<CredentialListing[]>;
  readonly keychainAvailable: boolean;
}

export interface CredentialStoreOptions {
  keychain: Keychain | null;
  /** Provider keys from `ENV_VAR_BY_KIND`, read once when the store is created. */
  env: NodeJS.ProcessEnv;
  /** How long a keychain answer is reused; keeps keychain IPC off the request path. */
  cacheTtlMs?: number;
  now?: () => number;
}

/**
 * Credentials with an honest source: the OS keychain when one answers, the environment otherwise.
 * Answers are cached briefly so the hot path does no keychain round trip per request, while a key
 * added with `asc keys set` in another process is picked up within the TTL.
 */
export function createCredentialStore(opts: CredentialStoreOptions): CredentialStore {
  const { keychain, env } = opts;
  const ttl = opts.cacheTtlMs ?? 30_000;
  const now = opts.now ?? Date.now;
  const cache = new Map<string, { value: string | null; at: number; pending?: Promise<string | null> }>();

  async function keychainSecret(providerId: string): Promise<string | null> {
    if (keychain === null) return null;
    const hit = cache.get(providerId);
    if (hit && now() - hit.at < ttl) return hit.value;
    if (hit?.pending) return hit.pending;
    const pending = keychain.get(providerId).catch(() => null);
    cache.set(providerId, { value: hit?.value ?? null, at: hit?.at ?? 0, pending });
    const value = await pending;
    cache.set(providerId, { value, at: now() });
    return value;
  }

  // Read once: a process's environment does not change under it, and `process.env` lookups cost
  // a native call each on the request path.
  const envSecrets = new Map<ProviderKind, string>();
  for (const kind of Object.keys(ENV_VAR_BY_KIND) as ProviderKind[]) {
    const v = env[ENV_VAR_BY_KIND[kind]];
    if (v && v.length > 0) envSecrets.set(kind, v);
  }
  const fromEnv = (kind: ProviderKind): string | null => envSecrets.get(kind) ?? null;

  // One credential object per distinct secret, so the fingerprint is hashed once, not per request.
  const described: Record<CredentialSource, Map<string, ProviderCredential>> = { keychain: new Map(), env: new Map() };
  function describe(secret: string, source: CredentialSource): ProviderCredential {
    const seen = described[source];
    let c = seen.get(secret);
    if (c === undefined) {
      c = Object.freeze({ secret, source, fingerprint: fingerprintSecret(secret) });
      if (seen.size >= 64) seen.clear();
      seen.set(secret, c);
    }
    return c;
  }

  async function get(provider: ProviderConfig): Promise<ProviderCredential | null> {
    const k = await keychainSecret(provider.id);
    if (k !== null) return describe(k, 'keychain');
    const e = fromEnv(provider.kind);
    if (e !== null) return describe(e, 'env');
    return null;
  }

  return {
    keychainAvailable: keychain !== null,
    get,
    async set(providerId, secret) {
      if (keychain === null) throw new Error('no OS keychain is reachable: set the provider key in the environment instead');
      await keychain.set(providerId, secret);
      cache.delete(providerId);
    },
    async delete(providerId) {
      if (keychain === null) throw new Error('no OS keychain is reachable');
      cache.delete(providerId);
      return keychain.delete(providerId);
    },
    async list(providers) {
      return Promise.all(
        providers.map(async (p) => {
          const c = await get(p);
          return { providerId: p.id, source: c?.source ?? null, fingerprint: c?.fingerprint ?? null };
        }),
      );
    },
  };
}

/** The message for a provider without a credential: says how to add one. */
export function missingCredentialMessage(provider: ProviderConfig): string {
  return `No API key for provider "${provider.id}": run \`asc keys set ${provider.id}\` (reads the key from stdin) or set ${ENV_VAR_BY_KIND[provider.kind]}.`;
}
