import { execFile } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));
const run = promisify(execFile);

/**
 * bin/asc.mjs in a scratch checkout: its bundle and its sources each print who they are, so the
 * test sees which one the launcher chose. The repository's node_modules provide tsx.
 */
function scratchCheckout(): { dir: string; bundle: string; source: string } {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'asc-bin-'));
  mkdirSync(path.join(dir, 'bin'));
  copyFileSync(path.join(root, 'bin/asc.mjs'), path.join(dir, 'bin/asc.mjs'));
  copyFileSync(path.join(root, 'tsconfig.cli.json'), path.join(dir, 'tsconfig.cli.json'));
  copyFileSync(path.join(root, 'tsconfig.base.json'), path.join(dir, 'tsconfig.base.json'));
  writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ type: 'module', private: true }));
  symlinkSync(path.join(root, 'node_modules'), path.join(dir, 'node_modules'));
  for (const sub of ['src/cli', 'src/core/proxy', 'src/shared', 'out/cli']) mkdirSync(path.join(dir, sub), { recursive: true });
  writeFileSync(path.join(dir, 'src/core/proxy/x.ts'), 'export const x = 1;\n');
  writeFileSync(path.join(dir, 'src/shared/y.ts'), 'export const y = 1;\n');
  const source = path.join(dir, 'src/cli/main.ts');
  writeFileSync(source, "const from: string = 'sources';\nconsole.log(from);\n");
  const bundle = path.join(dir, 'out/cli/asc.mjs');
  writeFileSync(bundle, "console.log('bundle');\n");
  return { dir, bundle, source };
}

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function launch(dir: string): Promise<string> {
  const env = { ...process.env };
  delete env.ASC_FROM_SOURCE;
  const { stdout } = await run(process.execPath, [path.join(dir, 'bin/asc.mjs')], { env });
  return stdout.trim();
}

describe('the asc launcher', () => {
  it('runs the bundle when it is newer than every source it is built from', async () => {
    const c = scratchCheckout();
    dirs.push(c.dir);
    const now = Date.now() / 1000;
    utimesSync(c.bundle, now, now);
    for (const f of [c.source, path.join(c.dir, 'src/core/proxy/x.ts'), path.join(c.dir, 'src/shared/y.ts')]) utimesSync(f, now - 60, now - 60);
    expect(await launch(c.dir)).toBe('bundle');
  });

  it('runs the sources when one changed after the bundle was built, however deep', async () => {
    const c = scratchCheckout();
    dirs.push(c.dir);
    const now = Date.now() / 1000;
    utimesSync(c.bundle, now - 60, now - 60);
    for (const f of [c.source, path.join(c.dir, 'src/shared/y.ts')]) utimesSync(f, now - 120, now - 120);
    utimesSync(path.join(c.dir, 'src/core/proxy/x.ts'), now, now);
    expect(await launch(c.dir)).toBe('sources');
  });

  it('runs the sources when there is no bundle', async () => {
    const c = scratchCheckout();
    dirs.push(c.dir);
    rmSync(c.bundle);
    expect(await launch(c.dir)).toBe('sources');
  });
});
