import { resolveDataDir } from '../../core/data-dir.js';
import { DEFAULT_POLICY } from '../../core/profiles/default-policy.js';
import { loadPolicyFile } from '../../core/profiles/policy-file.js';
import { readLocalSettings, updateLocalSettings } from '../../core/settings/local-settings.js';
import { openGatewayStore } from '../../core/storage/index.js';
import type { PolicyDocument } from '../../shared/policy-schema.js';
import { DATA_DIR_OPTION, UsageError, type CliCommand, type CliIo, type ParsedArgs } from '../cli-command.js';

const OPTIONS = { policy: { type: 'string' }, ...DATA_DIR_OPTION } as const;

/** The policy `asc serve` last loaded (recorded in settings), unless `--policy` names another. */
async function loadContext(values: ParsedArgs['values'], io: CliIo): Promise<{ dataDir: string; doc: PolicyDocument; source: string; active: string }> {
  const dataDir = resolveDataDir(values['data-dir'] as string | undefined, io.env);
  const settings = await readLocalSettings(dataDir);
  const file = (values.policy as string | undefined) ?? settings.policyFile;
  const doc = file ? await loadPolicyFile(file) : DEFAULT_POLICY;
  const active = settings.activeProfile && doc.profiles.some((p) => p.tenant === settings.activeProfile) ? settings.activeProfile : doc.active;
  return { dataDir, doc, source: file ?? 'built-in policy', active };
}

export const profilesListCommand: CliCommand = {
  path: ['profiles', 'list'],
  summary: 'list the tenant profiles of the policy and which one is active',
  usage: '[--policy FILE] [--data-dir DIR] [--json]',
  options: { ...OPTIONS, json: { type: 'boolean' } },
  async run({ values }, io) {
    const { doc, active, source } = await loadContext(values, io);
    const rows = doc.profiles.map((p) => ({ tenant: p.tenant, version: p.version, active: p.tenant === active, providers: p.providers.map((x) => x.id) }));
    if (values.json) {
      io.stdout(`${JSON.stringify(rows)}\n`);
      return 0;
    }
    io.stdout(`profiles from ${source}:\n`);
    for (const r of rows) io.stdout(`${r.active ? '*' : ' '} ${r.tenant.padEnd(24)} v${String(r.version).padEnd(6)} ${r.providers.join(', ')}\n`);
    return 0;
  },
};

export const profilesUseCommand: CliCommand = {
  path: ['profiles', 'use'],
  summary: 'make a tenant profile the active one (a running gateway switches on its next request)',
  usage: '<tenant> [--policy FILE] [--data-dir DIR]',
  options: OPTIONS,
  positionals: { min: 1, max: 1 },
  async run({ values, positionals }, io) {
    const tenant = positionals[0]!;
    const { dataDir, doc, active } = await loadContext(values, io);
    const profile = doc.profiles.find((p) => p.tenant === tenant);
    if (!profile) throw new UsageError(`no profile "${tenant}"; known: ${doc.profiles.map((p) => p.tenant).join(', ')}`);
    await updateLocalSettings(dataDir, { activeProfile: tenant });
    if (tenant !== active) {
      const store = openGatewayStore({ dataDir });
      try {
        store.recordAudit({ type: 'profile.switched', at: new Date().toISOString(), tenant, profileVersion: profile.version, detail: { from: active, to: tenant } });
      } finally {
        store.close();
      }
    }
    io.stdout(`active profile: ${tenant} (v${profile.version})\n`);
    return 0;
  },
};
