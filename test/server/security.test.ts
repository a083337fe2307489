import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LOCAL_KEY, rawPost, startTestGateway, type TestGateway } from '../support/gateway-harness.js';

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ bodyLimitBytes: 64 * 1024 });
});
afterAll(async () => {
  await t.close();
});

/** node:http lets a test send any Host header, as a DNS-rebinding page would. */
function getWithHost(host: string, path = '/v1/models'): Promise<{ status: number; body: string; headers: Record<string, unknown> }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: t.gateway.port, path, method: 'GET', headers: { host, authorization: `Bearer ${LOCAL_KEY}` } }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, headers: res.headers }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('local client authentication', () => {
  it('refuses a request without the local key, in OpenAI format on OpenAI routes', async () => {
    const res = await fetch(`${t.url}/v1/chat/completions`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ error: { code: 'unauthorized', type: 'invalid_request_error' } });
    expect(t.upstream.requests).toHaveLength(0);
  });

  it('refuses a wrong x-api-key in Anthropic format on /v1/messages', async () => {
    const res = await fetch(`${t.url}/v1/messages`, { method: 'POST', body: '{}', headers: { 'x-api-key': 'asc-wrong', 'content-type': 'application/json' } });
    expect(res.status).toBe(401);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
  });

  it('accepts the key as Bearer or as x-api-key', async () => {
    expect((await fetch(`${t.url}/v1/models`, { headers: { authorization: `Bearer ${LOCAL_KEY}` } })).status).toBe(200);
    expect((await fetch(`${t.url}/v1/models`, { headers: { 'x-api-key': LOCAL_KEY } })).status).toBe(200);
  });
});

describe('Host check against DNS rebinding', () => {
  it('refuses a foreign Host header', async () => {
    const res = await getWithHost(`evil.example:${t.gateway.port}`);
    expect(res.status).toBe(403);
    expect(JSON.parse(res.body)).toMatchObject({ error: { code: 'host_not_allowed' } });
  });

  it('refuses a loopback name with another port', async () => {
    expect((await getWithHost('127.0.0.1:1')).status).toBe(403);
  });

  it.each(['127.0.0.1', 'localhost', '[::1]'])('accepts %s with the listening port', async (name) => {
    expect((await getWithHost(`${name}:${t.gateway.port}`)).status).toBe(200);
  });

  it('refuses a request sent by another web page (Origin), even with the key', async () => {
    const res = await fetch(`${t.url}/v1/models`, { headers: { origin: 'https://evil.example', authorization: `Bearer ${LOCAL_KEY}` } });
    expect(res.status).toBe(403);
    const own = await fetch(`${t.url}/v1/models`, { headers: { origin: t.url, authorization: `Bearer ${LOCAL_KEY}` } });
    expect(own.status).toBe(200);
  });

  it('sends no CORS headers, even to a preflight', async () => {
    const res = await fetch(`${t.url}/v1/chat/completions`, { method: 'OPTIONS', headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
    expect(res.headers.get('access-control-allow-origin')).toBeNull();
    const get = await fetch(`${t.url}/v1/models`, { headers: { origin: t.url, authorization: `Bearer ${LOCAL_KEY}` } });
    expect(get.headers.get('access-control-allow-origin')).toBeNull();
  });
});

describe('request validation at the edge', () => {
  it('answers 413 for a body over the limit', async () => {
    const res = await rawPost(t.url, '/v1/chat/completions', { model: 'gpt-4.1', messages: [{ role: 'user', content: 'x'.repeat(70 * 1024) }] });
    expect(res.status).toBe(413);
    expect(await res.json()).toMatchObject({ error: { code: 'body_too_large' } });
  });

  it('answers 400 for invalid JSON, in the route format', async () => {
    const res = await rawPost(t.url, '/v1/messages', '{"model":', { 'anthropic-version': '2023-06-01' });
    expect(res.status).toBe(400);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
  });

  it('names an unroutable model in a 400', async () => {
    const res = await rawPost(t.url, '/v1/chat/completions', { model: 'llama-3-70b', messages: [] });
    expect(res.status).toBe(400);
    const body = (await res.json()) as { error: { message: string; code: string } };
    expect(body.error.code).toBe('unknown_model');
    expect(body.error.message).toContain('llama-3-70b');
  });

  it('carries the gateway headers on errors too', async () => {
    const res = await rawPost(t.url, '/v1/chat/completions', { messages: [] });
    expect(res.status).toBe(400);
    expect(res.headers.get('x-asc-request-id')).toBeTruthy();
    expect(res.headers.get('x-asc-provider')).toBe('none');
    expect(res.headers.get('x-asc-model')).toBe('none');
  });

  it('answers 404 for unknown routes in OpenAI format', async () => {
    const res = await fetch(`${t.url}/v1/nope`, { headers: { authorization: `Bearer ${LOCAL_KEY}` } });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ error: { code: 'not_found' } });
  });
});
