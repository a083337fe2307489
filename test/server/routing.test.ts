import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import type { Attempt } from '../../src/shared/trace.js';
import { providerErrorBody } from '../support/wire-upstream.js';
import { rawPost, startTestGateway, testPolicy, type ProfileOverrides, type TestGateway } from '../support/gateway-harness.js';

/**
 * Routing through the gateway: aliases, fallback before the first byte, retries with Retry-After,
 * the circuit breaker and the overall deadline. Each describe gets its own gateway, so breaker
 * state and routing settings never leak between them.
 */

const SMART = { smart: ['anthropic/claude-sonnet-4-5', 'openai/gpt-4.1'] };

function useGateway(profile: ProfileOverrides, env?: NodeJS.ProcessEnv): () => TestGateway {
  let t: TestGateway | undefined;
  beforeAll(async () => {
    t = await startTestGateway({ profile, env });
  });
  afterAll(async () => {
    await t?.close();
  });
  beforeEach(() => {
    t!.upstream.reset();
    t!.drainTraces();
  });
  return () => t!;
}

/** The parts of an attempt a test states (durations vary). */
function brief(a: Attempt): Pick<Attempt, 'providerId' | 'model' | 'outcome' | 'status'> {
  return { providerId: a.providerId, model: a.model, outcome: a.outcome, status: a.status };
}

function ask(t: TestGateway, model: string, text = 'hello'): Promise<OpenAI.ChatCompletion> {
  return t.openai.chat.completions.create({ model, messages: [{ role: 'user', content: text }] });
}

