import { describe, expect, it } from 'vitest';
import { PROVIDER_SECRETS, type TestGateway, useTestGateway } from '../support/gateway-harness.js';

let t: TestGateway;
useTestGateway((g) => (t = g));

describe('Mistral through the gateway (official @mistralai/mistralai SDK)', () => {
  it('answers chat.complete with the Mistral key upstream', async () => {
    const res = await t.mistral.chat.complete({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'bonjour' }] });
    expect(res.choices?.[0]?.message?.content).toBe('echo: bonjour');
    const seen = t.upstream.requests.at(-1)!;
    expect(seen.provider).toBe('mistral');
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.headers.authorization).toBe(`Bearer ${PROVIDER_SECRETS.mistral}`);
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ providerId: 'mistral', providerRegion: 'eu', status: 200 });
    expect(trace!.usage.outputTokens).toBeGreaterThan(0);
  });

  it('streams chat and records usage from the last chunk', async () => {
    const stream = await t.mistral.chat.stream({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'stream in french' }] });
    let text = '';
    for await (const ev of stream) text += (ev.data.choices[0]?.delta.content as string | undefined) ?? '';
    expect(text).toBe('echo: stream in french');
    const [trace] = await t.nextTraces();
    expect(trace!.streamed).toBe(true);
    expect(trace!.usage.outputTokens).toBeGreaterThan(0);
  });

  it('serves FIM completions for Codestral, JSON and streaming', async () => {
    const res = await t.mistral.fim.complete({ model: 'codestral-latest', prompt: 'def add(a, b):', suffix: 'return c' });
    expect(res.choices?.[0]?.message?.content).toBeTruthy();
    expect(t.upstream.requests.at(-1)!.path).toBe('/v1/fim/completions');
    const stream = await t.mistral.fim.stream({ model: 'codestral-latest', prompt: 'def sub(a, b):' });
    let chunks = 0;
    for await (const _ of stream) chunks++;
    expect(chunks).toBeGreaterThan(0);
    const traces = await t.nextTraces(2);
    expect(traces.map((x) => x.route)).toEqual(['mistral.fim', 'mistral.fim']);
  });

  it('serves embeddings', async () => {
    const res = await t.mistral.embeddings.create({ model: 'mistral-embed', inputs: ['a', 'b'] });
    expect(res.data).toHaveLength(2);
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ route: 'openai.embeddings', providerId: 'mistral' });
  });

  it('serves mistral-embed to the OpenAI SDK, whose default base64 encoding Mistral also speaks', async () => {
    const viaOpenAi = await t.openai.embeddings.create({ model: 'mistral-embed', input: ['a', 'b'] });
    const viaMistral = await t.mistral.embeddings.create({ model: 'mistral-embed', inputs: ['a', 'b'] });
    expect(t.upstream.requests.at(-2)!.body).toMatchObject({ model: 'mistral-embed', encoding_format: 'base64' });
    expect(viaOpenAi.data.map((d) => d.embedding.length)).toEqual([8, 8]);
    // Same vectors whichever SDK asked: the base64 floats decode to what Mistral's SDK gets as JSON numbers.
    viaOpenAi.data.forEach((d, i) => d.embedding.forEach((x, j) => expect(x).toBeCloseTo(viaMistral.data[i]!.embedding![j]!, 5)));
    const traces = await t.nextTraces(2);
    expect(traces.map((x) => [x.route, x.providerId, x.status])).toEqual([['openai.embeddings', 'mistral', 200], ['openai.embeddings', 'mistral', 200]]);
  });

  it('refuses FIM for a model whose provider has no FIM endpoint', async () => {
    const err = await t.mistral.fim.complete({ model: 'gpt-4.1', prompt: 'x' }).catch((e: unknown) => e);
    expect(String(err)).toContain('cannot serve /v1/fim/completions');
    await t.nextTraces();
  });
});
