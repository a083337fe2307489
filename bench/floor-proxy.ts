/**
 * The floor: the least any Node proxy can cost. node:http in front of one undici Pool to the
 * upstream; forwards method, path, headers and body, pipes the response back. No routing, no
 * policy, no logging. Upstream origin from FLOOR_UPSTREAM (e.g. http://127.0.0.1:1234).
 * Listens on 127.0.0.1 (port FLOOR_PORT, default 0) and prints `FLOOR_PORT=<port>` on stdout.
 */
import http from 'node:http';
import { pipeline } from 'node:stream';
import { Pool } from 'undici';

const upstream = process.env.FLOOR_UPSTREAM;
if (!upstream) {
  process.stderr.write('floor-proxy: FLOOR_UPSTREAM is required\n');
  process.exit(2);
}
const pool = new Pool(upstream, { connections: 64, pipelining: 1, keepAliveTimeout: 60_000 });

const HOP_BY_HOP = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'te', 'trailer', 'upgrade', 'host']);

function forwardHeaders(h: http.IncomingHttpHeaders | Record<string, string | string[] | undefined>): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  for (const k in h) {
    const v = h[k];
    if (v !== undefined && !HOP_BY_HOP.has(k)) out[k] = v;
  }
  return out;
}

const server = http.createServer((req, res) => {
  const method = req.method ?? 'GET';
  pool
    .request({
      method: method as 'GET',
      path: req.url ?? '/',
      headers: forwardHeaders(req.headers),
      body: method === 'GET' || method === 'HEAD' ? null : req,
    })
    .then(
      (up) => {
        res.writeHead(up.statusCode, forwardHeaders(up.headers));
        pipeline(up.body, res, () => {});
      },
      (err: Error) => {
        if (!res.headersSent) res.writeHead(502, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `floor: ${err.message}` } }));
      },
    );
});

server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(Number(process.env.FLOOR_PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`FLOOR_PORT=${addr.port}\n`);
});

const stop = (): void => {
  server.close();
  server.closeAllConnections();
  void pool.destroy();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