describe('aliases and fallback before the first byte', () => {
  const gw = useGateway({
    models: { aliases: { ...SMART, fast: ['openai/gpt-4.1', 'anthropic/claude-sonnet-4-5'] }, fallbacks: { 'claude-haiku-4-5': ['openai/gpt-4.1-mini'] } },
    routing: { retries: 0, firstByteTimeoutMs: 300, breaker: { failures: 100, coolDownMs: 300 } },
  });

  it('resolves an alias to its first target and records the decision', async () => {
    const t = gw();
    const { data, response } = await t.openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'alias me' }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe('echo: alias me');
    expect(response.headers.get('x-asc-provider')).toBe('anthropic');
    expect(response.headers.get('x-asc-model')).toBe('claude-sonnet-4-5');
    expect(t.upstream.requests.map((r) => [r.provider, r.body.model])).toEqual([['anthropic', 'claude-sonnet-4-5']]);
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ modelRequested: 'smart', providerId: 'anthropic', modelUsed: 'claude-sonnet-4-5', status: 200 });
    expect(trace!.decisions).toContainEqual(expect.objectContaining({ rule: 'alias', outcome: 'allow' }));
    expect(trace!.attempts.map(brief)).toEqual([{ providerId: 'anthropic', model: 'claude-sonnet-4-5', outcome: 'ok', status: 200 }]);
  });

  it('renames the model for a same-format alias target and keeps the rest of the body', async () => {
    const t = gw();
    const msg = await t.anthropic.messages.create({ model: 'smart', max_tokens: 16, messages: [{ role: 'user', content: 'same format' }] });
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'echo: same format' });
    expect(t.upstream.requests.at(-1)!.body).toMatchObject({ model: 'claude-sonnet-4-5', max_tokens: 16 });
    await t.nextTraces();
  });

  it('falls back from a 429 to the next target; the client sees one clean response', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { status: 429, headers: { 'retry-after': '30' } });
    const { data, response } = await t.openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'fall back' }] }).withResponse();
    expect(data.choices[0]!.message.content).toBe('echo: fall back');
    expect(response.status).toBe(200);
    expect(response.headers.get('x-asc-provider')).toBe('openai');
    expect(response.headers.get('x-asc-attempts')).toBe('anthropic/claude-sonnet-4-5=429, openai/gpt-4.1=200');
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['anthropic', 'openai']);
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map(brief)).toEqual([
      { providerId: 'anthropic', model: 'claude-sonnet-4-5', outcome: 'fallback', status: 429 },
      { providerId: 'openai', model: 'gpt-4.1', outcome: 'ok', status: 200 },
    ]);
    expect(trace!.attempts[0]!.reason).toBe('upstream 429');
    expect(trace).toMatchObject({ status: 200, providerId: 'openai', modelUsed: 'gpt-4.1', errorCode: null });
  });

  it('falls back from a 529 for a streaming Anthropic client, translating the secondary', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { status: 529 });
    const stream = t.anthropic.messages.stream({ model: 'smart', max_tokens: 64, messages: [{ role: 'user', content: 'overloaded?' }] });
    const msg = await stream.finalMessage();
    expect(msg.content[0]).toMatchObject({ type: 'text', text: 'echo: overloaded?' });
    const res = await stream.withResponse();
    expect(res.response.headers.get('x-asc-attempts')).toBe('anthropic/claude-sonnet-4-5=529, openai/gpt-4.1=200');
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map((a) => [a.providerId, a.outcome, a.status])).toEqual([
      ['anthropic', 'fallback', 529],
      ['openai', 'ok', 200],
    ]);
    expect(trace!.streamed).toBe(true);
  });

  it('falls back when the primary resets the connection', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { reset: true });
    const res = await ask(t, 'smart', 'reset');
    expect(res.choices[0]!.message.content).toBe('echo: reset');
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map(brief)).toEqual([
      { providerId: 'anthropic', model: 'claude-sonnet-4-5', outcome: 'fallback', status: null },
      { providerId: 'openai', model: 'gpt-4.1', outcome: 'ok', status: 200 },
    ]);
    expect(trace!.attempts[0]!.reason).toMatch(/Could not reach provider "anthropic"/);
  });

  it('falls back when the primary hangs past the first-byte timeout, and aborts the hung call', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { hang: true });
    const aborted = t.upstream.waitForAbort('anthropic', 3_000);
    const started = performance.now();
    const res = await ask(t, 'smart', 'hang');
    const elapsed = performance.now() - started;
    expect(res.choices[0]!.message.content).toBe('echo: hang');
    expect(elapsed).toBeGreaterThanOrEqual(290);
    expect(elapsed).toBeLessThan(800);
    expect((await aborted).aborted).toBe(true);
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map(brief)).toEqual([
      { providerId: 'anthropic', model: 'claude-sonnet-4-5', outcome: 'fallback', status: null },
      { providerId: 'openai', model: 'gpt-4.1', outcome: 'ok', status: 200 },
    ]);
    expect(trace!.attempts[0]!.reason).toMatch(/Timed out/);
  });

  it('appends models.fallbacks after the requested model', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { status: 500 });
    const res = await ask(t, 'claude-haiku-4-5', 'fallbacks');
    expect(res.choices[0]!.message.content).toBe('echo: fallbacks');
    expect(t.upstream.requests.map((r) => [r.provider, r.body.model])).toEqual([
      ['anthropic', 'claude-haiku-4-5'],
      ['openai', 'gpt-4.1-mini'],
    ]);
    await t.nextTraces();
  });

  it('passes the last upstream error through, in the client format, when every target failed', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { status: 429 });
    t.upstream.enqueue('openai', { status: 503, body: providerErrorBody('openai', 503, 'openai is down') });
    const err = await t.anthropic.messages.create({ model: 'smart', max_tokens: 16, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    const apiErr = err as InstanceType<typeof Anthropic.APIError>;
    expect(apiErr.status).toBe(503);
    expect(apiErr.error).toMatchObject({ type: 'error', error: { message: expect.stringContaining('openai is down') } });
    expect(apiErr.headers?.get('x-asc-attempts')).toBe('anthropic/claude-sonnet-4-5=429, openai/gpt-4.1=503');
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map((a) => [a.providerId, a.outcome, a.status])).toEqual([
      ['anthropic', 'fallback', 429],
      ['openai', 'error', 503],
    ]);
    expect(trace).toMatchObject({ status: 503, errorCode: 'upstream_503' });
  });

  it('answers the tried target\'s error, not a later target\'s skip reason, when all fail', async () => {
    const t = gw();
    t.upstream.enqueue('openai', { status: 503 });
    // GPT answers 503; Claude cannot take logit_bias and is skipped: the client sees the 503.
    const res = await rawPost(t.url, '/v1/chat/completions', { model: 'fast', messages: [{ role: 'user', content: 'x' }], logit_bias: { '50256': -100 } });
    expect(res.status).toBe(503);
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['openai']);
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map((a) => [a.providerId, a.outcome, a.status])).toEqual([
      ['openai', 'fallback', 503],
      ['anthropic', 'skipped', null],
    ]);
    expect(trace!.errorCode).toBe('upstream_503');
  });

  it('does not fall back on a non-retryable error, and records it as the answering attempt', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { status: 400, body: providerErrorBody('anthropic', 400, 'bad request body') });
    const err = await ask(t, 'smart').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['anthropic']);
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map((a) => [a.providerId, a.outcome, a.status])).toEqual([['anthropic', 'error', 400]]);
  });

  it('does not fall back after the first byte: the OpenAI client gets a stream error', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { failAfterEvents: 4 });
    const stream = await t.openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'a stream that will be cut off midway' }], stream: true });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toMatch(/upstream stream from "anthropic" failed/);
    expect(text.length).toBeGreaterThan(0);
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['anthropic']);
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ status: 502, errorCode: 'upstream_stream_error', providerId: 'anthropic' });
    expect(trace!.attempts.map((a) => [a.providerId, a.outcome, a.status])).toEqual([['anthropic', 'error', 200]]);
    expect(trace!.attempts[0]!.reason).toMatch(/after the first byte/);
  });

  it('does not fall back after the first byte: the Anthropic SDK throws an APIError from the error event', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { failAfterEvents: 3 });
    const stream = t.anthropic.messages.stream({ model: 'smart', max_tokens: 64, messages: [{ role: 'user', content: 'cut me off' }] });
    const err = await stream.finalMessage().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).message).toContain('upstream stream from \\"anthropic\\" failed');
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['anthropic']);
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ status: 502, errorCode: 'upstream_stream_error' });
    expect(trace!.attempts.map((a) => a.outcome)).toEqual(['error']);
  });

  it('skips a target whose request cannot be translated and serves the next one', async () => {
    const t = gw();
    // logit_bias cannot be carried to Claude; GPT takes it as is.
    const res = await t.openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'bias' }], logit_bias: { '50256': -100 } });
    expect(res.choices[0]!.message.content).toBe('echo: bias');
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['openai']);
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map((a) => [a.providerId, a.outcome])).toEqual([
      ['anthropic', 'skipped'],
      ['openai', 'ok'],
    ]);
    expect(trace!.attempts[0]!.reason).toContain('logit_bias');
  });
});

