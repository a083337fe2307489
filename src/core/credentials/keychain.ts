import { existsSync } from 'node:fs';
import { join } from 'node:path';

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

type KeyringModule = typeof import('@napi-rs/keyring');

export interface OsKeychainOptions {
  /** Default `process.env`: where the D-Bus library looks for the session bus. */
  env?: NodeJS.ProcessEnv;
  platform?: NodeJS.Platform;
  /** Loads `@napi-rs/keyring`; injectable so tests can see whether it was loaded. */
  loadKeyring?: () => Promise<KeyringModule>;
}

let keyringModule: Promise<KeyringModule> | null = null;
/**
 * Loaded on first use, not at import: the native module starts its own threads on load (about
 * 3–5 MB of resident memory in the gateway), which a machine with no keychain to talk to never needs.
 */
const loadKeyringModule = (): Promise<KeyringModule> => (keyringModule ??= import('@napi-rs/keyring'));

/**
 * Why no Secret Service can answer on this machine, decided without loading the native module; null
 * when one may. The D-Bus library the keyring uses finds the session bus from
 * `DBUS_SESSION_BUS_ADDRESS`, else the per-user socket `$XDG_RUNTIME_DIR/bus`, else by X11
 * autolaunch (`DISPLAY`); with none of them it cannot connect, so asking is pointless. Other
 * platforms always have their keychain.
 */
export function missingSessionBus(env: NodeJS.ProcessEnv, platform: NodeJS.Platform, exists: (path: string) => boolean = existsSync): string | null {
  if (platform !== 'linux') return null;
  if (env.DBUS_SESSION_BUS_ADDRESS) return null;
  if (env.XDG_RUNTIME_DIR && exists(join(env.XDG_RUNTIME_DIR, 'bus'))) return null;
  if (env.DISPLAY) return null;
  return 'no D-Bus session bus for the Secret Service: DBUS_SESSION_BUS_ADDRESS is unset and there is no $XDG_RUNTIME_DIR/bus';
}

/**
 * `@napi-rs/keyring` entries under service `asc`. On Linux the entry is pinned to the Secret
 * Service: the default fallback to the kernel keyring would silently keep keys only until logout.
 */
export function createOsKeychain(service: string = KEYCHAIN_SERVICE, opts: OsKeychainOptions = {}): Keychain {
  const platform = opts.platform ?? process.platform;
  const load = opts.loadKeyring ?? loadKeyringModule;
  const entry = async (account: string) => {
    const { AsyncEntry } = await load();
    return platform === 'linux' ? new AsyncEntry(service, account, { linux: { store: 'secret-service' } }) : new AsyncEntry(service, account);
  };
  return {
    // Without a session bus the entry constructor itself throws: every method is async.
    get: async (account) => (await entry(account)).getPassword(),
    set: async (account, secret) => (await entry(account)).setPassword(secret),
    delete: async (account) => (await entry(account)).deletePassword(),
    accounts: async () => (await (await load()).findCredentialsAsync(service)).map((c) => c.account),
    async probe() {
      const missing = missingSessionBus(opts.env ?? process.env, platform);
      if (missing !== null) return { available: false, reason: missing };
      try {
        await (await entry(':probe')).getPassword();
        return { available: true };
      } catch (e) {
        return { available: false, reason: (e as Error).message };
      }
    },
  };
}
