/**
 * The wire upstream is only useful if it speaks the providers' real formats. These tests point the
 * official SDKs straight at it: if the SDKs parse, assemble and raise errors as they do against the
 * real APIs, the gateway's integration tests exercise real shapes.
 */
import Anthropic, { OverloadedError, AuthenticationError as AnthropicAuthError } from '@anthropic-ai/sdk';
import { Mistral } from '@mistralai/mistralai';
import { MistralError } from '@mistralai/mistralai/models/errors';
import OpenAI from 'openai';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';

import { providerErrorBody, startWireUpstream, type WireUpstream } from '../support/wire-upstream.js';

let upstream: WireUpstream;

beforeAll(async () => {
  upstream = await startWireUpstream();
});
afterEach(() => {
  upstream.reset();
  upstream.setDefaultDelay(0);
});
afterAll(async () => {
  await upstream.close();
});

const openai = () => new OpenAI({ apiKey: 'sk-test-openai', baseURL: upstream.baseUrls.openai, maxRetries: 0 });
const anthropic = () => new Anthropic({ apiKey: 'sk-ant-test', baseURL: upstream.baseUrls.anthropic, maxRetries: 0 });
const mistral = () => new Mistral({ apiKey: 'mistral-test', serverURL: upstream.baseUrls.mistral, retryConfig: { strategy: 'none' } });

const searchTool = {
  type: 'function' as const,
  function: { name: 'search', description: 'Search the docs', parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] } },
};

