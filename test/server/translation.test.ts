import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import { providerErrorBody } from '../support/wire-upstream.js';
import { LOCAL_KEY, rawPost, type TestGateway, useTestGateway } from '../support/gateway-harness.js';

/**
 * Cross-format traffic through the gateway: the client's own SDK on one side, another provider's
 * wire format on the other (the wire-format test upstream), translation in between.
 */

let t: TestGateway;
useTestGateway((g) => (t = g));

const lookup: OpenAI.ChatCompletionTool = {
  type: 'function',
  function: {
    name: 'lookup',
    description: 'Look something up',
    parameters: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
  },
};

const lookupAnthropic: Anthropic.Tool = {
  name: 'lookup',
  description: 'Look something up',
  input_schema: { type: 'object', properties: { query: { type: 'string' } }, required: ['query'] },
};

// A 1×1 transparent PNG.
const PNG_BASE64 = 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAQAAAC1HAwCAAAAC0lEQVR42mNkYAAAAAYAAjCB0C8AAAAASUVORK5CYII=';

function lastRequest(provider: 'openai' | 'anthropic' | 'mistral') {
  const r = t.upstream.requests.filter((x) => x.provider === provider).at(-1);
  if (!r) throw new Error(`no ${provider} request recorded`);
  return r;
}

