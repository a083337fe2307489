import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where ASC keeps its SQLite database and settings: `--data-dir`, else `ASC_DATA_DIR`, else the
 * OS's per-user application-data folder. The desktop shell uses the same folder so the CLI and
 * the app see one timeline.
 */
export function resolveDataDir(flag: string | undefined, env: NodeJS.ProcessEnv, platform: NodeJS.Platform = process.platform): string {
  if (flag) return flag;
  if (env.ASC_DATA_DIR) return env.ASC_DATA_DIR;
  const home = env.HOME ?? homedir();
  switch (platform) {
    case 'darwin':
      return join(home, 'Library', 'Application Support', 'ASC');
    case 'win32':
      return join(env.APPDATA ?? join(home, 'AppData', 'Roaming'), 'ASC');
    default:
      return join(env.XDG_DATA_HOME || join(home, '.local', 'share'), 'asc');
  }
}
