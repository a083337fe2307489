import { execFileSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/**
 * Builds the CLI once per test run so process tests start it in a fraction of a second instead of
 * compiling the sources through tsx at every spawn. Same sources, bundled by the same script as
 * `npm run build`.
 */
export default function setup(): void {
  const root = fileURLToPath(new URL('..', import.meta.url));
  const outfile = 'out/test-cli/asc.mjs';
  execFileSync(process.execPath, ['scripts/build-cli.mjs', '--outfile', outfile], { cwd: root, stdio: ['ignore', 'ignore', 'inherit'] });
  process.env.ASC_TEST_CLI = `${root}${outfile}`;
}