describe('retries on the same target', () => {
  const gw = useGateway({ routing: { retries: 2, timeoutMs: 5_000, breaker: { failures: 100, coolDownMs: 300 } } });

  it('waits for Retry-After (seconds) before retrying', async () => {
    const t = gw();
    t.upstream.enqueue('openai', { status: 429, headers: { 'retry-after': '1' } });
    const started = performance.now();
    const res = await ask(t, 'gpt-4.1', 'retry after');
    const elapsed = performance.now() - started;
    expect(res.choices[0]!.message.content).toBe('echo: retry after');
    expect(elapsed).toBeGreaterThanOrEqual(950);
    expect(elapsed).toBeLessThan(2_000);
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map(brief)).toEqual([
      { providerId: 'openai', model: 'gpt-4.1', outcome: 'retry', status: 429 },
      { providerId: 'openai', model: 'gpt-4.1', outcome: 'ok', status: 200 },
    ]);
  });

  it('prefers retry-after-ms over retry-after', async () => {
    const t = gw();
    t.upstream.enqueue('openai', { status: 429, headers: { 'retry-after-ms': '300', 'retry-after': '1' } }, { status: 503, headers: { 'retry-after-ms': '200' } });
    const started = performance.now();
    const res = await ask(t, 'gpt-4.1', 'retry after ms');
    const elapsed = performance.now() - started;
    expect(res.choices[0]!.message.content).toBe('echo: retry after ms');
    expect(elapsed).toBeGreaterThanOrEqual(480);
    expect(elapsed).toBeLessThan(950);
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['retry', 429],
      ['retry', 503],
      ['ok', 200],
    ]);
  });

  it('retries a streaming request that failed before its first byte', async () => {
    const t = gw();
    t.upstream.enqueue('openai', { status: 500, headers: { 'retry-after-ms': '10' } });
    const stream = await t.openai.chat.completions.create({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'stream retry' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: stream retry');
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.map((a) => [a.outcome, a.status])).toEqual([
      ['retry', 500],
      ['ok', 200],
    ]);
  });
});

