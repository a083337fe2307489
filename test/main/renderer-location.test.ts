import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { isAppRendererUrl, resolveRendererLocation } from '../../src/main/renderer-location.js';

const rendererDir = join('/opt', 'ASC', 'resources', 'app', 'out', 'renderer');
const indexHtmlPath = join(rendererDir, 'index.html');
// Built with the platform's own rules, so the cases read the same on Windows.
const fileUrl = (path: string) => pathToFileURL(path).href;
const indexUrl = fileUrl(indexHtmlPath);

describe('resolveRendererLocation', () => {
  it('uses the dev server electron-vite announces while developing', () => {
    const location = resolveRendererLocation({ isPackaged: false, env: { ELECTRON_RENDERER_URL: 'http://localhost:5173' }, indexHtmlPath });
    expect(location).toEqual({ kind: 'dev-server', url: new URL('http://localhost:5173') });
  });

  it('ignores ELECTRON_RENDERER_URL in a packaged app', () => {
    const location = resolveRendererLocation({ isPackaged: true, env: { ELECTRON_RENDERER_URL: 'https://evil.example' }, indexHtmlPath });
    expect(location.kind).toBe('file');
    expect(location.url.href).toBe(indexUrl);
  });
});

describe('isAppRendererUrl', () => {
  const built = resolveRendererLocation({ isPackaged: true, env: {}, indexHtmlPath });
  const dev = resolveRendererLocation({ isPackaged: false, env: { ELECTRON_RENDERER_URL: 'http://localhost:5173/' }, indexHtmlPath });

  it('accepts the built index.html, with any hash or query', () => {
    expect(isAppRendererUrl(indexUrl, built)).toBe(true);
    expect(isAppRendererUrl(`${indexUrl}?tab=traces#/traces`, built)).toBe(true);
  });

  it('refuses other local files, which share the file:// origin', () => {
    expect(isAppRendererUrl(fileUrl(join('/tmp', 'downloaded.html')), built)).toBe(false);
    expect(isAppRendererUrl(fileUrl(join(rendererDir, 'other.html')), built)).toBe(false);
  });

  it('refuses web pages and garbage', () => {
    expect(isAppRendererUrl('https://example.com/index.html', built)).toBe(false);
    expect(isAppRendererUrl('not a url', built)).toBe(false);
    expect(isAppRendererUrl('', built)).toBe(false);
  });

  it('accepts any path on the dev server origin and nothing else', () => {
    expect(isAppRendererUrl('http://localhost:5173/', dev)).toBe(true);
    expect(isAppRendererUrl('http://localhost:5173/src/App.tsx', dev)).toBe(true);
    expect(isAppRendererUrl('http://localhost:5174/', dev)).toBe(false);
    expect(isAppRendererUrl('http://127.0.0.1:5173/', dev)).toBe(false);
    expect(isAppRendererUrl(indexUrl, dev)).toBe(false);
  });
});
