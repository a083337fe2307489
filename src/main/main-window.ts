import { BrowserWindow } from 'electron';
import type { RendererLocation } from './renderer-location.js';

/**
 * The one app window. The renderer gets no Node and runs sandboxed in its own JS world; the only
 * thing it can reach is the `window.asc` bridge the preload exposes.
 */
export function createMainWindow(opts: { location: RendererLocation; preloadPath: string }): BrowserWindow {
  const win = new BrowserWindow({
    width: 1100,
    height: 760,
    minWidth: 720,
    minHeight: 480,
    title: 'ASC',
    // Shown once painted, so the user never sees an empty white frame.
    show: false,
    autoHideMenuBar: true,
    webPreferences: {
      preload: opts.preloadPath,
      contextIsolation: true,
      sandbox: true,
      nodeIntegration: false,
      webSecurity: true,
      spellcheck: false,
    },
  });
  win.once('ready-to-show', () => win.show());
  void win.loadURL(opts.location.url.href);
  return win;
}
