import { createCredentialStore } from '../../core/credentials/credential-store.js';
import { fingerprintSecret } from '../../core/credentials/fingerprint.js';
import { createOsKeychain, type Keychain } from '../../core/credentials/keychain.js';
import { loadOrCreateLocalKey } from '../../core/credentials/local-client-key.js';
import { resolveDataDir } from '../../core/data-dir.js';
import { DEFAULT_POLICY } from '../../core/profiles/default-policy.js';
import { loadPolicyFile } from '../../core/profiles/policy-file.js';
import { openGatewayStore } from '../../core/storage/index.js';
import { DATA_DIR_OPTION, UsageError, type CliCommand, type CliIo } from '../cli-command.js';

/** Credential changes are audit events: who could spend as whom, and since when (never the key). */
function auditCredentialChange(dataDir: string | undefined, io: CliIo, type: 'credential.added' | 'credential.removed', detail: Record<string, unknown>): void {
  const store = openGatewayStore({ dataDir: resolveDataDir(dataDir, io.env) });
  try {
    store.recordAudit({ type, at: new Date().toISOString(), tenant: null, profileVersion: null, detail });
  } finally {
    store.close();
  }
}

const PROVIDER_ID = /^[a-z0-9][a-z0-9_-]{0,63}$/;

/** Tests inject a keychain; the CLI uses the OS one. */
export let keychainFactory: () => Keychain = () => createOsKeychain();
export function setKeychainFactory(f: () => Keychain): void {
  keychainFactory = f;
}

async function reachableKeychain(): Promise<Keychain> {
  const k = keychainFactory();
  const probe = await k.probe();
  if (!probe.available) {
    throw new UsageError(`no OS keychain is reachable (${probe.reason}); set the provider key in its environment variable instead`);
  }
  return k;
}

export const keyCommand: CliCommand = {
  path: ['key'],
  summary: 'print the local client key that tools send to the gateway',
  usage: '[--data-dir DIR]',
  options: { ...DATA_DIR_OPTION },
  async run({ values }, io) {
    const k = keychainFactory();
    const probe = await k.probe();
    const key = await loadOrCreateLocalKey({
      env: io.env,
      keychain: probe.available ? k : null,
      dataDir: resolveDataDir(values['data-dir'] as string | undefined, io.env),
    });
    if (key === null) throw new Error('could not create a local client key');
    io.stdout(`${key.key}\n`);
    return 0;
  },
};

export const keysSetCommand: CliCommand = {
  path: ['keys', 'set'],
  summary: "store a provider's API key in the OS keychain (the key is read from stdin)",
  usage: '<providerId> [--data-dir DIR]',
  options: { ...DATA_DIR_OPTION },
  positionals: { min: 1, max: 1 },
  async run({ positionals, values }, io) {
    const providerId = positionals[0]!;
    if (!PROVIDER_ID.test(providerId)) throw new UsageError(`"${providerId}" is not a provider id (lower-case letters, digits, "-", "_")`);
    const secret = (await io.readStdin()).trim();
    if (secret.length === 0) throw new UsageError('no key on stdin: pipe it in, e.g. `printf %s "$KEY" | asc keys set openai`');
    if (/\s/.test(secret)) throw new UsageError('the key on stdin contains whitespace; give exactly one key');
    const store = createCredentialStore({ keychain: await reachableKeychain(), env: {} });
    await store.set(providerId, secret);
    auditCredentialChange(values['data-dir'] as string | undefined, io, 'credential.added', { providerId, credentialFingerprint: fingerprintSecret(secret), source: 'keychain' });
    io.stdout(`stored key for ${providerId} in the OS keychain\n`);
    return 0;
  },
};

export const keysListCommand: CliCommand = {
  path: ['keys', 'list'],
  summary: 'list provider keys: provider id, source (keychain/env) and fingerprint, never the key',
  usage: '[--policy FILE] [--json]',
  options: { policy: { type: 'string' }, json: { type: 'boolean' } },
  async run({ values }, io) {
    const doc = values.policy ? await loadPolicyFile(values.policy as string) : DEFAULT_POLICY;
    const k = keychainFactory();
    const probe = await k.probe();
    const store = createCredentialStore({ keychain: probe.available ? k : null, env: io.env, cacheTtlMs: 0 });
    const seen = new Map<string, (typeof doc.profiles)[number]['providers'][number]>();
    for (const p of doc.profiles) for (const prov of p.providers) if (!seen.has(prov.id)) seen.set(prov.id, prov);
    const rows = await store.list([...seen.values()]);
    // Keys stored for providers the policy does not name are still worth seeing.
    if (probe.available) {
      for (const account of await k.accounts()) {
        if (account.startsWith(':') || seen.has(account)) continue;
        const secret = await k.get(account);
        rows.push({ providerId: account, source: 'keychain', fingerprint: secret === null ? null : fingerprintSecret(secret) });
      }
    }
    if (values.json) {
      io.stdout(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    if (!probe.available) io.stderr(`note: no OS keychain reachable; showing environment keys only\n`);
    io.stdout(`${'PROVIDER'.padEnd(16)} ${'SOURCE'.padEnd(9)} FINGERPRINT\n`);
    for (const r of rows) io.stdout(`${r.providerId.padEnd(16)} ${(r.source ?? 'missing').padEnd(9)} ${r.fingerprint ?? '-'}\n`);
    return 0;
  },
};

export const keysDeleteCommand: CliCommand = {
  path: ['keys', 'delete'],
  summary: "remove a provider's API key from the OS keychain",
  usage: '<providerId> [--data-dir DIR]',
  options: { ...DATA_DIR_OPTION },
  positionals: { min: 1, max: 1 },
  async run({ positionals, values }, io) {
    const providerId = positionals[0]!;
    if (!PROVIDER_ID.test(providerId)) throw new UsageError(`"${providerId}" is not a provider id`);
    const store = createCredentialStore({ keychain: await reachableKeychain(), env: {} });
    const removed = await store.delete(providerId);
    if (!removed) {
      io.stderr(`no key for ${providerId} in the OS keychain\n`);
      return 1;
    }
    auditCredentialChange(values['data-dir'] as string | undefined, io, 'credential.removed', { providerId, source: 'keychain' });
    io.stdout(`deleted key for ${providerId}\n`);
    return 0;
  },
};
