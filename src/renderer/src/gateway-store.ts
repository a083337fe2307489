import { createStore, type StoreApi } from 'zustand/vanilla';
import type { AscApi } from '../../shared/ui-contract.js';

export type GatewayState =
  | { status: 'loading' }
  | { status: 'ready'; url: string }
  | { status: 'error'; message: string };

export interface GatewayStore {
  gateway: GatewayState;
  refresh(): Promise<void>;
}

/** Created around a contract implementation, so tests and the browser build can pass their own. */
export function createGatewayStore(api: AscApi): StoreApi<GatewayStore> {
  return createStore<GatewayStore>()((set) => ({
    gateway: { status: 'loading' },
    async refresh() {
      try {
        const { url } = await api.getGatewayInfo();
        set({ gateway: { status: 'ready', url } });
      } catch (error) {
        set({ gateway: { status: 'error', message: error instanceof Error ? error.message : String(error) } });
      }
    },
  }));
}
