/**
 * Children run as plain `node file.mjs`, not through tsx: the tsx loader adds ~30 MB RSS and a loader
 * thread, which would distort the memory numbers (idle RSS target ≤ 80 MB). esbuild (a dev dependency)
 * compiles the stub, the floor and ASC's CLI into bench/.build/; on failure the caller falls back to tsx.
 *
 * bench/.build/asc.mjs sits at the same depth as out/cli/asc.mjs so `new URL('../../resources/…',
 * import.meta.url)` inside the gateway resolves to the repository's resources/ just the same.
 */
import path from 'node:path';

export async function compile(root: string, entry: string, outfile: string, bundle: boolean): Promise<string | undefined> {
  try {
    const esbuild = await import('esbuild');
    await esbuild.build({
      absWorkingDir: root,
      entryPoints: [entry],
      outfile,
      bundle,
      ...(bundle ? { packages: 'external' as const } : {}),
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
