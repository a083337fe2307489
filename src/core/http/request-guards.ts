import type { FastifyReply, FastifyRequest } from 'fastify';

/**
 * DNS-rebinding defence: a page on evil.example that resolves to 127.0.0.1 still sends its own
 * Host header. Only loopback names with our port pass.
 */
export function createHostCheck(getPort: () => number, extraHosts: readonly string[] = []): (host: string | undefined) => boolean {
  let cachedPort = -1;
  let allowed = new Set<string>();
  return (host) => {
    const port = getPort();
    if (port !== cachedPort) {
      cachedPort = port;
      allowed = new Set<string>();
      for (const name of ['127.0.0.1', 'localhost', '[::1]', ...extraHosts]) {
        allowed.add(`${name}:${port}`);
        if (port === 80) allowed.add(name);
      }
    }
    return host !== undefined && allowed.has(host.toLowerCase());
  };
}

/**
 * A browser always names the page that sent a cross-origin request. Only the gateway's own
 * origin may call it from a browser; tools (SDKs, curl) send no Origin at all.
 */
export function createOriginCheck(hostAllowed: (host: string | undefined) => boolean): (origin: string | undefined) => boolean {
  return (origin) => {
    if (origin === undefined) return true;
    const m = /^https?:\/\/([^/]+)$/i.exec(origin);
    return m !== null && hostAllowed(m[1]);
  };
}

/** The local client key as the OpenAI SDK (`Authorization: Bearer`) or Anthropic SDK (`x-api-key`) sends it. */
export function presentedClientKey(request: FastifyRequest): string | undefined {
  const auth = request.headers.authorization;
  if (typeof auth === 'string' && auth.length > 7 && auth.slice(0, 7).toLowerCase() === 'bearer ') return auth.slice(7).trim();
  const xKey = request.headers['x-api-key'];
  return typeof xKey === 'string' ? xKey : undefined;
}

export type ReplyFn = (reply: FastifyReply) => void;