describe('OpenAI SDK → claude-* (served by the Anthropic upstream)', () => {
  it('answers JSON in OpenAI format, with the client model name and usage', async () => {
    const { data, response } = await t.openai.chat.completions
      .create({ model: 'claude-sonnet-4-5', messages: [{ role: 'system', content: 'be brief' }, { role: 'user', content: 'hello claude' }] })
      .withResponse();
    expect(data.object).toBe('chat.completion');
    expect(data.model).toBe('claude-sonnet-4-5');
    expect(data.choices[0]!.message).toMatchObject({ role: 'assistant', content: 'echo: hello claude' });
    expect(data.choices[0]!.finish_reason).toBe('stop');
    expect(data.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(data.usage!.completion_tokens).toBeGreaterThan(0);
    expect(response.headers.get('x-asc-provider')).toBe('anthropic');

    const seen = lastRequest('anthropic');
    expect(seen.path).toBe('/v1/messages');
    expect(seen.body.system).toBeDefined();
    expect(seen.body.messages).toEqual([{ role: 'user', content: [{ type: 'text', text: 'hello claude' }] }].map((m) => expect.objectContaining({ role: m.role })));
    expect(typeof seen.body.max_tokens).toBe('number');

    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ route: 'openai.chat', providerId: 'anthropic', modelUsed: 'claude-sonnet-4-5', status: 200 });
    expect(trace!.usage.inputTokens).toBe(data.usage!.prompt_tokens);
  });

  it('streams text deltas in OpenAI chunks and ends with [DONE]', async () => {
    const stream = await t.openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'stream me some words please' }],
      stream: true,
    });
    let text = '';
    let finish: string | null = null;
    let chunks = 0;
    for await (const chunk of stream) {
      chunks++;
      expect(chunk.object).toBe('chat.completion.chunk');
      text += chunk.choices[0]?.delta.content ?? '';
      finish = chunk.choices[0]?.finish_reason ?? finish;
      expect(chunk.usage ?? undefined).toBeUndefined();
    }
    expect(chunks).toBeGreaterThan(2);
    expect(text).toBe('echo: stream me some words please');
    expect(finish).toBe('stop');
    expect(lastRequest('anthropic').body.stream).toBe(true);
    const [trace] = await t.nextTraces();
    expect(trace!.streamed).toBe(true);
    expect(trace!.usage.outputTokens).toBeGreaterThan(0);
  });

  it('puts usage in a final chunk with empty choices when include_usage is asked', async () => {
    const stream = await t.openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'usage please' }],
      stream: true,
      stream_options: { include_usage: true },
    });
    const chunks: OpenAI.ChatCompletionChunk[] = [];
    for await (const chunk of stream) chunks.push(chunk);
    const last = chunks.at(-1)!;
    expect(last.choices).toEqual([]);
    expect(last.usage!.prompt_tokens).toBeGreaterThan(0);
    expect(last.usage!.completion_tokens).toBeGreaterThan(0);
    expect(last.usage!.total_tokens).toBe(last.usage!.prompt_tokens + last.usage!.completion_tokens);
    // Only the last chunk carries usage.
    expect(chunks.slice(0, -1).every((c) => !c.usage)).toBe(true);
    // Anthropic has no stream_options: it never reaches the upstream.
    expect(lastRequest('anthropic').body.stream_options).toBeUndefined();
    const [trace] = await t.nextTraces();
    expect(trace!.usage.outputTokens).toBe(last.usage!.completion_tokens);
  });

  it('maps finish reasons: max_tokens → length', async () => {
    const res = await t.openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      max_tokens: 2,
      messages: [{ role: 'user', content: 'a long answer that will be cut short by the token limit' }],
    });
    expect(res.choices[0]!.finish_reason).toBe('length');
    expect(lastRequest('anthropic').body.max_tokens).toBe(2);
    await t.nextTraces();
  });

  it('returns a tool call with arguments that parse (JSON)', async () => {
    const res = await t.openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'find the weather' }],
      tools: [lookup],
    });
    const choice = res.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    const call = choice.message.tool_calls![0]!;
    expect(call.type).toBe('function');
    expect(call.id).toMatch(/^toolu_/);
    expect((call as OpenAI.ChatCompletionMessageFunctionToolCall).function.name).toBe('lookup');
    expect(JSON.parse((call as OpenAI.ChatCompletionMessageFunctionToolCall).function.arguments)).toEqual({ query: 'find the weather' });
    // The tool reached Anthropic as an Anthropic tool.
    expect(lastRequest('anthropic').body.tools).toEqual([expect.objectContaining({ name: 'lookup', input_schema: lookup.function.parameters })]);
    await t.nextTraces();
  });

  it('streams tool call arguments the SDK assembles into the full object', async () => {
    const stream = t.openai.chat.completions.stream({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'stream a tool call with a fairly long query string' }],
      tools: [lookup],
    });
    const final = await stream.finalChatCompletion();
    const choice = final.choices[0]!;
    expect(choice.finish_reason).toBe('tool_calls');
    expect(choice.message.tool_calls).toHaveLength(1);
    const call = choice.message.tool_calls![0] as OpenAI.ChatCompletionMessageFunctionToolCall;
    expect(call.function.name).toBe('lookup');
    expect(JSON.parse(call.function.arguments)).toEqual({ query: 'stream a tool call with a fairly long query string' });
    await t.nextTraces();
  });

  it('streams parallel tool calls with separate indexes, each assembling to its object', async () => {
    const stream = await t.openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'two at once [parallel]' }],
      tools: [lookup],
      stream: true,
    });
    const calls = new Map<number, { id?: string; name?: string; args: string }>();
    let finish: string | null = null;
    for await (const chunk of stream) {
      const choice = chunk.choices[0];
      if (!choice) continue;
      finish = choice.finish_reason ?? finish;
      for (const tc of choice.delta.tool_calls ?? []) {
        const c = calls.get(tc.index) ?? { args: '' };
        if (tc.id) c.id = tc.id;
        if (tc.function?.name) c.name = tc.function.name;
        c.args += tc.function?.arguments ?? '';
        calls.set(tc.index, c);
      }
    }
    expect(finish).toBe('tool_calls');
    expect([...calls.keys()]).toEqual([0, 1]);
    for (const c of calls.values()) {
      expect(c.name).toBe('lookup');
      expect(c.id).toMatch(/^toolu_/);
      expect(JSON.parse(c.args)).toEqual({ query: 'two at once [parallel]' });
    }
    expect(calls.get(0)!.id).not.toBe(calls.get(1)!.id);
    await t.nextTraces();
  });

  it('returns parallel tool calls in JSON', async () => {
    const res = await t.openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [{ role: 'user', content: 'both [parallel]' }],
      tools: [lookup],
    });
    expect(res.choices[0]!.message.tool_calls).toHaveLength(2);
    await t.nextTraces();
  });

  it('carries tool results over several turns', async () => {
    const messages: OpenAI.ChatCompletionMessageParam[] = [{ role: 'user', content: 'look up two things [parallel]' }];
    const first = await t.openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages, tools: [lookup] });
    const calls = first.choices[0]!.message.tool_calls as OpenAI.ChatCompletionMessageFunctionToolCall[];
    expect(calls).toHaveLength(2);
    messages.push(first.choices[0]!.message as OpenAI.ChatCompletionAssistantMessageParam);
    messages.push({ role: 'tool', tool_call_id: calls[0]!.id, content: 'sunny' });
    messages.push({ role: 'tool', tool_call_id: calls[1]!.id, content: 'windy' });
    const second = await t.openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages, tools: [lookup] });
    expect(second.choices[0]!.message.content).toBe('result: sunny | windy');
    expect(second.choices[0]!.finish_reason).toBe('stop');

    // Anthropic got the assistant tool_use blocks and both results in one user turn.
    const seen = lastRequest('anthropic').body;
    const assistant = seen.messages[1];
    expect(assistant.role).toBe('assistant');
    expect(assistant.content.filter((b: { type: string }) => b.type === 'tool_use').map((b: { id: string; input: unknown }) => [b.id, b.input])).toEqual([
      [calls[0]!.id, { query: 'look up two things [parallel]' }],
      [calls[1]!.id, { query: 'look up two things [parallel]' }],
    ]);
    const results = seen.messages[2];
    expect(results.role).toBe('user');
    expect(results.content.map((b: { type: string; tool_use_id: string }) => [b.type, b.tool_use_id])).toEqual([
      ['tool_result', calls[0]!.id],
      ['tool_result', calls[1]!.id],
    ]);

    // A third turn: the user follows up after the tool answer.
    messages.push({ role: 'assistant', content: second.choices[0]!.message.content });
    messages.push({ role: 'user', content: 'thanks, and now?' });
    const third = await t.openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages });
    expect(third.choices[0]!.message.content).toBe('echo: thanks, and now?');
    expect(lastRequest('anthropic').body.messages).toHaveLength(5);
    await t.nextTraces(3);
  });

  it('sends URL and base64 image parts as Anthropic image blocks', async () => {
    const res = await t.openai.chat.completions.create({
      model: 'claude-sonnet-4-5',
      messages: [
        {
          role: 'user',
          content: [
            { type: 'text', text: 'what is in these?' },
            { type: 'image_url', image_url: { url: 'https://example.com/cat.png' } },
            { type: 'image_url', image_url: { url: `data:image/png;base64,${PNG_BASE64}` } },
          ],
        },
      ],
    });
    expect(res.choices[0]!.message.content).toBe('echo: what is in these?');
    const content = lastRequest('anthropic').body.messages[0].content;
    expect(content).toEqual([
      { type: 'text', text: 'what is in these?' },
      { type: 'image', source: { type: 'url', url: 'https://example.com/cat.png' } },
      { type: 'image', source: { type: 'base64', media_type: 'image/png', data: PNG_BASE64 } },
    ]);
    await t.nextTraces();
  });

  it('renders an Anthropic upstream error in OpenAI format', async () => {
    t.upstream.enqueue('anthropic', { status: 400, body: providerErrorBody('anthropic', 400, 'messages: text content blocks must be non-empty') });
    const err = await t.openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    const apiErr = err as InstanceType<typeof OpenAI.APIError>;
    expect(apiErr.message).toContain('text content blocks must be non-empty');
    expect(apiErr.error).toMatchObject({ message: expect.stringContaining('non-empty'), type: 'invalid_request_error' });
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ status: 400, errorCode: 'upstream_400', providerId: 'anthropic' });
  });

  it('renders an Anthropic error to a streaming request as an OpenAI error response', async () => {
    t.upstream.enqueue('anthropic', { status: 400, body: providerErrorBody('anthropic', 400, 'max_tokens: too large') });
    const err = await t.openai.chat.completions
      .create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }], stream: true })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('max_tokens: too large');
    await t.nextTraces();
  });

  it('renders an Anthropic overload (529, after retries) in OpenAI format', async () => {
    t.upstream.enqueue('anthropic', { status: 529 }, { status: 529 });
    const res = await rawPost(t.url, '/v1/chat/completions', { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] });
    expect(res.status).toBe(529);
    const body = (await res.json()) as { error: { message: string; type: string } };
    expect(body.error.message).toMatch(/overloaded/i);
    expect(typeof body.error.type).toBe('string');
    expect(body).not.toHaveProperty('type', 'error');
    await t.nextTraces();
  });

  it('refuses a field that cannot be carried with a 400 naming it', async () => {
    const err = await t.openai.chat.completions
      .create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }], logit_bias: { '50256': -100 } })
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.BadRequestError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('logit_bias');
    expect(t.upstream.requests).toHaveLength(0);
    const [trace] = await t.nextTraces();
    expect(trace!.status).toBe(400);
  });
});

