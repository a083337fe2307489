import { ipcMain, type IpcMainInvokeEvent } from 'electron';
import { ASC_API_SCHEMAS, ASC_IPC_CHANNELS, type AscApi } from '../shared/ui-contract.js';
import { isAppRendererUrl, type RendererLocation } from './renderer-location.js';

/**
 * Registers one `ipcMain.handle` per contract method and nothing else. Before a call reaches
 * `api`, the sender must be our own top-level UI frame (not an iframe, not a page the window was
 * navigated to) and the arguments must match the contract's schema.
 * @see https://www.electronjs.org/docs/latest/tutorial/security#17-validate-the-sender-of-all-ipc-messages
 */
export function registerAscHandlers(api: AscApi, location: RendererLocation): void {
  for (const method of Object.keys(ASC_IPC_CHANNELS) as (keyof AscApi)[]) {
    const channel = ASC_IPC_CHANNELS[method];
    const { args } = ASC_API_SCHEMAS[method];
    ipcMain.handle(channel, (event, ...raw: unknown[]) => {
      assertTrustedSender(event, location, channel);
      const parsed = args.parse(raw);
      // One signature per method, checked by the schema above; the map erases it.
      return (api[method] as (...a: unknown[]) => Promise<unknown>).apply(api, parsed);
    });
  }
}

function assertTrustedSender(event: IpcMainInvokeEvent, location: RendererLocation, channel: string): void {
  const frame = event.senderFrame;
  if (!frame || frame.parent !== null || !isAppRendererUrl(frame.url, location)) {
    throw new Error(`${channel}: refused, sender is not the ASC window`);
  }
}
