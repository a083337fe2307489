import type { Dispatcher, Pool as PoolType } from 'undici';
import Pool from 'undici/lib/dispatcher/pool.js';

// undici's package root also loads fetch, WebSocket, EventSource, the cache and mock layers, and
// its request/stream/pipeline API: about 3 MB of heap and 8 MB of resident memory that a
// laptop-resident gateway never uses. We load the Pool alone and call it through its dispatch API
// (upstream-call.ts). The upstream-clients test fails loudly if a new undici moves this path.

/** What the gateway uses of a pool: undici's dispatch API, and shutting it down. */
export type UpstreamDispatcher = Pick<Dispatcher, 'dispatch' | 'close' | 'destroy'>;

/**
 * One pooled keep-alive client per upstream origin (and connect timeout), created on first use and
 * reused.
 */
export interface UpstreamClients {
  /**
   * The pool for `origin`. The connect timeout is the serving profile's, so a profile that
   * changes it gets pools of its own (undici fixes it per pool) while the old ones keep serving
   * requests already under way.
   */
  forOrigin(origin: string, connectTimeoutMs?: number): UpstreamDispatcher;
  close(): Promise<void>;
}

export interface UpstreamClientOptions {
  /** Sockets per origin; sized for many concurrent streams from coding agents. */
  connections?: number;
  /** When a request names none. */
  connectTimeoutMs?: number;
  keepAliveTimeoutMs?: number;
}

export const DEFAULT_CONNECT_TIMEOUT_MS = 10_000;

export function createUpstreamClients(opts: UpstreamClientOptions = {}): UpstreamClients {
  const defaultConnectTimeoutMs = opts.connectTimeoutMs ?? DEFAULT_CONNECT_TIMEOUT_MS;
  // origin → connect timeout → pool: two lookups and no key string built per request.
  const pools = new Map<string, Map<number, PoolType>>();
  return {
    forOrigin(origin, connectTimeoutMs = defaultConnectTimeoutMs) {
      let byTimeout = pools.get(origin);
      if (byTimeout === undefined) {
        byTimeout = new Map();
        pools.set(origin, byTimeout);
      }
      let pool = byTimeout.get(connectTimeoutMs);
      if (pool === undefined) {
        pool = new Pool(origin, {
          connections: opts.connections ?? 256,
          pipelining: 1,
          keepAliveTimeout: opts.keepAliveTimeoutMs ?? 30_000,
          connect: { timeout: connectTimeoutMs },
        });
        byTimeout.set(connectTimeoutMs, pool);
      }
      return pool;
    },
    async close() {
      const all = [...pools.values()].flatMap((byTimeout) => [...byTimeout.values()]);
      pools.clear();
      await Promise.all(all.map((p) => p.close().catch(() => p.destroy())));
    },
  };
}