describe('Anthropic SDK → gpt-* (served by the OpenAI upstream)', () => {
  it('answers JSON in Anthropic format', async () => {
    const msg = await t.anthropic.messages.create({ model: 'gpt-4.1', max_tokens: 200, system: 'be brief', messages: [{ role: 'user', content: 'hello gpt' }] });
    expect(msg.type).toBe('message');
    expect(msg.role).toBe('assistant');
    expect(msg.model).toBe('gpt-4.1');
    expect(msg.content).toEqual([expect.objectContaining({ type: 'text', text: 'echo: hello gpt' })]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.input_tokens).toBeGreaterThan(0);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    const seen = lastRequest('openai');
    expect(seen.path).toBe('/v1/chat/completions');
    expect(seen.body.messages[0]).toMatchObject({ role: 'system' });
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ route: 'anthropic.messages', providerId: 'openai', status: 200 });
  });

  it('streams with a message_start carrying non-zero input tokens, and finalMessage assembles the text', async () => {
    const stream = t.anthropic.messages.stream({ model: 'gpt-4.1', max_tokens: 200, messages: [{ role: 'user', content: 'stream back a short reply' }] });
    let startInput = -1;
    const types: string[] = [];
    stream.on('streamEvent', (ev) => {
      types.push(ev.type);
      if (ev.type === 'message_start') startInput = ev.message.usage.input_tokens;
    });
    const msg = await stream.finalMessage();
    expect(startInput).toBeGreaterThan(0);
    expect(types[0]).toBe('message_start');
    expect(types.at(-1)).toBe('message_stop');
    expect(types).toContain('message_delta');
    expect(msg.content).toEqual([expect.objectContaining({ type: 'text', text: 'echo: stream back a short reply' })]);
    expect(msg.stop_reason).toBe('end_turn');
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    // The gateway asked the OpenAI upstream for usage.
    expect(lastRequest('openai').body.stream_options).toEqual({ include_usage: true });
    const [trace] = await t.nextTraces();
    expect(trace!.usage.outputTokens).toBe(msg.usage.output_tokens);
  });

  it('streams tool input as the complete object, never {}', async () => {
    const stream = t.anthropic.messages.stream({
      model: 'gpt-4.1',
      max_tokens: 200,
      tools: [lookupAnthropic],
      messages: [{ role: 'user', content: 'call the tool with this long query' }],
    });
    const msg = await stream.finalMessage();
    expect(msg.stop_reason).toBe('tool_use');
    const tool = msg.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(tool.name).toBe('lookup');
    expect(tool.input).toEqual({ query: 'call the tool with this long query' });
    await t.nextTraces();
  });

  it('streams parallel tool calls as separate tool_use blocks with complete inputs', async () => {
    const msg = await t.anthropic.messages
      .stream({ model: 'gpt-4.1', max_tokens: 200, tools: [lookupAnthropic], messages: [{ role: 'user', content: 'streamed pair [parallel]' }] })
      .finalMessage();
    const uses = msg.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(uses).toHaveLength(2);
    expect(uses[0]!.id).not.toBe(uses[1]!.id);
    for (const u of uses) expect(u.input).toEqual({ query: 'streamed pair [parallel]' });
    expect(msg.stop_reason).toBe('tool_use');
    await t.nextTraces();
  });

  it('carries tool use and tool results over several turns (parallel calls)', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'check both [parallel]' }];
    const first = await t.anthropic.messages.create({ model: 'gpt-4.1', max_tokens: 200, tools: [lookupAnthropic], messages });
    expect(first.stop_reason).toBe('tool_use');
    const uses = first.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(uses).toHaveLength(2);
    for (const u of uses) expect(u.input).toEqual({ query: 'check both [parallel]' });
    messages.push({ role: 'assistant', content: first.content });
    messages.push({
      role: 'user',
      content: [
        { type: 'tool_result', tool_use_id: uses[0]!.id, content: 'alpha' },
        { type: 'tool_result', tool_use_id: uses[1]!.id, content: [{ type: 'text', text: 'beta' }] },
      ],
    });
    const second = await t.anthropic.messages.create({ model: 'gpt-4.1', max_tokens: 200, tools: [lookupAnthropic], messages });
    expect(second.content).toEqual([expect.objectContaining({ type: 'text', text: 'result: alpha | beta' })]);

    const seen = lastRequest('openai').body;
    expect(seen.messages[1]).toMatchObject({ role: 'assistant', tool_calls: [{ id: uses[0]!.id }, { id: uses[1]!.id }] });
    expect(seen.messages.slice(2).map((m: { role: string; tool_call_id: string }) => [m.role, m.tool_call_id])).toEqual([
      ['tool', uses[0]!.id],
      ['tool', uses[1]!.id],
    ]);
    await t.nextTraces(2);
  });

  it('answers count_tokens with an estimate for a gpt-* target', async () => {
    const res = await t.anthropic.messages.countTokens({ model: 'gpt-4.1', messages: [{ role: 'user', content: 'how many tokens is this sentence?' }] });
    expect(res.input_tokens).toBeGreaterThan(0);
    expect(t.upstream.requests).toHaveLength(0);
    const [trace] = await t.nextTraces();
    expect(trace!.warnings.join(' ')).toMatch(/estimated/);
  });
});

