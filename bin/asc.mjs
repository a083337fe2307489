#!/usr/bin/env node
// The `asc` command. Runs the bundled CLI that `npm start` or `npm run build` produced when it is
// newer than every source it was built from, otherwise the TypeScript sources through tsx: `asc`
// works from a fresh clone without a build step and never runs code older than the checkout.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../out/cli/asc.mjs', import.meta.url);
// What the CLI bundle is built from (the desktop layers are not part of it).
const sourceDirs = ['../src/cli/', '../src/core/', '../src/shared/'].map((dir) => new URL(dir, import.meta.url));

/** Whether a file under `dir` was modified after `sinceMs` (about 100 files: a few ms). */
function changedSince(dir, sinceMs) {
  if (!existsSync(dir)) return false;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const url = new URL(entry.isDirectory() ? `${entry.name}/` : entry.name, dir);
    if (entry.isDirectory() ? changedSince(url, sinceMs) : statSync(url).mtimeMs > sinceMs) return true;
  }
  return false;
}

function bundleIsCurrent() {
  if (!existsSync(bundle)) return false;
  const builtMs = statSync(bundle).mtimeMs;
  return !sourceDirs.some((dir) => changedSince(dir, builtMs));
}

// ASC_FROM_SOURCE=1 (the test suite) always runs the sources.
if (process.env.ASC_FROM_SOURCE !== '1' && bundleIsCurrent()) {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  // Our compiler settings, not whatever tsconfig.json happens to be in the caller's directory.
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.cli.json', import.meta.url)) });
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
