import { resolve } from 'node:path';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'electron-vite';
import type { Plugin } from 'vite';

export default defineConfig({
  main: {
    build: {
      // Runtime deps (fastify, undici, better-sqlite3, @napi-rs/keyring, …) stay in node_modules:
      // native addons cannot be bundled, and the core is the same code the CLI runs unbundled.
      externalizeDeps: true,
      sourcemap: true,
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'src/main/index.ts') },
      },
    },
  },
  preload: {
    build: {
      // A sandboxed preload cannot `require` from node_modules (only `electron` and a few
      // built-ins), so whatever it imports is bundled in, and it must be CommonJS.
      // @see https://www.electronjs.org/docs/latest/tutorial/sandbox#preload-scripts
      externalizeDeps: false,
      sourcemap: true,
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'src/preload/index.ts') },
        output: { format: 'cjs', entryFileNames: '[name].cjs' },
        // The preload needs only the contract's channel names; treating zod's builders as pure
        // lets the schemas (and zod with them) fall out: 0.4 kB instead of 140 kB per window.
        treeshake: { manualPureFunctions: ['z'] },
      },
    },
  },
  renderer: {
    root: resolve(import.meta.dirname, 'src/renderer'),
    build: {
      rolldownOptions: {
        input: { index: resolve(import.meta.dirname, 'src/renderer/index.html') },
      },
    },
    plugins: [react(), relaxCspForDevServer()],
  },
});

/**
 * Vite's dev server injects inline scripts (React refresh) and inline styles (CSS HMR) that the
 * shipped CSP rightly forbids. Loosen it for `electron-vite dev` only; `build` keeps it strict.
 */
function relaxCspForDevServer(): Plugin {
  return {
    name: 'asc:relax-csp-for-dev-server',
    apply: 'serve',
    transformIndexHtml: (html) =>
      html
        .replace("script-src 'self'", "script-src 'self' 'unsafe-inline'")
        .replace("style-src 'self'", "style-src 'self' 'unsafe-inline'"),
  };
}