describe('Anthropic SDK → mistral-* (Mistral dialect upstream)', () => {
  it('answers JSON in Anthropic format', async () => {
    const msg = await t.anthropic.messages.create({ model: 'mistral-large-latest', max_tokens: 200, messages: [{ role: 'user', content: 'bonjour' }] });
    expect(msg.content).toEqual([expect.objectContaining({ type: 'text', text: 'echo: bonjour' })]);
    expect(msg.model).toBe('mistral-large-latest');
    expect(lastRequest('mistral').path).toBe('/v1/chat/completions');
    await t.nextTraces();
  });

  it('streams (no stream_options upstream) with usage on message_start', async () => {
    const stream = t.anthropic.messages.stream({ model: 'mistral-large-latest', max_tokens: 200, messages: [{ role: 'user', content: 'stream en français' }] });
    let startInput = -1;
    stream.on('streamEvent', (ev) => {
      if (ev.type === 'message_start') startInput = ev.message.usage.input_tokens;
    });
    const msg = await stream.finalMessage();
    expect(startInput).toBeGreaterThan(0);
    expect(msg.content).toEqual([expect.objectContaining({ type: 'text', text: 'echo: stream en français' })]);
    expect(msg.usage.output_tokens).toBeGreaterThan(0);
    const seen = lastRequest('mistral').body;
    expect(seen.stream).toBe(true);
    expect(seen.stream_options).toBeUndefined();
    await t.nextTraces();
  });

  it('streams a tool call whose input is the complete object', async () => {
    const msg = await t.anthropic.messages
      .stream({ model: 'mistral-large-latest', max_tokens: 200, tools: [lookupAnthropic], messages: [{ role: 'user', content: 'mistral tool please' }] })
      .finalMessage();
    const tool = msg.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(tool.input).toEqual({ query: 'mistral tool please' });
    expect(msg.stop_reason).toBe('tool_use');
    await t.nextTraces();
  });

  it('streams parallel tool calls that Mistral sends whole in one chunk', async () => {
    const msg = await t.anthropic.messages
      .stream({ model: 'mistral-large-latest', max_tokens: 200, tools: [lookupAnthropic], messages: [{ role: 'user', content: 'mistral pair [parallel]' }] })
      .finalMessage();
    const uses = msg.content.filter((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use');
    expect(uses).toHaveLength(2);
    for (const u of uses) expect(u.input).toEqual({ query: 'mistral pair [parallel]' });
    await t.nextTraces();
  });

  it('sends tool results back with 9-character tool-call ids', async () => {
    const messages: Anthropic.MessageParam[] = [{ role: 'user', content: 'use the tool' }];
    const first = await t.anthropic.messages.create({ model: 'mistral-large-latest', max_tokens: 200, tools: [lookupAnthropic], messages });
    const use = first.content.find((b): b is Anthropic.ToolUseBlock => b.type === 'tool_use')!;
    expect(use.input).toEqual({ query: 'use the tool' });
    messages.push({ role: 'assistant', content: first.content });
    // Also a tool_use id in Anthropic's own style from an earlier conversation, which Mistral would reject.
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: use.id, content: 'forty-two' }] });
    messages.push({ role: 'assistant', content: [{ type: 'tool_use', id: 'toolu_01ABCDEFGHIJKLMNOPQRSTUV', name: 'lookup', input: { query: 'again' } }] });
    messages.push({ role: 'user', content: [{ type: 'tool_result', tool_use_id: 'toolu_01ABCDEFGHIJKLMNOPQRSTUV', content: 'forty-three' }] });
    const second = await t.anthropic.messages.create({ model: 'mistral-large-latest', max_tokens: 200, tools: [lookupAnthropic], messages });
    expect(second.content).toEqual([expect.objectContaining({ type: 'text', text: 'result: forty-three' })]);

    const seen = lastRequest('mistral').body;
    const ids: string[] = [];
    for (const m of seen.messages as Array<{ role: string; tool_calls?: Array<{ id: string }>; tool_call_id?: string }>) {
      for (const c of m.tool_calls ?? []) ids.push(c.id);
      if (m.role === 'tool') ids.push(m.tool_call_id!);
    }
    expect(ids).toHaveLength(4);
    for (const id of ids) expect(id).toMatch(/^[A-Za-z0-9]{9}$/);
    // Calls and their results still pair up after the id rewrite.
    expect(ids[0]).toBe(ids[1]);
    expect(ids[2]).toBe(ids[3]);
    expect(ids[0]).not.toBe(ids[2]);
    await t.nextTraces(2);
  });
});

