import { contextBridge, ipcRenderer } from 'electron';
import { ASC_IPC_CHANNELS, type AscApi } from '../shared/ui-contract.js';

// The renderer's only door to the app: the methods of the shared contract, each bound to its own
// channel. `ipcRenderer` itself is never exposed, so page script cannot pick a channel or listen
// in on others.
// @see https://www.electronjs.org/docs/latest/tutorial/context-isolation#security-considerations
const api: AscApi = {
  getGatewayInfo: () => ipcRenderer.invoke(ASC_IPC_CHANNELS.getGatewayInfo),
};

contextBridge.exposeInMainWorld('asc', api);