describe('OpenAI wire format', () => {
  it('answers chat completions as a chat.completion object with usage and cached tokens', async () => {
    const completion = await openai().chat.completions.create({
      model: 'gpt-4o-mini',
      messages: [
        { role: 'system', content: 'Be brief.' },
        { role: 'user', content: 'Hello upstream [cached:64]' },
      ],
    });
    expect(completion.object).toBe('chat.completion');
    expect(completion.id).toMatch(/^chatcmpl-[A-Za-z0-9]{29}$/);
    expect(completion.model).toBe('gpt-4o-mini');
    expect(completion.choices[0]?.message).toMatchObject({ role: 'assistant', content: 'echo: Hello upstream [cached:64]' });
    expect(completion.choices[0]?.finish_reason).toBe('stop');
    expect(completion.usage?.prompt_tokens_details?.cached_tokens).toBe(64);
    expect(completion.usage!.prompt_tokens).toBeGreaterThan(64);
    expect(completion.usage!.total_tokens).toBe(completion.usage!.prompt_tokens + completion.usage!.completion_tokens);
  });

  it('streams chat chunks without usage unless include_usage is set', async () => {
    const stream = await openai().chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      messages: [{ role: 'user', content: 'one two three four five six seven' }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    expect(chunks.length).toBeGreaterThan(3);
    expect(chunks.every((c) => c.object === 'chat.completion.chunk' && c.usage == null)).toBe(true);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('echo: one two three four five six seven');
    expect(chunks.at(-1)?.choices[0]?.finish_reason).toBe('stop');
  });

  it('ends an include_usage stream with a usage chunk whose choices are empty, then [DONE]', async () => {
    const stream = await openai().chat.completions.create({
      model: 'gpt-4o',
      stream: true,
      stream_options: { include_usage: true },
      messages: [{ role: 'user', content: 'count me [cached:10]' }],
    });
    const chunks = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage?.prompt_tokens_details?.cached_tokens).toBe(10);
    expect(last.usage?.completion_tokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === null)).toBe(true);

    const raw = await fetch(`${upstream.baseUrls.openai}/chat/completions`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', authorization: 'Bearer x' },
      body: JSON.stringify({ model: 'gpt-4o', stream: true, stream_options: { include_usage: true }, messages: [{ role: 'user', content: 'hi' }] }),
    }).then((r) => r.text());
    expect(raw.trimEnd().endsWith('data: [DONE]')).toBe(true);
  });

  it('streams tool calls in argument fragments that the SDK assembles', async () => {
    const runner = openai().chat.completions.stream({
      model: 'gpt-4o',
      tools: [searchTool],
      messages: [{ role: 'user', content: 'find the refund policy' }],
    });
    const fragments: string[] = [];
    runner.on('chunk', (chunk) => {
      for (const call of chunk.choices[0]?.delta.tool_calls ?? []) if (call.function?.arguments) fragments.push(call.function.arguments);
    });
    const final = await runner.finalChatCompletion();
    const choice = final.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(fragments.length).toBeGreaterThan(1);
    const call = choice.message.tool_calls?.[0];
    expect(call?.type).toBe('function');
    if (call?.type !== 'function') throw new Error('expected a function tool call');
    expect(call.id).toMatch(/^call_/);
    expect(call.function.name).toBe('search');
    expect(JSON.parse(call.function.arguments)).toEqual({ query: 'find the refund policy' });
  });

  it('calls the first tool twice for [parallel] and answers tool results with text', async () => {
    const client = openai();
    const first = await client.chat.completions.create({ model: 'gpt-4o', tools: [searchTool], messages: [{ role: 'user', content: 'two lookups [parallel]' }] });
    const calls = first.choices[0]?.message.tool_calls ?? [];
    expect(calls).toHaveLength(2);
    expect(new Set(calls.map((c) => c.id)).size).toBe(2);

    const second = await client.chat.completions.create({
      model: 'gpt-4o',
      tools: [searchTool],
      messages: [
        { role: 'user', content: 'two lookups [parallel]' },
        first.choices[0]!.message,
        { role: 'tool', tool_call_id: calls[0]!.id, content: 'refunds within 30 days' },
      ],
    });
    expect(second.choices[0]?.message.content).toBe('result: refunds within 30 days');
    expect(second.choices[0]?.finish_reason).toBe('stop');
  });

  it('truncates at max_tokens with finish_reason length', async () => {
    const completion = await openai().chat.completions.create({
      model: 'gpt-4o',
      max_completion_tokens: 2,
      messages: [{ role: 'user', content: 'a fairly long sentence that will not fit' }],
    });
    expect(completion.choices[0]?.finish_reason).toBe('length');
    expect(completion.choices[0]?.message.content).toBe('echo: a ');
  });

  it('returns deterministic embeddings, float and base64 (the SDK default)', async () => {
    const client = openai();
    const viaBase64 = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'] });
    const viaFloat = await client.embeddings.create({ model: 'text-embedding-3-small', input: ['alpha', 'beta'], encoding_format: 'float' });
    expect(upstream.requests[0]?.body.encoding_format).toBe('base64');
    expect(viaBase64.object).toBe('list');
    expect(viaBase64.data).toHaveLength(2);
    expect(viaBase64.data[0]?.embedding).toHaveLength(8);
    expect(viaBase64.data[0]?.embedding).toEqual(viaFloat.data[0]?.embedding);
    expect(viaBase64.data[0]?.embedding).not.toEqual(viaBase64.data[1]?.embedding);
    expect(viaBase64.usage.prompt_tokens).toBeGreaterThan(0);
    const dims = await client.embeddings.create({ model: 'text-embedding-3-large', input: 'x', dimensions: 16, encoding_format: 'float' });
    expect(dims.data[0]?.embedding).toHaveLength(16);
  });

  it('lists models', async () => {
    const ids: string[] = [];
    for await (const model of openai().models.list()) ids.push(model.id);
    expect(ids).toContain('gpt-4o');
    expect(upstream.requests[0]).toMatchObject({ method: 'GET', path: '/v1/models' });
  });

  it('answers the Responses API as JSON', async () => {
    const response = await openai().responses.create({ model: 'gpt-4.1', instructions: 'Be brief.', input: 'What is ASC? [cached:5]' });
    expect(response.object).toBe('response');
    expect(response.id).toMatch(/^resp_/);
    expect(response.status).toBe('completed');
    expect(response.output_text).toBe('echo: What is ASC? [cached:5]');
    expect(response.usage?.input_tokens_details.cached_tokens).toBe(5);
    expect(response.usage?.total_tokens).toBe(response.usage!.input_tokens + response.usage!.output_tokens);
  });

  it('streams the Responses API event sequence', async () => {
    const stream = openai().responses.stream({ model: 'gpt-4.1', input: [{ role: 'user', content: 'stream this reply please' }] });
    const types: string[] = [];
    const deltas: string[] = [];
    stream.on('event', (e) => {
      types.push(e.type);
      if (e.type === 'response.output_text.delta') deltas.push(e.delta);
    });
    const final = await stream.finalResponse();
    expect(types[0]).toBe('response.created');
    expect(types).toContain('response.output_item.added');
    expect(types).toContain('response.content_part.added');
    expect(types).toContain('response.output_text.done');
    expect(types.at(-1)).toBe('response.completed');
    expect(deltas.length).toBeGreaterThan(1);
    expect(deltas.join('')).toBe('echo: stream this reply please');
    expect(final.output_text).toBe('echo: stream this reply please');
    expect(final.usage?.output_tokens).toBeGreaterThan(0);
  });

  it('makes Responses API function calls', async () => {
    const response = await openai().responses.create({
      model: 'gpt-4.1',
      tools: [{ type: 'function', name: 'search', parameters: { type: 'object', properties: { query: { type: 'string' } } }, strict: false }],
      input: 'look it up',
    });
    const call = response.output[0];
    expect(call?.type).toBe('function_call');
    if (call?.type !== 'function_call') throw new Error('expected a function call');
    expect(call.call_id).toMatch(/^call_/);
    expect(JSON.parse(call.arguments)).toEqual({ query: 'look it up' });
  });

  it('replies 401 in the OpenAI error format when requireAuth does not match', async () => {
    const locked = await startWireUpstream({ requireAuth: { openai: 'sk-right' } });
    try {
      const client = new OpenAI({ apiKey: 'sk-wrong-key-123', baseURL: locked.baseUrls.openai, maxRetries: 0 });
      const err = await client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'hi' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(OpenAI.AuthenticationError);
      expect((err as InstanceType<typeof OpenAI.AuthenticationError>).status).toBe(401);
      expect((err as InstanceType<typeof OpenAI.AuthenticationError>).code).toBe('invalid_api_key');
      expect((err as InstanceType<typeof OpenAI.AuthenticationError>).requestID).toMatch(/^req_/);
      const ok = new OpenAI({ apiKey: 'sk-right', baseURL: locked.baseUrls.openai, maxRetries: 0 });
      await expect(ok.models.list()).resolves.toBeDefined();
    } finally {
      await locked.close();
    }
  });

  it('answers unknown paths with 404 and invalid JSON with 400, both in the OpenAI format', async () => {
    const notFound = await fetch(`${upstream.baseUrls.openai}/nope`, { method: 'POST', body: '{}' });
    expect(notFound.status).toBe(404);
    expect(await notFound.json()).toMatchObject({ error: { type: 'invalid_request_error', message: 'Invalid URL (POST /v1/nope)' } });
    const bad = await fetch(`${upstream.baseUrls.openai}/chat/completions`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{oops' });
    expect(bad.status).toBe(400);
    expect(await bad.json()).toMatchObject({ error: { type: 'invalid_request_error', param: null, code: null } });
    expect(upstream.requests.at(-1)).toMatchObject({ rawBody: '{oops', body: undefined });
  });
});

