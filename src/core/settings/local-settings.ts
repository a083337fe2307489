import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { z } from 'zod';

/**
 * The developer's own choices, kept beside the database: which profile is active and which policy
 * file `asc serve` last loaded (so `asc profiles …` can work without repeating it). A running
 * gateway watches this file, so `asc profiles use` takes effect on its next request.
 */
export const localSettingsSchema = z.object({
  activeProfile: z.string().min(1).optional(),
  policyFile: z.string().min(1).optional(),
});
export type LocalSettings = z.infer<typeof localSettingsSchema>;

export const SETTINGS_FILE = 'settings.json';

export function settingsPath(dataDir: string): string {
  return join(dataDir, SETTINGS_FILE);
}

export async function readLocalSettings(dataDir: string): Promise<LocalSettings> {
  let text: string;
  try {
    text = await readFile(settingsPath(dataDir), 'utf8');
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'ENOENT') return {};
    throw e;
  }
  const parsed = localSettingsSchema.safeParse(safeJson(text));
  if (!parsed.success) throw new Error(`${settingsPath(dataDir)} is not valid ASC settings: ${parsed.error.issues[0]?.message ?? 'invalid'}`);
  return parsed.data;
}

/** Merges and writes atomically (write + rename), so a watcher never reads half a file. */
export async function updateLocalSettings(dataDir: string, patch: Partial<LocalSettings>): Promise<LocalSettings> {
  await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const next = { ...(await readLocalSettings(dataDir)), ...patch };
  const tmp = `${settingsPath(dataDir)}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(next, null, 2)}\n`, { mode: 0o600 });
  await rename(tmp, settingsPath(dataDir));
  return next;
}

function safeJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}
