import { Pool, type Dispatcher } from 'undici';

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
  const pools = new Map<string, Pool>();
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
