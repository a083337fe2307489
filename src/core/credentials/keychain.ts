import { AsyncEntry, findCredentialsAsync } from '@napi-rs/keyring';

/** The OS keychain, behind the smallest interface the gateway needs (and tests can fake). */
export interface Keychain {
  get(account: string): Promise<string | null>;
  set(account: string, secret: string): Promise<void>;
  delete(account: string): Promise<boolean>;
  /** Accounts stored under the service (never their secrets). */
  accounts(): Promise<string[]>;
  /** Whether a keychain answered; false on Linux without a reachable Secret Service. */
  probe(): Promise<{ available: true } | { available: false; reason: string }>;
}

export const KEYCHAIN_SERVICE = 'asc';

/**
 * `@napi-rs/keyring` entries under service `asc`. On Linux the entry is pinned to the Secret
 * Service: the default fallback to the kernel keyring would silently keep keys only until logout.
 */
export function createOsKeychain(service: string = KEYCHAIN_SERVICE): Keychain {
  const entry = (account: string): AsyncEntry =>
    process.platform === 'linux' ? new AsyncEntry(service, account, { linux: { store: 'secret-service' } }) : new AsyncEntry(service, account);
  return {
    // async: without a session bus the entry constructor itself throws.
    get: async (account) => entry(account).getPassword(),
    set: async (account, secret) => entry(account).setPassword(secret),
    delete: async (account) => entry(account).deletePassword(),
    accounts: async () => (await findCredentialsAsync(service)).map((c) => c.account),
    async probe() {
      try {
        await entry(':probe').getPassword();
        return { available: true };
      } catch (e) {
        return { available: false, reason: (e as Error).message };
      }
    },
  };
}
