import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EventEmitter } from 'node:events';
import { callUpstream } from '../../../src/core/upstream/upstream-call.js';
import { createUpstreamClients } from '../../../src/core/upstream/upstream-clients.js';

let server: Server;
let origin: string;
const sockets = new Set<number>();

beforeAll(async () => {
  server = createServer((req, res) => {
    sockets.add(req.socket.remotePort ?? 0);
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify({ path: req.url, method: req.method }));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterAll(async () => {
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

describe('upstream clients', () => {
  it('gives one pooled dispatcher per origin that serves calls (undici internals still where we load them from)', async () => {
    const clients = createUpstreamClients({ connections: 1 });
    const pool = clients.forOrigin(origin);
    expect(clients.forOrigin(origin)).toBe(pool);
    for (let i = 0; i < 3; i++) {
      const res = await callUpstream(pool, { method: 'POST', path: `/v1/x?i=${i}`, headers: {}, body: '{}' }, new EventEmitter());
      expect(res.statusCode).toBe(200);
      expect(JSON.parse((await res.readAll()).toString('utf8'))).toEqual({ path: `/v1/x?i=${i}`, method: 'POST' });
    }
    // Keep-alive: one connection served all three requests.
    expect(sockets.size).toBe(1);
    await clients.close();
  });
});

describe('upstream clients and connect timeouts', () => {
  it('keeps separate pools per connect timeout, so a profile switch that changes it takes effect', async () => {
    const clients = createUpstreamClients();
    const byDefault = clients.forOrigin(origin);
    expect(clients.forOrigin(origin, 10_000)).toBe(byDefault);
    const tight = clients.forOrigin(origin, 250);
    expect(tight).not.toBe(byDefault);
    expect(clients.forOrigin(origin, 250)).toBe(tight);
    const res = await callUpstream(tight, { method: 'GET', path: '/t', headers: {}, body: null }, new EventEmitter());
    expect(res.statusCode).toBe(200);
    await res.readAll();
    await clients.close();
  });
});
