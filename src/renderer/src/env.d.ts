import type { AscApi } from '../../shared/ui-contract.js';

declare global {
  interface Window {
    /** Set by the Electron preload; absent when the UI is served by the headless gateway. */
    readonly asc?: AscApi;
  }
}