describe('same-format Anthropic traffic', () => {
  it('keeps the body byte for byte (cache_control, unknown fields, spacing)', async () => {
    const body =
      '{"model":"claude-haiku-4-5", "max_tokens":32,"system":[{"type":"text","text":"sys","cache_control":{"type":"ephemeral"}}],' +
      '"messages":[{"role":"user","content":[{"type":"text","text":"cache me","cache_control":{"type":"ephemeral","ttl":"1h"}}]}],"x_future":{"a":[1,2]}}';
    const res = await fetch(`${t.url}/v1/messages`, {
      method: 'POST',
      headers: { 'x-api-key': LOCAL_KEY, 'content-type': 'application/json', 'anthropic-version': '2023-06-01' },
      body,
    });
    expect(res.status).toBe(200);
    expect(lastRequest('anthropic').rawBody).toBe(body);
    await t.nextTraces();
  });

  it('forwards anthropic-beta for a same-format request', async () => {
    await t.anthropic.messages.create(
      { model: 'claude-haiku-4-5', max_tokens: 16, messages: [{ role: 'user', content: 'beta' }] },
      { headers: { 'anthropic-beta': 'prompt-caching-2024-07-31,context-1m-2025-08-07' } },
    );
    expect(lastRequest('anthropic').headers['anthropic-beta']).toBe('prompt-caching-2024-07-31,context-1m-2025-08-07');
    await t.nextTraces();
  });

  it('forwards anthropic-beta when an OpenAI client is served by Claude', async () => {
    await t.openai.chat.completions.create(
      { model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'beta' }] },
      { headers: { 'anthropic-beta': 'context-1m-2025-08-07' } },
    );
    expect(lastRequest('anthropic').headers['anthropic-beta']).toBe('context-1m-2025-08-07');
    await t.nextTraces();
  });
});

