import { EventEmitter, once } from 'node:events';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import { setTimeout as delay } from 'node:timers/promises';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { callUpstream } from '../../../src/core/upstream/upstream-call.js';
import { createUpstreamClients, type UpstreamClients } from '../../../src/core/upstream/upstream-clients.js';

/** Each test installs its own handler on one local server. */
let handle: (req: IncomingMessage, res: ServerResponse) => void = (_req, res) => res.end();
let server: Server;
let origin: string;
let clients: UpstreamClients;

beforeAll(async () => {
  server = createServer((req, res) => handle(req, res));
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  origin = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});
afterEach(async () => {
  await clients?.close();
});
afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((resolve) => server.close(() => resolve()));
});

function call(opts: { path?: string; headersTimeout?: number; bodyTimeout?: number; to?: string } = {}, signal = new EventEmitter()) {
  clients = createUpstreamClients();
  return callUpstream(
    clients.forOrigin(opts.to ?? origin),
    { method: 'POST', path: opts.path ?? '/', headers: { 'content-type': 'application/json' }, body: '{}', headersTimeout: opts.headersTimeout, bodyTimeout: opts.bodyTimeout },
    signal,
  );
}

describe('callUpstream', () => {
  it('hands the body over chunk by chunk, in order, and settles at its end', async () => {
    handle = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream', 'x-request-id': 'req_1' });
      for (let i = 0; i < 5; i++) {
        res.write(`data: ${i}\n\n`);
        await delay(5);
      }
      res.end();
    };
    const res = await call();
    expect(res.statusCode).toBe(200);
    expect(res.headers['x-request-id']).toBe('req_1');
    const seen: string[] = [];
    await res.forEachChunk((chunk) => {
      seen.push(chunk.toString('utf8'));
      return undefined;
    });
    expect(seen.join('')).toBe([0, 1, 2, 3, 4].map((i) => `data: ${i}\n\n`).join(''));
    expect(seen.length).toBeGreaterThan(1);
  });

  it('keeps the chunks that arrived before a consumer was attached', async () => {
    handle = (_req, res) => res.end('{"whole":"body"}');
    const res = await call();
    await delay(50); // headers, body and end have all arrived by now
    expect((await res.readAll()).toString('utf8')).toBe('{"whole":"body"}');
  });

  it('skips informational 1xx responses', async () => {
    handle = (_req, res) => {
      res.writeEarlyHints({ link: '</x>; rel=preload' });
      res.end('ok');
    };
    const res = await call();
    expect(res.statusCode).toBe(200);
    expect((await res.readAll()).toString('utf8')).toBe('ok');
  });

  it('pauses the upstream socket while the consumer waits (a slow client), then resumes', async () => {
    const total = 64 * 1024 * 1024;
    let written = 0;
    let serverBlocked = false;
    handle = async (_req, res) => {
      res.writeHead(200, { 'content-type': 'application/octet-stream' });
      const block = Buffer.alloc(64 * 1024, 97);
      while (written < total) {
        written += block.length;
        if (!res.write(block)) {
          serverBlocked = true;
          await once(res, 'drain');
        }
      }
      res.end();
    };
    const res = await call();
    let received = 0;
    let calls = 0;
    let writtenWhenPaused = 0;
    let receivedWhilePaused = -1;
    await res.forEachChunk((chunk) => {
      received += chunk.length;
      calls++;
      if (calls !== 1) return undefined;
      // The first chunk makes the consumer wait 300 ms, as a client that stopped reading would.
      return (async () => {
        await delay(150);
        writtenWhenPaused = written;
        receivedWhilePaused = received;
        await delay(150);
        // Nothing more reached the consumer, and the server could not push more than the socket buffers hold.
        expect(received).toBe(receivedWhilePaused);
        expect(written).toBe(writtenWhenPaused);
      })();
    });
    expect(serverBlocked).toBe(true);
    expect(writtenWhenPaused).toBeLessThan(total);
    expect(received).toBe(total);
  });

  it('aborts on the signal before the headers: the call rejects and the upstream sees the request closed', async () => {
    const closed = new Promise<void>((resolve) => {
      handle = (req) => req.socket.once('close', () => resolve());
    });
    const signal = new EventEmitter();
    const pending = call({}, signal);
    await delay(50);
    signal.emit('abort');
    await expect(pending).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
    await closed;
  });

  it('aborts on the signal in the middle of a body: the body rejects and the upstream socket closes', async () => {
    let upstreamSocket: Socket | null = null;
    handle = (req, res) => {
      upstreamSocket = req.socket;
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: first\n\n');
    };
    const signal = new EventEmitter();
    const res = await call({}, signal);
    const body = res.forEachChunk(() => {
      signal.emit('abort');
      return undefined;
    });
    await expect(body).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
    await delay(50);
    expect((upstreamSocket as Socket | null)?.destroyed).toBe(true);
  });

  it('hands over nothing more once aborted, even chunks that arrived while the consumer waited', async () => {
    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: one\n\n');
      setTimeout(() => res.write('data: two\n\n'), 20);
    };
    const signal = new EventEmitter();
    const res = await call({}, signal);
    const seen: string[] = [];
    let release: () => void = () => {};
    const body = res.forEachChunk((chunk) => {
      seen.push(chunk.toString('utf8'));
      // The first chunk makes the consumer wait (a slow client); the second arrives meanwhile.
      return seen.length === 1 ? new Promise<void>((resolve) => (release = resolve)) : undefined;
    });
    await delay(100);
    signal.emit('abort');
    release();
    await expect(body).rejects.toMatchObject({ code: 'UND_ERR_ABORTED' });
    expect(seen).toEqual(['data: one\n\n']);
  });

  it('a consumer that throws aborts the upstream call and the body rejects with its error', async () => {
    handle = (_req, res) => {
      res.writeHead(200);
      res.write('one');
    };
    const res = await call();
    await expect(
      res.forEachChunk(() => {
        throw new Error('translator failed');
      }),
    ).rejects.toThrow('translator failed');
  });

  it('readAll keeps at most `limit` bytes and still reads the body to its end', async () => {
    handle = (_req, res) => {
      res.writeHead(500);
      res.write('x'.repeat(1000));
      setTimeout(() => res.end('y'.repeat(1000)), 10);
    };
    const res = await call();
    expect(res.statusCode).toBe(500);
    const body = await res.readAll(1500);
    expect(body.toString('utf8')).toBe('x'.repeat(1000));
  });

  it('rejects with undici error codes: connection refused, first-byte timeout, idle body timeout', async () => {
    const unused = createServer();
    await new Promise<void>((resolve) => unused.listen(0, '127.0.0.1', resolve));
    const closedPort = (unused.address() as AddressInfo).port;
    await new Promise<void>((resolve) => unused.close(() => resolve()));
    await expect(call({ to: `http://127.0.0.1:${closedPort}` })).rejects.toMatchObject({ code: 'ECONNREFUSED' });

    handle = () => {}; // never answers
    await expect(call({ headersTimeout: 100 })).rejects.toMatchObject({ code: 'UND_ERR_HEADERS_TIMEOUT' });

    handle = (_req, res) => {
      res.writeHead(200, { 'content-type': 'text/event-stream' });
      res.write('data: then silence\n\n');
    };
    const res = await call({ bodyTimeout: 100 });
    await expect(res.forEachChunk(() => undefined)).rejects.toMatchObject({ code: 'UND_ERR_BODY_TIMEOUT' });
  });
});
