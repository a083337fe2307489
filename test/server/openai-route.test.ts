import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { LOCAL_KEY, PROVIDER_SECRETS, rawPost, type TestGateway, useTestGateway } from '../support/gateway-harness.js';

let t: TestGateway;
useTestGateway((g) => (t = g));

describe('OpenAI chat completions through the gateway (official openai SDK)', () => {
  it('answers a JSON chat completion and sends the provider key upstream, never the local key', async () => {
    const res = await t.openai.chat.completions
      .create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hello there' }] })
      .withResponse();
    expect(res.data.choices[0]!.message.content).toBe('echo: hello there');
    expect(res.response.headers.get('x-asc-provider')).toBe('openai');
    expect(res.response.headers.get('x-asc-model')).toBe('gpt-4.1-mini');
    expect(res.response.headers.get('x-asc-request-id')).toMatch(/^[0-9a-f-]{36}$/);

    const seen = t.upstream.requests.at(-1)!;
    expect(seen.provider).toBe('openai');
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.headers.authorization).toBe(`Bearer ${PROVIDER_SECRETS.openai}`);
    expect(JSON.stringify(seen.headers)).not.toContain(LOCAL_KEY);

    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ route: 'openai.chat', providerId: 'openai', modelUsed: 'gpt-4.1-mini', status: 200, streamed: false, tenant: 'test', profileVersion: 1 });
    expect(trace!.usage.inputTokens).toBe(res.data.usage!.prompt_tokens);
    expect(trace!.usage.outputTokens).toBe(res.data.usage!.completion_tokens);
  });

  it('forwards an unchanged body byte for byte', async () => {
    const body = '{"model":"gpt-4.1-mini",  "messages":[{"role":"user","content":"bytes"}], "x_future_field": {"keep": true}}';
    const res = await rawPost(t.url, '/v1/chat/completions', body);
    expect(res.status).toBe(200);
    expect(t.upstream.requests.at(-1)!.rawBody).toBe(body);
    await t.nextTraces();
  });

  it('streams chunk by chunk, hides the usage chunk it asked for, and records usage and TTFT', async () => {
    const stream = await t.openai.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'stream me a few words please' }],
      stream: true,
    });
    let text = '';
    let sawUsage = false;
    let sawEmptyChoices = false;
    for await (const chunk of stream) {
      text += chunk.choices[0]?.delta.content ?? '';
      if (chunk.usage) sawUsage = true;
      if (chunk.choices.length === 0) sawEmptyChoices = true;
    }
    expect(text).toBe('echo: stream me a few words please');
    expect(sawUsage).toBe(false);
    expect(sawEmptyChoices).toBe(false);
    // The gateway asked the upstream for usage on the client's behalf.
    expect(t.upstream.requests.at(-1)!.body.stream_options).toEqual({ include_usage: true });
    const [trace] = await t.nextTraces();
    expect(trace!.streamed).toBe(true);
    expect(trace!.usage.inputTokens).toBeGreaterThan(0);
    expect(trace!.usage.outputTokens).toBeGreaterThan(0);
    expect(trace!.ttftMs).not.toBeNull();
    expect(trace!.ttftMs!).toBeLessThanOrEqual(trace!.latencyMs);
  });

  it('keeps the usage chunk when the client asked for it', async () => {
    const stream = await t.openai.chat.completions.create({
      model: 'gpt-4.1-mini',
      messages: [{ role: 'user', content: 'usage please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    let usage: OpenAI.CompletionUsage | null | undefined;
    for await (const chunk of stream) if (chunk.usage) usage = chunk.usage;
    expect(usage?.completion_tokens).toBeGreaterThan(0);
    const [trace] = await t.nextTraces();
    expect(trace!.usage.outputTokens).toBe(usage!.completion_tokens);
  });

  it('sends the stream with SSE framing and the gateway headers', async () => {
    const res = await rawPost(t.url, '/v1/chat/completions', { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hi' }], stream: true });
    expect(res.headers.get('content-type')).toContain('text/event-stream');
    expect(res.headers.get('x-asc-provider')).toBe('openai');
    const text = await res.text();
    expect(text.trimEnd().endsWith('data: [DONE]')).toBe(true);
    expect(text).not.toContain('"choices":[]');
    await t.nextTraces();
  });

  it('records cached prompt tokens from the usage details', async () => {
    const res = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'long prompt [cached:12]' }] });
    expect(res.usage?.prompt_tokens_details?.cached_tokens).toBe(12);
    const [trace] = await t.nextTraces();
    expect(trace!.usage.cachedInputTokens).toBe(12);
  });
});