describe('what the upstream stream says, the trace says', () => {
  const sse = (event: string, data: unknown) => ({ event, data: JSON.stringify(data) });
  const start = sse('message_start', {
    type: 'message_start',
    message: { id: 'msg_01X', type: 'message', role: 'assistant', model: 'claude-sonnet-4-5', content: [], stop_reason: null, stop_sequence: null, usage: { input_tokens: 12, output_tokens: 1 } },
  });
  const blockStart = sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } });
  const delta = sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: 'partial ' } });
  const overloaded = sse('error', { type: 'error', error: { type: 'overloaded_error', message: 'Overloaded' } });

  it('an Anthropic error event mid-stream reaches an OpenAI client as a stream error, and fails the trace', async () => {
    t.upstream.enqueue('anthropic', { sse: [start, blockStart, delta, overloaded] });
    const stream = await t.openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }], stream: true });
    let text = '';
    const err = await (async () => {
      for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    })().catch((e: unknown) => e);
    expect(text).toBe('partial ');
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('Overloaded');
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ status: 502, errorCode: 'upstream_stream_error' });
    expect(trace!.attempts.map((a) => [a.outcome, a.status])).toEqual([['error', 200]]);
    expect(trace!.attempts[0]!.reason).toContain('Overloaded');
  });

  it('an Anthropic error event mid-stream is relayed to an Anthropic client as is, and fails the trace', async () => {
    t.upstream.enqueue('anthropic', { sse: [start, blockStart, delta, overloaded] });
    const err = await t.anthropic.messages
      .stream({ model: 'claude-sonnet-4-5', max_tokens: 32, messages: [{ role: 'user', content: 'x' }] })
      .finalMessage()
      .catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Anthropic.APIError);
    expect((err as InstanceType<typeof Anthropic.APIError>).message).toContain('Overloaded');
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ status: 502, errorCode: 'upstream_stream_error' });
    expect(trace!.attempts.map((a) => a.outcome)).toEqual(['error']);
  });

  it('a translated stream that ends before message_stop is an error for the client and the trace', async () => {
    t.upstream.enqueue('anthropic', { sse: [start, blockStart, delta] });
    const stream = await t.openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }], stream: true });
    const err = await (async () => {
      for await (const _ of stream) {
        // drain
      }
    })().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OpenAI.APIError);
    expect((err as InstanceType<typeof OpenAI.APIError>).message).toContain('ended before the response was complete');
    const [trace] = await t.nextTraces();
    expect(trace).toMatchObject({ status: 502, errorCode: 'upstream_stream_error' });
  });

  it('records dropped thinking blocks as trace warnings (JSON and streaming)', async () => {
    t.upstream.enqueue('anthropic', {
      body: {
        id: 'msg_01Y',
        type: 'message',
        role: 'assistant',
        model: 'claude-sonnet-4-5',
        content: [
          { type: 'thinking', thinking: 'let me think', signature: 'sig' },
          { type: 'text', text: 'answer' },
        ],
        stop_reason: 'end_turn',
        stop_sequence: null,
        usage: { input_tokens: 5, output_tokens: 3 },
      },
    });
    const res = await t.openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }] });
    expect(res.choices[0]!.message.content).toBe('answer');
    const [jsonTrace] = await t.nextTraces();
    expect(jsonTrace!.warnings.join(' ')).toMatch(/thinking/);

    t.upstream.enqueue('anthropic', {
      sse: [
        start,
        sse('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'thinking', thinking: '', signature: '' } }),
        sse('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'thinking_delta', thinking: 'hmm' } }),
        sse('content_block_stop', { type: 'content_block_stop', index: 0 }),
        sse('content_block_start', { type: 'content_block_start', index: 1, content_block: { type: 'text', text: '' } }),
        sse('content_block_delta', { type: 'content_block_delta', index: 1, delta: { type: 'text_delta', text: 'streamed answer' } }),
        sse('content_block_stop', { type: 'content_block_stop', index: 1 }),
        sse('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: 4 } }),
        sse('message_stop', { type: 'message_stop' }),
      ],
    });
    const stream = await t.openai.chat.completions.create({ model: 'claude-sonnet-4-5', messages: [{ role: 'user', content: 'x' }], stream: true });
    let text = '';
    for await (const chunk of stream) text += chunk.choices[0]?.delta.content ?? '';
    expect(text).toBe('streamed answer');
    const [streamTrace] = await t.nextTraces();
    expect(streamTrace!.status).toBe(200);
    expect(streamTrace!.warnings.join(' ')).toMatch(/thinking/);
  });
});
