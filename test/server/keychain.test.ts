import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createOsKeychain } from '../../src/core/credentials/keychain.js';
import { fingerprintSecret } from '../../src/core/credentials/fingerprint.js';
import { LOCAL_KEY_ACCOUNT } from '../../src/core/credentials/local-client-key.js';
import { runAsc } from '../support/cli-process.js';
import { PROVIDER_SECRETS, startTestGateway } from '../support/gateway-harness.js';

/**
 * Against a real Secret Service: `npm test` runs inside dbus-run-session with an unlocked
 * gnome-keyring (scripts/run-tests.sh). In CI the keyring must be there; elsewhere the suite is
 * skipped with a visible reason rather than faked.
 */
const haveKeyring = process.env.ASC_TEST_KEYRING === '1';
if (!haveKeyring && process.env.CI) throw new Error('CI must run the keychain tests: start them through `npm test`');

describe.skipIf(!haveKeyring)('provider keys in the OS keychain (Secret Service)', () => {
  const id = `kt-${randomBytes(4).toString('hex')}`;
  let dir: string;
  let policyFile: string;
  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'asc-kc-'));
    policyFile = join(dir, 'policy.json');
    await writeFile(
      policyFile,
      JSON.stringify({ active: 't', profiles: [{ tenant: 't', version: 1, providers: [{ id, kind: 'mistral', baseUrl: 'https://api.mistral.ai' }] }] }),
    );
  });
  afterAll(async () => {
    await createOsKeychain().delete(id).catch(() => false);
    await rm(dir, { recursive: true, force: true });
  });

  it('sets, lists (fingerprint only) and deletes a key through the CLI', async () => {
    const secret = `msk-${randomBytes(16).toString('hex')}`;
    const set = await runAsc(['keys', 'set', id, '--data-dir', dir], { input: `${secret}\n`, env: { MISTRAL_API_KEY: '' } });
    expect(set.code).toBe(0);
    expect(set.stdout + set.stderr).not.toContain(secret);
    expect(await createOsKeychain().get(id)).toBe(secret);

    const list = await runAsc(['keys', 'list', '--policy', policyFile, '--json'], { env: { MISTRAL_API_KEY: '' } });
    expect(list.code).toBe(0);
    expect(list.stdout).not.toContain(secret);
    expect(JSON.parse(list.stdout)).toContainEqual({ providerId: id, source: 'keychain', fingerprint: fingerprintSecret(secret) });
    expect(fingerprintSecret(secret)).toMatch(/^[0-9a-f]{8}$/);

    const listEnv = await runAsc(['keys', 'list', '--policy', policyFile, '--json'], { env: { MISTRAL_API_KEY: 'env-secret-value' } });
    // The keychain wins over the environment.
    expect(JSON.parse(listEnv.stdout)).toContainEqual({ providerId: id, source: 'keychain', fingerprint: fingerprintSecret(secret) });

    const del = await runAsc(['keys', 'delete', id, '--data-dir', dir]);
    expect(del.code).toBe(0);
    const audit = await runAsc(['audit', 'export', '--format', 'jsonl', '--data-dir', dir]);
    const entries = audit.stdout.trim().split('\n').map((l) => JSON.parse(l) as { type: string; detail: Record<string, unknown> });
    expect(entries.map((e) => e.type)).toEqual(['credential.added', 'credential.removed']);
    expect(entries[0]!.detail).toMatchObject({ providerId: id, credentialFingerprint: fingerprintSecret(secret) });
    expect(audit.stdout).not.toContain(secret);
    expect(await createOsKeychain().get(id)).toBeNull();
    const after = await runAsc(['keys', 'list', '--policy', policyFile, '--json'], { env: { MISTRAL_API_KEY: 'env-secret-value' } });
    expect(JSON.parse(after.stdout)).toContainEqual({ providerId: id, source: 'env', fingerprint: fingerprintSecret('env-secret-value') });
  });

  it('refuses an empty key on stdin', async () => {
    const res = await runAsc(['keys', 'set', id, '--data-dir', dir], { input: '' });
    expect(res.code).not.toBe(0);
    expect(res.stderr).toContain('no key on stdin');
  });

  it('the gateway sends the keychain credential upstream, ahead of the environment', async () => {
    const keychain = createOsKeychain();
    await keychain.set('openai', PROVIDER_SECRETS.openai);
    const t = await startTestGateway({ keychain, env: { OPENAI_API_KEY: 'sk-wrong-env-key' } });
    try {
      const res = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'from keychain' }] });
      expect(res.choices[0]!.message.content).toBe('echo: from keychain');
      const [trace] = await t.nextTraces();
      expect(trace!.credentialFingerprint).toBe(fingerprintSecret(PROVIDER_SECRETS.openai));
    } finally {
      await t.close();
      await keychain.delete('openai');
    }
  });

  it('a missing credential is a 401 naming the provider and how to add the key', async () => {
    const t = await startTestGateway({ keychain: createOsKeychain(), env: { ANTHROPIC_API_KEY: '' } });
    try {
      const res = await fetch(`${t.url}/v1/messages`, {
        method: 'POST',
        headers: { 'x-api-key': (t.anthropic as unknown as { apiKey: string }).apiKey, 'content-type': 'application/json' },
        body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }),
      });
      expect(res.status).toBe(401);
      const body = (await res.json()) as { error: { type: string; message: string } };
      expect(body.error.type).toBe('authentication_error');
      expect(body.error.message).toContain('asc keys set anthropic');
      expect(body.error.message).toContain('ANTHROPIC_API_KEY');
    } finally {
      await t.close();
    }
  });

  it('generates the local client key on first run and keeps it in the keychain', async () => {
    const keychain = createOsKeychain();
    const previous = await keychain.get(LOCAL_KEY_ACCOUNT);
    await keychain.delete(LOCAL_KEY_ACCOUNT).catch(() => false);
    try {
      const first = await runAsc(['key', '--data-dir', dir], { env: { ASC_LOCAL_KEY: '' } });
      const second = await runAsc(['key', '--data-dir', dir], { env: { ASC_LOCAL_KEY: '' } });
      expect(first.code).toBe(0);
      const key = first.stdout.trim();
      expect(key).toMatch(/^asc-[A-Za-z0-9_-]{43,}$/); // 32 random bytes, base64url
      expect(second.stdout.trim()).toBe(key);
      expect(await keychain.get(LOCAL_KEY_ACCOUNT)).toBe(key);
    } finally {
      if (previous !== null) await keychain.set(LOCAL_KEY_ACCOUNT, previous);
    }
  });
});
