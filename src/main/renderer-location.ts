import { pathToFileURL } from 'node:url';

/** Where the window's UI comes from: the built files, or electron-vite's dev server. */
export type RendererLocation = { kind: 'file'; url: URL } | { kind: 'dev-server'; url: URL };

/**
 * `electron-vite dev` passes its dev server in `ELECTRON_RENDERER_URL`. A packaged app ignores it,
 * so an environment variable cannot point the privileged window at someone else's page.
 */
export function resolveRendererLocation(opts: { isPackaged: boolean; env: NodeJS.ProcessEnv; indexHtmlPath: string }): RendererLocation {
  const devUrl = opts.env.ELECTRON_RENDERER_URL;
  if (!opts.isPackaged && devUrl) return { kind: 'dev-server', url: new URL(devUrl) };
  return { kind: 'file', url: pathToFileURL(opts.indexHtmlPath) };
}

/**
 * Whether a frame or navigation URL is our own UI. Used to validate IPC senders and to block
 * navigation elsewhere. Query and hash are ignored (a router may use them); for file:// the path
 * must be our index.html exactly, since any local file shares the `file://` origin.
 */
export function isAppRendererUrl(candidate: string, location: RendererLocation): boolean {
  let url: URL;
  try {
    url = new URL(candidate);
  } catch {
    return false;
  }
  switch (location.kind) {
    case 'file':
      return url.protocol === 'file:' && url.host === location.url.host && url.pathname === location.url.pathname;
    case 'dev-server':
      return url.origin === location.url.origin;
    default: {
      const unreachable: never = location;
      throw new Error(`unknown renderer location ${JSON.stringify(unreachable)}`);
    }
  }
}