describe('the overall deadline (routing.timeoutMs)', () => {
  const gw = useGateway({
    models: { aliases: SMART },
    routing: { retries: 10, timeoutMs: 700, firstByteTimeoutMs: 5_000, breaker: { failures: 100, coolDownMs: 300 } },
  });

  it('stops retrying once the next wait would pass the deadline', async () => {
    const t = gw();
    for (let i = 0; i < 11; i++) t.upstream.enqueue('openai', { status: 503, headers: { 'retry-after-ms': '250' } });
    const started = performance.now();
    const res = await rawPost(t.url, '/v1/chat/completions', { model: 'gpt-4.1', messages: [{ role: 'user', content: 'x' }] });
    const elapsed = performance.now() - started;
    expect(res.status).toBe(503);
    expect(elapsed).toBeLessThan(900);
    const [trace] = await t.nextTraces();
    expect(trace!.attempts.length).toBeGreaterThanOrEqual(2);
    expect(trace!.attempts.length).toBeLessThanOrEqual(3);
    expect(trace!.attempts.at(-1)!.outcome).toBe('error');
  });

  it('bounds a hanging upstream and gives the later targets no time it does not have', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { hang: true });
    const started = performance.now();
    const res = await rawPost(t.url, '/v1/chat/completions', { model: 'smart', messages: [{ role: 'user', content: 'x' }] });
    const elapsed = performance.now() - started;
    expect(elapsed).toBeGreaterThanOrEqual(650);
    expect(elapsed).toBeLessThan(1_200);
    expect(res.status).toBe(504);
    const body = (await res.json()) as { error: { message: string } };
    expect(body.error.message).toMatch(/routing deadline/);
    // The secondary is never called once the deadline has passed.
    expect(t.upstream.requests.filter((r) => r.provider === 'openai')).toHaveLength(0);
    const [trace] = await t.nextTraces();
    expect(trace!.attempts[0]).toMatchObject({ providerId: 'anthropic', status: null });
    expect(trace!.attempts.at(-1)).toMatchObject({ providerId: 'openai', outcome: 'skipped', reason: expect.stringMatching(/deadline/) });
  });
});

describe('the idle-stream timeout (routing.idleTimeoutMs)', () => {
  const gw = useGateway({ routing: { retries: 0, idleTimeoutMs: 300, breaker: { failures: 100, coolDownMs: 300 } } });

  it('ends a stream whose upstream stops sending: the client gets an error event, the upstream call is closed', async () => {
    const t = gw();
    // The first event comes at once, the next after 3 s: far past the 300 ms idle budget.
    t.upstream.enqueue('openai', { chunkDelayMs: 3_000 });
    const aborted = t.upstream.waitForAbort('openai', 5_000);
    const started = performance.now();
    const stream = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'a stream that stalls' }], stream: true });
    const err = await (async () => {
      for await (const _ of stream) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toMatch(/stopped sending in the middle of its response/);
    // undici checks body timeouts under 1 s with a precise timer.
    expect(performance.now() - started).toBeLessThan(2_000);
    expect((await aborted).aborted).toBe(true);
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ status: 502, errorCode: 'upstream_stream_error', providerId: 'openai' });
    expect(trace!.attempts[0]!.reason).toMatch(/after the first byte: .*stopped sending/);
  });
});

