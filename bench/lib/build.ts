/**
 * Children run as plain `node file.mjs`, not through tsx: the tsx loader adds ~30 MB RSS and a loader
 * thread, which would distort the memory numbers (idle RSS target ≤ 80 MB). esbuild (a dev dependency)
 * compiles the stub and the floor into bench/.build/; on failure the caller falls back to tsx.
 *
 * ASC itself is built by scripts/build-cli.mjs, the build `npm start` runs, so the benchmark
 * measures the very bundle users run. bench/.build/asc.mjs sits at the same depth as
 * out/cli/asc.mjs so `new URL('../../resources/…', import.meta.url)` inside the gateway resolves to
 * the repository's resources/ just the same.
 */
import { execFileSync } from 'node:child_process';
import path from 'node:path';

/** `entry` compiled alone (no bundling: the stub and the floor import only Node and undici). */
export async function compile(root: string, entry: string, outfile: string): Promise<string | undefined> {
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile,
      platform: 'node',
      format: 'esm',
      target: 'node20',
      sourcemap: false,
      logLevel: 'silent',
    });
    return path.resolve(root, outfile);
  } catch (e) {
    process.stderr.write(`[bench] esbuild ${entry} failed, falling back to tsx: ${(e as Error).message.split('\n')[0]}\n`);
    return undefined;
  }
}

/** ASC's CLI bundled by scripts/build-cli.mjs into `outfile` (relative to the repository root). */
export function buildCliBundle(root: string, outfile: string): string | undefined {
  try {
    execFileSync(process.execPath, [path.join(root, 'scripts/build-cli.mjs'), '--outfile', outfile], { cwd: root, stdio: ['ignore', 'ignore', 'pipe'] });
    return path.resolve(root, outfile);
  } catch (e) {
    const stderr = String((e as { stderr?: Buffer }).stderr ?? '').trim();
    process.stderr.write(`[bench] scripts/build-cli.mjs failed, falling back: ${stderr.split('\n')[0] || (e as Error).message}\n`);
    return undefined;
  }
}
