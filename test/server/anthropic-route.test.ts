import Anthropic from '@anthropic-ai/sdk';
import { describe, expect, it } from 'vitest';
import { LOCAL_KEY, PROVIDER_SECRETS, type TestGateway, useTestGateway } from '../support/gateway-harness.js';

let t: TestGateway;
useTestGateway((g) => (t = g));

describe('Anthropic messages through the gateway (official @anthropic-ai/sdk)', () => {
  it('answers JSON with x-api-key and anthropic-version set by the gateway', async () => {
    const { data, response } = await t.anthropic.messages
      .create({ model: 'claude-haiku-4-5', max_tokens: 128, messages: [{ role: 'user', content: 'hi claude' }] })
      .withResponse();
    expect(data.content[0]).toMatchObject({ type: 'text', text: 'echo: hi claude' });
    expect(response.headers.get('x-asc-provider')).toBe('anthropic');
    const seen = t.upstream.requests.at(-1)!;
    expect(seen.path).toBe('/v1/messages');
    expect(seen.headers['x-api-key']).toBe(PROVIDER_SECRETS.anthropic);
    // The SDK's own anthropic-version is forwarded as it came.
    expect(seen.headers['anthropic-version']).toMatch(/^\d{4}-\d{2}-\d{2}$/);
    expect(seen.headers.authorization).toBeUndefined();
    expect(JSON.stringify(seen.headers)).not.toContain(LOCAL_KEY);
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ route: 'anthropic.messages', providerId: 'anthropic', status: 200 });
    expect(trace!.usage.inputTokens).toBe(data.usage.input_tokens);
  });

  it('streams the full event sequence and records usage from message_start and message_delta', async () => {
    const stream = t.anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 128, messages: [{ role: 'user', content: 'stream a reply please' }] });
    const message = await stream.finalMessage();
    expect(message.content[0]).toMatchObject({ type: 'text', text: 'echo: stream a reply please' });
    const [trace] = await t.nextTraces();
    expect(trace!.streamed).toBe(true);
    expect(trace!.usage.inputTokens).toBe(message.usage.input_tokens);
    expect(trace!.usage.outputTokens).toBe(message.usage.output_tokens);
    expect(trace!.ttftMs).not.toBeNull();
  });

  it('works the way Claude Code calls it: HEAD / check, ?beta=true, anthropic-beta header', async () => {
    const head = await fetch(`${t.url}/`, { method: 'HEAD' });
    expect(head.status).toBe(200);
    const res = await fetch(`${t.url}/v1/messages?beta=true`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${LOCAL_KEY}`,
        'anthropic-version': '2023-06-01',
        'anthropic-beta': 'interleaved-thinking-2025-05-14',
        'content-type': 'application/json',
      },
      body: JSON.stringify({ model: 'claude-sonnet-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'beta' }] }),
    });
    expect(res.status).toBe(200);
    expect(((await res.json()) as { content: { type: string }[] }).content[0]!.type).toBe('text');
    const seen = t.upstream.requests.at(-1)!;
    expect(seen.path).toBe('/v1/messages?beta=true');
    expect(seen.headers['anthropic-beta']).toBe('interleaved-thinking-2025-05-14');
    expect(seen.headers.authorization).toBeUndefined();
    await t.nextTraces();
  });

  it('counts tokens through the provider', async () => {
    const res = await t.anthropic.messages.countTokens({ model: 'claude-haiku-4-5', messages: [{ role: 'user', content: 'count these tokens' }] });
    expect(res.input_tokens).toBeGreaterThan(0);
    expect(t.upstream.requests.at(-1)!.path).toBe('/v1/messages/count_tokens');
    await t.nextTraces();
  });

  it('keeps cache read and write tokens apart', async () => {
    await t.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 64, messages: [{ role: 'user', content: 'x [cached:40] [cache_write:8]' }] });
    const [trace] = await t.nextTraces();
    expect(trace!.usage.cachedInputTokens).toBe(40);
    expect(trace!.usage.cacheWriteTokens).toBe(8);
  });

  it('renders gateway errors in Anthropic format and passes upstream errors through', async () => {
    const bad = await t.anthropic.messages.create({ model: 'no-such-model', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(bad).toBeInstanceOf(Anthropic.BadRequestError);
    expect((bad as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    expect((bad as InstanceType<typeof Anthropic.APIError>).message).toContain('no-such-model');

    t.upstream.enqueue('anthropic', { status: 529 }, { status: 529 });
    const overloaded = await t.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).status).toBe(529);
    expect((overloaded as InstanceType<typeof Anthropic.APIError>).error).toMatchObject({ type: 'error', error: { type: 'overloaded_error' } });
    await t.nextTraces(2);
  });

  it('sets anthropic-version when the client sent none', async () => {
    const res = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': LOCAL_KEY, 'content-type': 'application/json' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'raw' }] }),
    });
    expect(res.status).toBe(200);
    expect(t.upstream.requests.at(-1)!.headers['anthropic-version']).toBe('2023-06-01');
    await t.nextTraces();
  });

});