describe('circuit breakers per tenant', () => {
  // Two profiles name the same provider ids; only the active one opens after a single failure.
  let t: TestGateway;
  beforeAll(async () => {
    t = await startTestGateway({
      policy: (upstream) =>
        testPolicy(upstream, { models: { aliases: SMART }, routing: { retries: 0, breaker: { failures: 1, coolDownMs: 60_000 } } }, [
          {
            tenant: 'other',
            version: 1,
            providers: [
              { id: 'openai', kind: 'openai', baseUrl: upstream.baseUrls.openai, region: 'us' },
              { id: 'anthropic', kind: 'anthropic', baseUrl: upstream.baseUrls.anthropic, region: 'us' },
            ],
            models: { aliases: SMART },
            routing: { retries: 0, breaker: { failures: 100, coolDownMs: 60_000 } },
          },
        ]),
    });
  });
  afterAll(async () => {
    await t.close();
  });

  it("keeps each profile's own breaker and thresholds for a provider id they share", async () => {
    t.upstream.reset();
    t.upstream.enqueue('anthropic', { status: 500 });
    await ask(t, 'smart', 'opens the active profile breaker');
    t.upstream.enqueue('anthropic', { status: 500 });
    const other = new OpenAI({ apiKey: t.openai.apiKey, baseURL: t.openai.baseURL, defaultHeaders: { 'x-asc-tenant': 'other' }, maxRetries: 0 });
    await other.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'fails once under other' }] });
    t.upstream.reset();
    await ask(t, 'smart', 'active: anthropic skipped');
    await other.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'other: anthropic still tried' }] });
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['openai', 'anthropic']);
    const traces = await t.nextTraces(4);
    expect(traces[2]!.attempts[0]).toMatchObject({ providerId: 'anthropic', outcome: 'skipped', reason: 'circuit open' });
    expect(traces[3]).toMatchObject({ tenant: 'other', providerId: 'anthropic', status: 200 });
  });
});

