#!/usr/bin/env node
// The `asc` command. Runs the bundled CLI when `npm start` or `npm run build` has produced it, otherwise the
// TypeScript sources through tsx, so `asc` works from a fresh clone without a build step.
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const bundle = new URL('../out/cli/asc.mjs', import.meta.url);

// ASC_FROM_SOURCE=1 (the test suite) always runs the sources, never a possibly stale bundle.
if (existsSync(bundle) && process.env.ASC_FROM_SOURCE !== '1') {
  await import(bundle.href);
} else {
  const { register } = await import('tsx/esm/api');
  // Our compiler settings, not whatever tsconfig.json happens to be in the caller's directory.
  register({ tsconfig: fileURLToPath(new URL('../tsconfig.cli.json', import.meta.url)) });
  await import(new URL('../src/cli/main.ts', import.meta.url).href);
}