describe('other OpenAI routes', () => {
  it('lists the models the active profile allows, in OpenAI list format', async () => {
    const page = await t.openai.models.list();
    const ids = page.data.map((m) => m.id);
    expect(ids).toContain('gpt-4.1');
    expect(ids).toContain('claude-sonnet-4-5');
    expect(page.data[0]).toMatchObject({ object: 'model' });
  });

  it('serves embeddings', async () => {
    const res = await t.openai.embeddings.create({ model: 'text-embedding-3-small', input: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    expect(res.data[0]!.embedding.length).toBeGreaterThan(0);
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ route: 'openai.embeddings', providerId: 'openai', status: 200 });
  });

  it('passes the Responses API through, JSON and streaming', async () => {
    const json = await t.openai.responses.create({ model: 'gpt-4.1', input: 'codex says hi' });
    expect(json.output_text).toContain('codex says hi');
    const stream = await t.openai.responses.create({ model: 'gpt-4.1', input: 'stream it', stream: true });
    let deltas = '';
    let completed = false;
    for await (const ev of stream) {
      if (ev.type === 'response.output_text.delta') deltas += ev.delta;
      if (ev.type === 'response.completed') completed = true;
    }
    expect(deltas).toContain('stream it');
    expect(completed).toBe(true);
    const traces = await t.nextTraces(2);
    expect(traces[1]!.usage.outputTokens).toBeGreaterThan(0);
    expect(traces[1]!.route).toBe('openai.responses');
  });
});

describe('upstream errors', () => {
  it('passes a 4xx through with its status and body', async () => {
    t.upstream.enqueue('openai', { status: 400, body: { error: { message: 'bad temperature', type: 'invalid_request_error', param: 'temperature', code: null } } });
    const err = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('bad temperature');
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ status: 400, errorCode: 'upstream_400', providerId: 'openai' });
  });

  it('passes a 5xx through once retries are exhausted', async () => {
    const body = { error: { message: 'The server had an error', type: 'server_error', param: null, code: null } };
    t.upstream.enqueue('openai', { status: 500, body }, { status: 500, body });
    const err = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.InternalServerError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('The server had an error');
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map((a) => a.status)).toEqual([500, 500]);
  });

  it('delivers each event as the upstream sends it, never holding the stream back', async () => {
    t.upstream.enqueue('openai', { chunkDelayMs: 120 });
    const started = performance.now();
    const stream = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'one two three four' }], stream: true });
    const arrivals: number[] = [];
    for await (const chunk of stream) if (chunk.choices[0]?.delta.content) arrivals.push(performance.now() - started);
    expect(arrivals.length).toBeGreaterThanOrEqual(3);
    // Consecutive content events arrive about one upstream gap apart, not in one burst at the end.
    for (let i = 1; i < arrivals.length; i++) expect(arrivals[i]! - arrivals[i - 1]!).toBeGreaterThan(60);
    await t.nextTraces();
  });

  it('keeps every byte in order for a client that stops reading for a while (backpressure)', async () => {
    // 8 MB of events: far more than the socket buffers hold, so the gateway must wait for the client.
    const piece = 'x'.repeat(20_000);
    const events = Array.from({ length: 400 }, (_, i) => ({
      data: JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: { content: `${i}:${piece}` }, finish_reason: null }] }),
    }));
    events.push({ data: JSON.stringify({ id: 'c1', object: 'chat.completion.chunk', choices: [{ index: 0, delta: {}, finish_reason: 'stop' }] }) }, { data: '[DONE]' });
    t.upstream.enqueue('openai', { sse: events });
    const res = await rawPost(t.url, '/v1/chat/completions', { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'big' }], stream: true, stream_options: { include_usage: true } });
    const reader = res.body!.getReader();
    const first = await reader.read();
    await new Promise((r) => setTimeout(r, 300));
    const parts: Uint8Array[] = first.value ? [first.value] : [];
    for (let r = await reader.read(); !r.done; r = await reader.read()) parts.push(r.value);
    const text = Buffer.concat(parts).toString('utf8');
    const contents = text
      .split('\n\n')
      .filter((e) => e.startsWith('data: {'))
      .map((e) => (JSON.parse(e.slice(6)) as { choices: { delta: { content?: string } }[] }).choices[0]?.delta.content)
      .filter((c): c is string => c !== undefined);
    expect(contents).toEqual(Array.from({ length: 400 }, (_, i) => `${i}:${piece}`));
    expect(text.endsWith('data: [DONE]\n\n')).toBe(true);
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ status: 200, streamed: true });
  });

  it('aborts the upstream request at once when the client disconnects', async () => {
    t.upstream.enqueue('openai', { chunkDelayMs: 300 });
    const controller = new AbortController();
    const stream = await t.openai.chat.completions.create(
      { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'a slow stream of many words to abort' }], stream: true },
      { signal: controller.signal },
    );
    const aborted = t.upstream.waitForAbort('openai', 5_000);
    const started = Date.now();
    // The SDK ends iteration quietly on abort (or throws an abort error): either way the socket closes.
    await (async () => {
      for await (const _ of stream) controller.abort();
    })().catch(() => {});
    const rec = await aborted;
    expect(rec.aborted).toBe(true);
    expect(Date.now() - started).toBeLessThan(1_000);
    const [trace] = await t.nextTraces();
    expect(trace!.status).toBe(499);
  });
});
