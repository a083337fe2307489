import { randomBytes, timingSafeEqual } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fingerprintSecret } from './fingerprint.js';
import type { Keychain } from './keychain.js';

/** Keychain account of the local client key; `:` keeps it apart from provider ids. */
export const LOCAL_KEY_ACCOUNT = ':local-client-key';
const LOCAL_KEY_FILE = 'local-client-key';

export interface LocalClientKey {
  key: string;
  /** Recorded on traces as the client key id. */
  id: string;
  source: 'env' | 'keychain' | 'file';
}

export function generateLocalKey(): string {
  return `asc-${randomBytes(32).toString('base64url')}`;
}

/**
 * The key local tools present to the gateway. `ASC_LOCAL_KEY` wins (CI, headless servers); else
 * the keychain, generating one on first run. Without a reachable keychain the key lives in a
 * 0600 file in the data dir: it only unlocks the loopback port, never a provider.
 */
export async function loadOrCreateLocalKey(opts: { env: NodeJS.ProcessEnv; keychain: Keychain | null; dataDir: string; create?: boolean }): Promise<LocalClientKey | null> {
  const fromEnv = opts.env.ASC_LOCAL_KEY;
  if (fromEnv && fromEnv.length > 0) return describe(fromEnv, 'env');
  const create = opts.create ?? true;
  if (opts.keychain !== null) {
    const existing = await opts.keychain.get(LOCAL_KEY_ACCOUNT);
    if (existing) return describe(existing, 'keychain');
    if (!create) return null;
    const key = generateLocalKey();
    await opts.keychain.set(LOCAL_KEY_ACCOUNT, key);
    return describe(key, 'keychain');
  }
  const file = join(opts.dataDir, LOCAL_KEY_FILE);
  try {
    const existing = (await readFile(file, 'utf8')).trim();
    if (existing) return describe(existing, 'file');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'ENOENT') throw e;
  }
  if (!create) return null;
  const key = generateLocalKey();
  await mkdir(opts.dataDir, { recursive: true, mode: 0o700 });
  await writeFile(file, key + '\n', { mode: 0o600, flag: 'wx' }).catch(async (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  const stored = (await readFile(file, 'utf8')).trim();
  return describe(stored, 'file');
}

function describe(key: string, source: LocalClientKey['source']): LocalClientKey {
  return { key, id: fingerprintSecret(key), source };
}

/**
 * Constant-time comparison of a presented key. The key's length is public (`asc-` + 43 chars),
 * so comparing lengths first leaks nothing and spares a hash per request.
 */
export function createLocalKeyVerifier(expected: string): (presented: string | undefined) => boolean {
  const want = Buffer.from(expected, 'utf8');
  return (presented) => {
    if (presented === undefined || presented.length !== expected.length) return false;
    const got = Buffer.from(presented, 'utf8');
    return got.length === want.length && timingSafeEqual(got, want);
  };
}
