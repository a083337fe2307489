// Bundles the CLI into one ESM file, out/cli/asc.mjs, which bin/asc.mjs prefers over running the
// TypeScript sources through tsx. Dependencies stay in node_modules (native addons such as
// better-sqlite3 cannot be bundled). Usage: node scripts/build-cli.mjs [entry]
//
// Silent on stdout so it can run inside scripts whose stdout is parsed; warnings and errors go to
// stderr, and a failed build exits non-zero. `--outfile PATH` writes elsewhere (the test suite
// builds its own copy so it never runs a stale out/cli bundle).
import { build } from 'esbuild';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);
const outIndex = args.indexOf('--outfile');
const outfile = outIndex === -1 ? 'out/cli/asc.mjs' : args.splice(outIndex, 2)[1];
const entry = args[0] ?? 'src/cli/main.ts';

try {
  await build({
    absWorkingDir: root,
    entryPoints: [entry],
    outfile,
    bundle: true,
    platform: 'node',
    format: 'esm',
    target: 'node20',
    packages: 'external',
    sourcemap: true,
    logLevel: 'warning',
  });
  // esbuild escapes non-ASCII characters in code but not in the comments it keeps; one such
  // character makes V8 hold the whole bundle's source as two-byte text for the life of the process.
  const text = readFileSync(new URL(outfile, `file://${root}`), 'latin1');
  const at = text.search(/[^\x00-\x7f]/);
  if (at !== -1) {
    const line = text.slice(0, at).split('\n').length;
    process.stderr.write(`build-cli: ${outfile}:${line} has a non-ASCII character (in a comment?); use ASCII so V8 keeps the source one byte per character\n`);
    process.exitCode = 1;
  }
} catch {
  // esbuild has already printed the errors to stderr.
  process.exitCode = 1;
}
