import type { App, Session } from 'electron';
import { isAppRendererUrl, type RendererLocation } from './renderer-location.js';

/**
 * The UI never needs a second window, a `<webview>`, another site or a browser permission, so
 * every web contents the app creates is locked to our own page: if the renderer is ever
 * compromised, it cannot take the preload bridge somewhere else.
 * @see https://www.electronjs.org/docs/latest/tutorial/security
 */
export function applyWebContentsPolicy(app: App, session: Session, location: RendererLocation): void {
  // Grant permissions one by one here when the UI needs them (e.g. clipboard-sanitized-write).
  session.setPermissionRequestHandler((_contents, _permission, callback) => callback(false));
  session.setPermissionCheckHandler(() => false);

  app.on('web-contents-created', (_event, contents) => {
    contents.setWindowOpenHandler(() => ({ action: 'deny' }));
    contents.on('will-navigate', (details) => {
      if (!isAppRendererUrl(details.url, location)) details.preventDefault();
    });
    contents.on('will-redirect', (details) => {
      if (!isAppRendererUrl(details.url, location)) details.preventDefault();
    });
    contents.on('will-attach-webview', (event) => event.preventDefault());
  });
}
