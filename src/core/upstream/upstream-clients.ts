import type { Dispatcher, Pool as PoolType } from 'undici';
import DispatcherBase from 'undici/lib/dispatcher/dispatcher.js';
import Pool from 'undici/lib/dispatcher/pool.js';
import api from 'undici/lib/api/index.js';

// undici's package root also loads fetch, WebSocket, EventSource, the cache and mock layers: about
// 3 MB of heap and 8 MB of resident memory that a laptop-resident gateway never uses. We load the
// Pool and attach the request API to dispatchers exactly as the root's index.js does. The
// upstream-clients test fails loudly if a new undici moves these paths.
Object.assign(DispatcherBase.prototype, api);

/** One pooled keep-alive client per upstream origin, created on first use and reused. */
export interface UpstreamClients {
  forOrigin(origin: string): Dispatcher;
  close(): Promise<void>;
}

export interface UpstreamClientOptions {
  /** Sockets per origin; sized for many concurrent streams from coding agents. */
  connections?: number;
  connectTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export function createUpstreamClients(opts: UpstreamClientOptions = {}): UpstreamClients {
  const pools = new Map<string, PoolType>();
  return {
    forOrigin(origin) {
      let pool = pools.get(origin);
      if (pool === undefined) {
        pool = new Pool(origin, {
          connections: opts.connections ?? 256,
          pipelining: 1,
          keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000,
          connect: { timeout: opts.connectTimeoutMs ?? 10_000 },
        });
        pools.set(origin, pool);
      }
      return pool;
    },
    async close() {
      const all = [...pools.values()];
      pools.clear();
      await Promise.all(all.map((p) => p.close().catch(() => p.destroy())));
    },
  };
}