describe('Anthropic wire format', () => {
  it('answers messages with a message object and cache usage', async () => {
    const message = await anthropic().messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 256,
      system: 'Be brief.',
      messages: [{ role: 'user', content: [{ type: 'text', text: 'Hello Claude [cached:1200]' }] }],
    });
    expect(message.type).toBe('message');
    expect(message.id).toMatch(/^msg_01[A-Za-z0-9]{22}$/);
    expect(message.model).toBe('claude-haiku-4-5');
    expect(message.content).toEqual([{ type: 'text', text: 'echo: Hello Claude [cached:1200]' }]);
    expect(message.stop_reason).toBe('end_turn');
    expect(message.usage.cache_read_input_tokens).toBe(1200);
    expect(message.usage.cache_creation_input_tokens).toBe(0);
    expect(message.usage.input_tokens).toBeGreaterThan(0);
    expect(message.usage.input_tokens).toBeLessThan(1200);
  });

  it('streams the full event sequence and the SDK assembles the final message', async () => {
    const stream = anthropic().messages.stream({ model: 'claude-haiku-4-5', max_tokens: 256, messages: [{ role: 'user', content: 'stream me some words please' }] });
    const types: string[] = [];
    stream.on('streamEvent', (e) => types.push(e.type));
    const final = await stream.finalMessage();
    expect(types[0]).toBe('message_start');
    expect(types[1]).toBe('content_block_start');
    expect(types.filter((t) => t === 'content_block_delta').length).toBeGreaterThan(1);
    expect(types.slice(-3)).toEqual(['content_block_stop', 'message_delta', 'message_stop']);
    expect(final.content).toMatchObject([{ type: 'text', text: 'echo: stream me some words please' }]);
    expect(final.stop_reason).toBe('end_turn');
    expect(final.usage.output_tokens).toBeGreaterThan(1);

    const raw = await fetch(`${upstream.baseUrls.anthropic}/v1/messages`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01', 'x-api-key': 'k' },
      body: JSON.stringify({ model: 'claude-haiku-4-5', max_tokens: 10, stream: true, messages: [{ role: 'user', content: 'hi' }] }),
    }).then((r) => r.text());
    expect(raw).toContain('event: ping\ndata: {"type":"ping"}');
  });

  it('uses tools: tool_use block, streamed input_json_delta, then text after the tool_result', async () => {
    const client = anthropic();
    const tools = [{ name: 'search', description: 'Search', input_schema: { type: 'object' as const, properties: { query: { type: 'string' } } } }];
    const stream = client.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 256, tools, messages: [{ role: 'user', content: 'where is the manual' }] });
    const partials: string[] = [];
    stream.on('streamEvent', (e) => {
      if (e.type === 'content_block_delta' && e.delta.type === 'input_json_delta') partials.push(e.delta.partial_json);
    });
    const first = await stream.finalMessage();
    expect(first.stop_reason).toBe('tool_use');
    expect(partials.filter((p) => p.length > 0).length).toBeGreaterThan(1);
    const toolUse = first.content[0];
    if (toolUse?.type !== 'tool_use') throw new Error('expected a tool_use block');
    expect(toolUse.id).toMatch(/^toolu_01/);
    expect(toolUse.name).toBe('search');
    expect(toolUse.input).toEqual({ query: 'where is the manual' });

    const second = await client.messages.create({
      model: 'claude-haiku-4-5',
      max_tokens: 256,
      tools,
      messages: [
        { role: 'user', content: 'where is the manual' },
        { role: 'assistant', content: first.content },
        { role: 'user', content: [{ type: 'tool_result', tool_use_id: toolUse.id, content: 'page 42' }] },
      ],
    });
    expect(second.content).toEqual([{ type: 'text', text: 'result: page 42' }]);
  });

  it('counts tokens consistently with messages usage, with a beta query string accepted', async () => {
    const client = anthropic();
    const params = { model: 'claude-haiku-4-5', messages: [{ role: 'user' as const, content: 'how many tokens is this?' }] };
    const counted = await client.messages.countTokens(params);
    const message = await client.messages.create({ ...params, max_tokens: 64 });
    expect(counted.input_tokens).toBe(message.usage.input_tokens);
    const beta = await client.beta.messages.countTokens(params);
    expect(beta.input_tokens).toBe(counted.input_tokens);
    expect(upstream.requests.at(-1)?.headers['anthropic-beta']).toContain('token-counting');

    const raw = await fetch(`${upstream.baseUrls.anthropic}/v1/messages/count_tokens?beta=true`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body: JSON.stringify(params),
    });
    expect(await raw.json()).toEqual({ input_tokens: counted.input_tokens });
    expect(upstream.requests.at(-1)?.path).toBe('/v1/messages/count_tokens?beta=true');
  });

  it('surfaces a scripted 529 as OverloadedError with the request-id', async () => {
    upstream.enqueue('anthropic', { status: 529 });
    const err = await anthropic()
      .messages.create({ model: 'claude-haiku-4-5', max_tokens: 10, messages: [{ role: 'user', content: 'hi' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OverloadedError);
    const apiErr = err as OverloadedError;
    expect(apiErr.status).toBe(529);
    expect(apiErr.error).toMatchObject({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });
    expect(apiErr.requestID).toMatch(/^req_011C/);
  });

  it('rejects a wrong x-api-key with authentication_error and a missing anthropic-version with 400', async () => {
    const locked = await startWireUpstream({ requireAuth: { anthropic: 'sk-ant-right' } });
    try {
      const client = new Anthropic({ apiKey: 'sk-ant-wrong', baseURL: locked.baseUrls.anthropic, maxRetries: 0 });
      const err = await client.messages.create({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(AnthropicAuthError);
      expect((err as AnthropicAuthError).error).toMatchObject({ type: 'error', error: { type: 'authentication_error' } });
      const noVersion = await fetch(`${locked.baseUrls.anthropic}/v1/messages`, { method: 'POST', headers: { 'x-api-key': 'sk-ant-right' }, body: '{}' });
      expect(noVersion.status).toBe(400);
      expect(noVersion.headers.get('request-id')).toMatch(/^req_/);
      expect(await noVersion.json()).toMatchObject({ type: 'error', error: { type: 'invalid_request_error' } });
    } finally {
      await locked.close();
    }
  });

  it('answers unknown paths with not_found_error', async () => {
    const res = await fetch(`${upstream.baseUrls.anthropic}/v1/nothing`, { method: 'POST', headers: { 'anthropic-version': '2023-06-01' }, body: '{}' });
    expect(res.status).toBe(404);
    expect(await res.json()).toMatchObject({ type: 'error', error: { type: 'not_found_error' } });
  });
});

describe('Mistral wire format', () => {
  it('answers chat completions', async () => {
    const res = await mistral().chat.complete({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'Bonjour Mistral' }] });
    expect(res.object).toBe('chat.completion');
    expect(res.id).toMatch(/^[0-9a-f]{32}$/);
    expect(res.model).toBe('mistral-small-latest');
    expect(res.choices[0]?.message?.content).toBe('echo: Bonjour Mistral');
    expect(res.choices[0]?.finishReason).toBe('stop');
    expect(res.usage.totalTokens).toBe((res.usage.promptTokens ?? 0) + (res.usage.completionTokens ?? 0));
  });

  it('streams chat with usage on the last chunk and tool calls in one chunk', async () => {
    const client = mistral();
    const stream = await client.chat.stream({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'stream a few words for me' }] });
    const chunks = [];
    for await (const event of stream) chunks.push(event.data);
    expect(chunks.length).toBeGreaterThan(2);
    expect(chunks.map((c) => c.choices[0]?.delta.content ?? '').join('')).toBe('echo: stream a few words for me');
    expect(chunks.at(-1)?.choices[0]?.finishReason).toBe('stop');
    expect(chunks.at(-1)?.usage?.completionTokens).toBeGreaterThan(0);
    expect(chunks.slice(0, -1).every((c) => c.usage === undefined)).toBe(true);

    const toolStream = await client.chat.stream({
      model: 'mistral-large-latest',
      tools: [{ type: 'function', function: { name: 'search', parameters: { type: 'object', properties: {} } } }],
      messages: [{ role: 'user', content: 'find it' }],
    });
    const toolChunks = [];
    for await (const event of toolStream) toolChunks.push(event.data);
    const last = toolChunks.at(-1)!;
    expect(last.choices[0]?.finishReason).toBe('tool_calls');
    const call = last.choices[0]?.delta.toolCalls?.[0];
    expect(call?.id).toMatch(/^[A-Za-z0-9]{9}$/);
    expect(call?.function.name).toBe('search');
    expect(JSON.parse(call?.function.arguments as string)).toEqual({ query: 'find it' });
  });

  it('completes FIM, JSON and stream', async () => {
    const client = mistral();
    const res = await client.fim.complete({ model: 'codestral-latest', prompt: 'def add(a, b):', suffix: 'return c' });
    expect(res.choices[0]?.message?.content).toBe('echo: def add(a, b): [suffix: return c]');
    expect(upstream.requests[0]).toMatchObject({ path: '/v1/fim/completions', body: { prompt: 'def add(a, b):', suffix: 'return c' } });
    const stream = await client.fim.stream({ model: 'codestral-latest', prompt: 'def add(a, b):' });
    let text = '';
    let usage: unknown;
    for await (const event of stream) {
      text += (event.data.choices[0]?.delta.content as string | undefined) ?? '';
      usage = event.data.usage ?? usage;
    }
    expect(text).toBe('echo: def add(a, b):');
    expect(usage).toMatchObject({ promptTokens: expect.any(Number), completionTokens: expect.any(Number) });
  });

  it('creates embeddings', async () => {
    const res = await mistral().embeddings.create({ model: 'mistral-embed', inputs: ['one', 'two'] });
    expect(res.object).toBe('list');
    expect(res.data).toHaveLength(2);
    expect(res.data[0]?.embedding).toHaveLength(8);
    expect(res.usage.promptTokens).toBeGreaterThan(0);
    expect(upstream.requests[0]?.body).toMatchObject({ model: 'mistral-embed', input: ['one', 'two'] });
  });

  it('rejects a wrong key with 401 in Mistral format', async () => {
    const locked = await startWireUpstream({ requireAuth: { mistral: 'm-right' } });
    try {
      const client = new Mistral({ apiKey: 'm-wrong', serverURL: locked.baseUrls.mistral, retryConfig: { strategy: 'none' } });
      const err = await client.chat.complete({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(MistralError);
      expect((err as MistralError).statusCode).toBe(401);
      expect(JSON.parse((err as MistralError).body)).toMatchObject({ message: 'Unauthorized', request_id: expect.any(String) });
    } finally {
      await locked.close();
    }
  });

  it('surfaces a scripted 429 as the SDK error with the provider body', async () => {
    upstream.enqueue('mistral', { status: 429, body: providerErrorBody('mistral', 429) });
    const err = await mistral()
      .chat.complete({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect((err as MistralError).statusCode).toBe(429);
    expect(JSON.parse((err as MistralError).body)).toMatchObject({ object: 'error', type: 'rate_limited' });
  });
});

describe('scripting and recording', () => {
  it('records requests with method, path, headers and body', async () => {
    await openai().chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'record me' }] });
    const [req] = upstream.requests;
    expect(req).toMatchObject({ provider: 'openai', method: 'POST', path: '/v1/chat/completions', aborted: false });
    expect(req?.headers.authorization).toBe('Bearer sk-test-openai');
    expect(req?.body).toMatchObject({ model: 'gpt-4o', messages: [{ role: 'user', content: 'record me' }] });
    expect(JSON.parse(req!.rawBody)).toEqual(req?.body);
  });

  it('consumes scripts in order, then resumes the default behaviour', async () => {
    upstream.enqueue('openai', { status: 500 }, { status: 429, headers: { 'retry-after': '7' } });
    const client = openai();
    const call = () => client.chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] });
    const first = await call().catch((e: unknown) => e);
    expect(first).toBeInstanceOf(OpenAI.InternalServerError);
    const second = await call().catch((e: unknown) => e);
    expect(second).toBeInstanceOf(OpenAI.RateLimitError);
    expect((second as InstanceType<typeof OpenAI.RateLimitError>).headers.get('retry-after')).toBe('7');
    expect((await call()).choices[0]?.message.content).toBe('echo: x');
  });

  it('replays a scripted SSE body, including an Anthropic error event mid-stream', async () => {
    upstream.enqueue('anthropic', {
      sse: [
        { event: 'message_start', data: JSON.stringify({ type: 'message_start', message: { id: 'msg_01x', type: 'message', role: 'assistant', model: 'c', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 1, output_tokens: 1 } } }) },
        { event: 'error', data: JSON.stringify({ type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } }) },
      ],
    });
    const err = await anthropic()
      .messages.stream({ model: 'c', max_tokens: 5, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect(String(err)).toContain('overloaded_error');
  });

  it('hangs until the client aborts, and waitForAbort reports the aborted request', async () => {
    upstream.enqueue('openai', { hang: true });
    const controller = new AbortController();
    const pending = openai()
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'wait forever' }] }, { signal: controller.signal })
      .catch((e: unknown) => e);
    await waitFor(() => upstream.requests.length === 1);
    controller.abort();
    expect(await pending).toBeInstanceOf(OpenAI.APIUserAbortError);
    const aborted = await upstream.waitForAbort('openai', 2000);
    expect(aborted.aborted).toBe(true);
    expect(aborted.body.messages[0].content).toBe('wait forever');
  });

  it('detects a client abort in the middle of a slow stream', async () => {
    upstream.enqueue('anthropic', { chunkDelayMs: 50 });
    const controller = new AbortController();
    const stream = anthropic().messages.stream(
      { model: 'c', max_tokens: 200, messages: [{ role: 'user', content: 'a b c d e f g h i j k l' }] },
      { signal: controller.signal },
    );
    const abortSeen = upstream.waitForAbort('anthropic', 3000);
    stream.on('text', () => controller.abort());
    await stream.finalMessage().catch(() => undefined);
    const aborted = await abortSeen;
    expect(aborted.path).toBe('/v1/messages');
  });

  it('resets the socket without a response', async () => {
    upstream.enqueue('openai', { reset: true });
    const err = await openai()
      .chat.completions.create({ model: 'gpt-4o', messages: [{ role: 'user', content: 'x' }] })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIConnectionError);
    expect(upstream.requests[0]?.aborted).toBe(false);
  });

  it('cuts the normal stream after N events', async () => {
    upstream.enqueue('openai', { failAfterEvents: 2 });
    const stream = await openai().chat.completions.create({ model: 'gpt-4o', stream: true, messages: [{ role: 'user', content: 'one two three four five six' }] });
    const received: string[] = [];
    const err = await (async () => {
      for await (const chunk of stream) received.push(chunk.choices[0]?.delta.content ?? '');
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(received).toHaveLength(2);

    upstream.enqueue('mistral', { failAfterEvents: 1 });
    const mStream = await mistral().chat.stream({ model: 'mistral-small-latest', messages: [{ role: 'user', content: 'one two three' }] });
    const mErr = await (async () => {
      for await (const _ of mStream) void _;
    })().catch((e: unknown) => e);
    expect(mErr).toBeInstanceOf(Error);
  });

  it('delays replies: scripted delayMs and the default delay', async () => {
    upstream.enqueue('mistral', { delayMs: 150 });
    let started = Date.now();
    await mistral().chat.complete({ model: 'm', messages: [{ role: 'user', content: 'x' }] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(140);

    upstream.setDefaultDelay(120);
    started = Date.now();
    await anthropic().messages.countTokens({ model: 'c', messages: [{ role: 'user', content: 'x' }] });
    expect(Date.now() - started).toBeGreaterThanOrEqual(110);
  });

  it('produces identical replies for identical requests after reset', async () => {
    const ask = () => anthropic().messages.create({ model: 'c', max_tokens: 50, messages: [{ role: 'user', content: 'same' }] });
    const a = await ask();
    upstream.reset();
    const b = await ask();
    expect(b).toEqual(a);
  });

  it('rejects waitForAbort after the timeout when nothing aborts', async () => {
    await expect(upstream.waitForAbort('mistral', 50)).rejects.toThrow(/no aborted mistral request/);
  });
});

async function waitFor(condition: () => boolean, timeoutMs = 2000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error('condition not met in time');
    await new Promise((r) => setTimeout(r, 10));
  }
}
