import { join } from 'node:path';
import { app, BrowserWindow, dialog, session } from 'electron';
import { DEFAULT_PORT, startGateway, type RunningGateway } from '../core/index.js';
import { resolveDataDir } from '../core/data-dir.js';
import { resolveGatewayPort } from './gateway-port.js';
import { registerAscHandlers } from './ipc-handlers.js';
import { createMainWindow } from './main-window.js';
import { resolveRendererLocation } from './renderer-location.js';
import { applyWebContentsPolicy } from './web-contents-policy.js';

// Lifecycle and wiring only: the gateway itself is the core library, started in-process exactly
// as `asc serve` starts it, so the app and the CLI behave the same.

const rendererLocation = resolveRendererLocation({
  isPackaged: app.isPackaged,
  env: process.env,
  indexHtmlPath: join(import.meta.dirname, '../renderer/index.html'),
});
// Sandboxed preloads cannot be ES modules, so the build emits this one as CommonJS.
const preloadPath = join(import.meta.dirname, '../preload/index.cjs');

let gateway: RunningGateway | undefined;
let mainWindow: BrowserWindow | undefined;
let closingGateway = false;

function showMainWindow(): void {
  if (mainWindow && !mainWindow.isDestroyed()) {
    if (mainWindow.isMinimized()) mainWindow.restore();
    mainWindow.focus();
    return;
  }
  mainWindow = createMainWindow({ location: rendererLocation, preloadPath });
  mainWindow.on('closed', () => {
    mainWindow = undefined;
  });
}

async function onReady(): Promise<void> {
  applyWebContentsPolicy(app, session.defaultSession, rendererLocation);
  try {
    gateway = await startGateway({
      dataDir: resolveDataDir(undefined, process.env),
      port: resolveGatewayPort(process.env, DEFAULT_PORT),
    });
  } catch (error) {
    // Most often the port is taken (e.g. `asc serve` already running): say so and leave, since a
    // window with no gateway behind it would only mislead.
    dialog.showErrorBox('ASC could not start its gateway', (error as Error).message);
    app.exit(1);
    return;
  }
  const { url } = gateway;
  registerAscHandlers({ getGatewayInfo: async () => ({ url }) }, rendererLocation);
  showMainWindow();
}

// One app per user: a second launch would fight the first for the gateway port, so it focuses
// the existing window instead.
if (!app.requestSingleInstanceLock()) {
  app.quit();
} else {
  app.on('second-instance', () => {
    if (app.isReady() && gateway) showMainWindow();
  });

  app.whenReady().then(onReady, (error: unknown) => {
    console.error(error);
    app.exit(1);
  });

  // macOS apps stay alive without windows (and the gateway keeps serving); elsewhere closing the
  // last window is how the user quits, as there is no tray yet.
  app.on('window-all-closed', () => {
    if (process.platform !== 'darwin') app.quit();
  });
  app.on('activate', () => {
    if (gateway && BrowserWindow.getAllWindows().length === 0) showMainWindow();
  });

  // Let in-flight requests finish and the trace writer flush before the process goes away:
  // hold the quit once, close the gateway, then quit for real.
  app.on('before-quit', (event) => {
    if (!gateway || closingGateway) return;
    event.preventDefault();
    closingGateway = true;
    gateway
      .close()
      .catch((error: unknown) => console.error('gateway did not close cleanly:', error))
      .finally(() => {
        gateway = undefined;
        app.quit();
      });
  });
}
