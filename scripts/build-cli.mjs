// Bundles the CLI into one ESM file, out/cli/asc.mjs, which bin/asc.mjs runs while it is newer
// than the sources (else it runs them through tsx). Usage: node scripts/build-cli.mjs [entry]
//
// Dependencies are bundled too, minified (whitespace and syntax, identifiers kept), except native
// addons (better-sqlite3, @napi-rs/keyring: they load .node files from their own package) and pino
// (required lazily, on the first error). One compact source instead of hundreds of node_modules files: about 4 MB less
// idle RSS in the benchmark (V8 keeps every loaded module's source text, zod's and fastify's
// comments included) and a faster start; see bench/README.md. Identifiers are kept so stack
// traces stay readable.
//
// Silent on stdout so it can run inside scripts whose stdout is parsed; warnings and errors go to
// stderr, and a failed build exits non-zero. `--outfile PATH` writes elsewhere (the test suite
// and the benchmark build their own copies so they never run a stale out/cli bundle).
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
    external: ['better-sqlite3', '@napi-rs/keyring', 'pino'],
    minifyWhitespace: true,
    minifySyntax: true,
    // License notices go to asc.mjs.LEGAL.txt: kept, and out of the source V8 holds in memory.
    legalComments: 'external',
    // Bundled CommonJS packages require Node's built-ins; an ES module has no `require` of its own.
    banner: { js: "import { createRequire as __ascCreateRequire } from 'node:module'; const require = __ascCreateRequire(import.meta.url);" },
    sourcemap: true,
    logLevel: 'warning',
  });
  // esbuild escapes non-ASCII characters in code; one anywhere else (a comment kept) would make V8
  // hold the whole bundle's source as two-byte text for the life of the process.
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
