import { useEffect } from 'react';
import { useStore, type StoreApi } from 'zustand';
import type { GatewayState, GatewayStore } from './gateway-store.js';

export function App({ store }: { store: StoreApi<GatewayStore> }) {
  const gateway = useStore(store, (s) => s.gateway);
  const refresh = useStore(store, (s) => s.refresh);

  useEffect(() => {
    void refresh();
  }, [refresh]);

  return (
    <main className="app">
      <h1>ASC</h1>
      <p className="status" role="status">
        <GatewayStatus gateway={gateway} />
      </p>
    </main>
  );
}

function GatewayStatus({ gateway }: { gateway: GatewayState }) {
  switch (gateway.status) {
    case 'loading':
      return <>Connecting to the gateway…</>;
    case 'ready':
      return (
        <>
          Gateway running at <code>{gateway.url}</code>
        </>
      );
    case 'error':
      return <>Gateway unavailable: {gateway.message}</>;
    default: {
      const unreachable: never = gateway;
      return unreachable;
    }
  }
}