describe('circuit breaker', () => {
  const gw = useGateway({
    models: { aliases: SMART },
    routing: { retries: 0, firstByteTimeoutMs: 2_000, breaker: { failures: 2, coolDownMs: 300 } },
  });
  const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

  it('opens after N consecutive failures, skips the provider, then lets one trial through and closes on success', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { status: 500 }, { status: 500 });
    await ask(t, 'smart', 'one');
    await ask(t, 'smart', 'two');
    const [first, second] = await t.nextTraces(2);
    expect(first!.attempts.map((a) => [a.providerId, a.outcome])).toEqual([
      ['anthropic', 'fallback'],
      ['openai', 'ok'],
    ]);
    expect(second!.attempts.map((a) => [a.providerId, a.outcome])).toEqual([
      ['anthropic', 'fallback'],
      ['openai', 'ok'],
    ]);

    // Open: anthropic is not called at all.
    t.upstream.reset();
    const { response } = await t.openai.chat.completions.create({ model: 'smart', messages: [{ role: 'user', content: 'three' }] }).withResponse();
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['openai']);
    expect(response.headers.get('x-asc-attempts')).toBe('anthropic/claude-sonnet-4-5=skipped, openai/gpt-4.1=200');
    const [third] = await t.nextTraces();
    expect(third!.attempts[0]).toMatchObject({ providerId: 'anthropic', outcome: 'skipped', status: null, reason: 'circuit open' });

    // After the cool-down: half-open, one trial goes through and closes the breaker.
    await sleep(350);
    t.upstream.reset();
    const trial = await ask(t, 'smart', 'trial');
    expect(trial.choices[0]!.message.content).toBe('echo: trial');
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['anthropic']);
    const [fourth] = await t.nextTraces();
    expect(fourth!.attempts.map((a) => [a.providerId, a.outcome])).toEqual([['anthropic', 'ok']]);

    // Closed again: one failure is not enough to open it.
    t.upstream.enqueue('anthropic', { status: 500 });
    await ask(t, 'smart', 'five');
    await ask(t, 'smart', 'six');
    const [, sixth] = await t.nextTraces(2);
    expect(sixth!.attempts.map((a) => [a.providerId, a.outcome])).toEqual([['anthropic', 'ok']]);
  });

  it('reopens when the half-open trial fails', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { status: 500 }, { status: 500 });
    await ask(t, 'smart');
    await ask(t, 'smart');
    await sleep(350);
    t.upstream.enqueue('anthropic', { status: 503 });
    await ask(t, 'smart', 'trial fails');
    t.upstream.reset();
    await ask(t, 'smart', 'still open');
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['openai']);
    const traces = await t.nextTraces(4);
    expect(traces[2]!.attempts.map((a) => [a.providerId, a.outcome])).toEqual([
      ['anthropic', 'fallback'],
      ['openai', 'ok'],
    ]);
    expect(traces[3]!.attempts[0]).toMatchObject({ outcome: 'skipped', reason: 'circuit open' });
    // Let it cool down and close, so the next test starts clean.
    await sleep(350);
    await ask(t, 'smart');
    await t.nextTraces();
  });

  it('does not strand the half-open trial when the client goes away during it', async () => {
    const t = gw();
    t.upstream.enqueue('anthropic', { status: 500 }, { status: 500 });
    await ask(t, 'smart');
    await ask(t, 'smart');
    await t.nextTraces(2);
    await sleep(350);

    // The trial: a slow stream the client abandons.
    t.upstream.enqueue('anthropic', { chunkDelayMs: 200 });
    const controller = new AbortController();
    const stream = await t.openai.chat.completions.create(
      { model: 'smart', messages: [{ role: 'user', content: 'a slow trial stream that gets abandoned' }], stream: true },
      { signal: controller.signal },
    );
    await (async () => {
      for await (const _ of stream) controller.abort();
    })().catch(() => {});
    await t.upstream.waitForAbort('anthropic', 3_000);
    const [abandoned] = await t.nextTraces();
    expect(abandoned!.status).toBe(499);

    // The breaker must not wait forever for that trial's verdict.
    t.upstream.reset();
    await ask(t, 'smart', 'after abandon');
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['anthropic']);
    await t.nextTraces();
  });
});

describe('a target without a credential', () => {
  const gw = useGateway({ models: { aliases: SMART }, routing: { retries: 0, breaker: { failures: 1, coolDownMs: 60_000 } } }, { ANTHROPIC_API_KEY: '' });

  it('is skipped for the next target, without counting against its breaker', async () => {
    const t = gw();
    for (let i = 0; i < 2; i++) {
      const res = await ask(t, 'smart', `no key ${i}`);
      expect(res.choices[0]!.message.content).toBe(`echo: no key ${i}`);
    }
    expect(t.upstream.requests.map((r) => r.provider)).toEqual(['openai', 'openai']);
    const traces = await t.nextTraces(2);
    for (const trace of traces) {
      // With failures: 1, a breaker verdict on the first request would show "circuit open" on the second.
      expect(trace.attempts.map((a) => [a.providerId, a.outcome, a.reason ?? null])).toEqual([
        ['anthropic', 'skipped', 'no credential'],
        ['openai', 'ok', null],
      ]);
    }
  });

  it('answers the missing-credential error when it was the only target', async () => {
    const t = gw();
    const err = await t.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 8, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(t.upstream.requests).toHaveLength(0);
    const [trace] = await t.nextTraces();
    expect(trace!.errorCode).toBe('missing_credential');
  });
});
