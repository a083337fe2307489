import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { describe, expect, it } from 'vitest';
import type { Decision, Trace } from '../../src/shared/trace.js';
import { type TestGateway, useTestGateway } from '../support/gateway-harness.js';
import type { WireUpstream } from '../support/wire-upstream.js';

/**
 * Every profile rule through the real gateway and the official SDKs: the allow path, the deny
 * path (in the error format of the route the client spoke), the decision on the trace, and what
 * the upstream actually received. One gateway; each rule gets its own tenant, picked per request
 * with `x-asc-tenant`.
 */

type OpenAiError = InstanceType<typeof OpenAI.APIError>;
type AnthropicError = InstanceType<typeof Anthropic.APIError>;

const AWS_KEY = 'AKIAZ7QW3RT5YU8IO2PX';
const DOTENV_OPENAI_KEY = 'sk-proj-Q8wZr2Lk9TfYb3Nc7Hv1Mx4Ps6Jd0Ge5';

function providers(upstream: WireUpstream): unknown[] {
  return [
    { id: 'openai', kind: 'openai', baseUrl: upstream.baseUrls.openai, region: 'us' },
    { id: 'anthropic', kind: 'anthropic', baseUrl: upstream.baseUrls.anthropic, region: 'us' },
    { id: 'mistral', kind: 'mistral', baseUrl: upstream.baseUrls.mistral, region: 'eu' },
  ];
}

function policy(upstream: WireUpstream): Record<string, unknown> {
  const p = (tenant: string, rest: Record<string, unknown> = {}): Record<string, unknown> => ({ tenant, version: 1, providers: providers(upstream), ...rest });
  return {
    active: 'test',
    profiles: [
      p('test'),
      p('allow', {
        models: {
          allow: ['gpt-4.1-mini', 'claude-haiku-*'],
          aliases: { fast: ['gpt-4.1', 'anthropic/claude-haiku-4-5'], banned: ['gpt-4.1', 'claude-opus-4-1'] },
        },
      }),
      p('eu', {
        providers: [...providers(upstream), { id: 'openai-eu', kind: 'openai', baseUrl: upstream.baseUrls.openai, region: 'eu' }],
        residency: { regions: ['eu'] },
        models: { fallbacks: { 'gpt-4.1-mini': ['openai-eu/gpt-4.1-mini'] } },
      }),
      p('redact', { guardrails: { pii: 'redact' } }),
      p('block', { guardrails: { pii: 'block' } }),
      p('deny', { guardrails: { deny: ['project\\s+nightingale'] } }),
      p('clamp', { guardrails: { maxOutputTokens: 40 } }),
      p('small', { guardrails: { maxInputTokens: 20 } }),
      p('rpm', { rateLimits: { rpm: 2 } }),
      p('tpm', { rateLimits: { tpm: 1000 } }),
    ],
  };
}

let t: TestGateway;
useTestGateway((g) => (t = g), { policy });

const as = (tenant: string) => ({ headers: { 'x-asc-tenant': tenant } });
const user = (content: string) => [{ role: 'user' as const, content }];

function chat(tenant: string, model: string, content: string, extra: Partial<OpenAI.ChatCompletionCreateParamsNonStreaming> = {}) {
  return t.openai.chat.completions.create({ model, messages: user(content), ...extra }, as(tenant));
}
function messages(tenant: string, model: string, content: string, extra: Partial<Anthropic.MessageCreateParamsNonStreaming> = {}) {
  return t.anthropic.messages.create({ model, max_tokens: 200, messages: user(content), ...extra }, as(tenant));
}
async function openAiError(p: Promise<unknown>): Promise<OpenAiError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(OpenAI.APIError);
  return e as OpenAiError;
}
async function anthropicError(p: Promise<unknown>): Promise<AnthropicError> {
  const e = await p.then(() => null, (err: unknown) => err);
  expect(e).toBeInstanceOf(Anthropic.APIError);
  return e as AnthropicError;
}
async function oneTrace(): Promise<Trace> {
  const [trace] = await t.nextTraces();
  return trace!;
}
function decision(trace: Trace, rule: string): Decision | undefined {
  return trace.decisions.find((d) => d.rule === rule);
}

describe('models.allow', () => {
  it('serves an allowed model on both routes and records the allow decision', async () => {
    await chat('allow', 'gpt-4.1-mini', 'ok?');
    expect(decision(await oneTrace(), 'models.allow')).toMatchObject({ outcome: 'allow', detail: 'openai/gpt-4.1-mini' });
    await messages('allow', 'claude-haiku-4-5', 'ok?');
    expect(decision(await oneTrace(), 'models.allow')).toMatchObject({ outcome: 'allow', detail: 'anthropic/claude-haiku-4-5' });
  });

  it('serves allowed models across formats (OpenAI SDK → claude, Anthropic SDK → gpt)', async () => {
    const a = await chat('allow', 'claude-haiku-4-5', 'translated one');
    expect(a.choices[0]!.message.content).toBe('echo: translated one');
    expect(t.upstream.requests.at(-1)!.provider).toBe('anthropic');
    const b = await messages('allow', 'gpt-4.1-mini', 'translated two');
    expect(b.content[0]).toMatchObject({ type: 'text', text: 'echo: translated two' });
    expect(t.upstream.requests.at(-1)!.provider).toBe('openai');
    const traces = await t.nextTraces(2);
    expect(traces.map((x) => decision(x, 'models.allow')?.outcome)).toEqual(['allow', 'allow']);
  });

  it('routes a repeated request the same way, its decisions recorded each time; a repeated off-list model is denied each time', async () => {
    for (const i of [1, 2]) await chat('allow', 'gpt-4.1-mini', `again ${i}`);
    const [first, second] = await t.nextTraces(2);
    expect(decision(second!, 'models.allow')).toMatchObject({ outcome: 'allow', detail: 'openai/gpt-4.1-mini' });
    expect(second!.decisions).toEqual(first!.decisions);
    for (const i of [1, 2]) expect((await openAiError(chat('allow', 'gpt-4.1', `no ${i}`))).code).toBe('model_not_allowed');
    for (const trace of await t.nextTraces(2)) expect(decision(trace, 'models.allow')).toEqual({ rule: 'models.allow', outcome: 'deny', detail: 'gpt-4.1' });
  });

  it('denies a model off the list with 403 model_not_allowed in OpenAI format, before any upstream call', async () => {
    const err = await openAiError(chat('allow', 'gpt-4.1', 'no'));
    expect(err.status).toBe(403);
    expect(err).toBeInstanceOf(OpenAI.PermissionDeniedError);
    expect(err.code).toBe('model_not_allowed');
    expect(err.type).toBe('invalid_request_error');
    expect(err.message).toContain('gpt-4.1');
    expect(t.upstream.requests).toHaveLength(0);
    const trace = await oneTrace();
    expect(trace).toMatchObject({ status: 403, errorCode: 'model_not_allowed', tenant: 'allow', profileVersion: 1, providerId: null });
    expect(decision(trace, 'models.allow')).toEqual({ rule: 'models.allow', outcome: 'deny', detail: 'gpt-4.1' });
  });

  it('denies in Anthropic format on /v1/messages, and across formats', async () => {
    const err = await anthropicError(messages('allow', 'claude-sonnet-4-5', 'no'));
    expect(err.status).toBe(403);
    expect(err).toBeInstanceOf(Anthropic.PermissionDeniedError);
    expect(err.error).toMatchObject({ type: 'error', error: { type: 'permission_error', message: expect.stringContaining('claude-sonnet-4-5') } });
    const cross = await anthropicError(messages('allow', 'gpt-4.1', 'no'));
    expect(cross.status).toBe(403);
    const crossOpenAi = await openAiError(chat('allow', 'claude-sonnet-4-5', 'no'));
    expect(crossOpenAi.code).toBe('model_not_allowed');
    expect(t.upstream.requests).toHaveLength(0);
    const traces = await t.nextTraces(3);
    for (const trace of traces) {
      expect(trace.errorCode).toBe('model_not_allowed');
      expect(decision(trace, 'models.allow')?.outcome).toBe('deny');
    }
  });

  it('expands an alias first, then applies the allow-list to its targets', async () => {
    const res = await chat('allow', 'fast', 'alias please');
    expect(res.choices[0]!.message.content).toBe('echo: alias please');
    expect(t.upstream.requests).toHaveLength(1);
    expect(t.upstream.requests[0]!.provider).toBe('anthropic');
    expect(t.upstream.requests[0]!.body.model).toBe('claude-haiku-4-5');
    const trace = await oneTrace();
    expect(trace.decisions.map((d) => [d.rule, d.outcome])).toEqual([
      ['alias', 'allow'],
      ['models.allow', 'skip'],
      ['models.allow', 'allow'],
    ]);
    expect(trace.modelUsed).toBe('claude-haiku-4-5');

    const err = await anthropicError(messages('allow', 'banned', 'alias with nothing allowed'));
    expect(err.status).toBe(403);
    expect(t.upstream.requests).toHaveLength(1);
    const denied = await oneTrace();
    expect(denied.errorCode).toBe('model_not_allowed');
    expect(denied.decisions.at(-1)).toEqual({ rule: 'models.allow', outcome: 'deny', detail: 'banned' });
  });
});

describe('residency', () => {
  it('filters the fallbacks by region and serves the in-region one', async () => {
    const res = await chat('eu', 'gpt-4.1-mini', 'stay in the EU');
    expect(res.choices[0]!.message.content).toBe('echo: stay in the EU');
    expect(t.upstream.requests).toHaveLength(1);
    const trace = await oneTrace();
    expect(trace).toMatchObject({ providerId: 'openai-eu', providerRegion: 'eu', status: 200 });
    expect(trace.decisions).toContainEqual(expect.objectContaining({ rule: 'residency', outcome: 'skip', detail: expect.stringContaining('openai region us') }));
    expect(decision(trace, 'residency')).toBeDefined();
    expect(trace.decisions.at(-1)).toMatchObject({ rule: 'residency', outcome: 'allow', detail: 'openai-eu:eu' });
  });

  it('serves the translated path in-region too (Anthropic SDK → gpt)', async () => {
    const res = await messages('eu', 'gpt-4.1-mini', 'translated in the EU');
    expect(res.content[0]).toMatchObject({ text: 'echo: translated in the EU' });
    expect((await oneTrace()).providerId).toBe('openai-eu');
  });

  it('denies with 403 residency_denied when no target is in an allowed region, in each route format', async () => {
    const a = await anthropicError(messages('eu', 'claude-haiku-4-5', 'no EU claude'));
    expect(a.status).toBe(403);
    expect(a.error).toMatchObject({ error: { type: 'permission_error', message: expect.stringContaining('eu') } });
    const o = await openAiError(chat('eu', 'claude-haiku-4-5', 'no EU claude'));
    expect(o.code).toBe('residency_denied');
    expect(t.upstream.requests).toHaveLength(0);
    const traces = await t.nextTraces(2);
    for (const trace of traces) {
      expect(trace.errorCode).toBe('residency_denied');
      expect(trace.decisions.at(-1)).toEqual({ rule: 'residency', outcome: 'deny', detail: 'allowed regions: eu' });
    }
  });
});

describe('guardrails: PII redaction', () => {
  it('redacts before the upstream sees it, same value → same placeholder across messages, tool results and tool definitions included (OpenAI)', async () => {
    await t.openai.chat.completions.create(
      {
        model: 'gpt-4.1-mini',
        messages: [
          { role: 'system', content: 'The account owner is jane.doe@example.com.' },
          { role: 'user', content: 'Look up jane.doe@example.com please' },
          { role: 'assistant', tool_calls: [{ id: 'call_1', type: 'function', function: { name: 'lookup', arguments: '{"email":"jane.doe@example.com"}' } }] },
          { role: 'tool', tool_call_id: 'call_1', content: 'Found: bob@corp.example.org, phone +44 20 7946 0958' },
          { role: 'user', content: 'and write to bob@corp.example.org' },
        ],
        tools: [{ type: 'function', function: { name: 'lookup', description: 'Escalations go to ops@example.net', parameters: { type: 'object', properties: {} } } }],
        tool_choice: 'none',
      },
      as('redact'),
    );
    const sent = t.upstream.requests[0]!;
    expect(sent.rawBody).not.toMatch(/jane\.doe@|bob@corp|ops@example|7946/);
    expect(sent.body.messages[0].content).toBe('The account owner is [EMAIL_1].');
    expect(sent.body.messages[1].content).toBe('Look up [EMAIL_1] please');
    expect(JSON.parse(sent.body.messages[2].tool_calls[0].function.arguments)).toEqual({ email: '[EMAIL_1]' });
    expect(sent.body.messages[3].content).toBe('Found: [EMAIL_2], phone [PHONE_1]');
    expect(sent.body.messages[4].content).toBe('and write to [EMAIL_2]');
    expect(sent.body.tools[0].function.description).toBe('Escalations go to [EMAIL_3]');
    const trace = await oneTrace();
    expect(decision(trace, 'guardrails.pii')).toEqual({ rule: 'guardrails.pii', outcome: 'redact', detail: 'EMAIL×6, PHONE×1' });
  });

  it('redacts tool_result blocks and tool descriptions on /v1/messages', async () => {
    await t.anthropic.messages.create(
      {
        model: 'claude-haiku-4-5',
        max_tokens: 100,
        system: 'Contact: amy@example.com',
        tools: [{ name: 'crm', description: 'Owned by amy@example.com', input_schema: { type: 'object', properties: { q: { type: 'string', description: 'e.g. 555-867-5309' } } } }],
        tool_choice: { type: 'none' },
        messages: [
          { role: 'user', content: 'find amy@example.com' },
          { role: 'assistant', content: [{ type: 'tool_use', id: 'tu_1', name: 'crm', input: { q: 'amy@example.com' } }] },
          { role: 'user', content: [{ type: 'tool_result', tool_use_id: 'tu_1', content: [{ type: 'text', text: 'amy@example.com, card 4111 1111 1111 1111' }] }] },
        ],
      },
      as('redact'),
    );
    const sent = t.upstream.requests[0]!.body;
    expect(t.upstream.requests[0]!.rawBody).not.toMatch(/amy@|4111|867-5309/);
    expect(sent.system).toBe('Contact: [EMAIL_1]');
    expect(sent.tools[0].description).toBe('Owned by [EMAIL_1]');
    expect(sent.tools[0].input_schema.properties.q.description).toBe('e.g. [PHONE_1]');
    expect(sent.messages[1].content[0].input).toEqual({ q: '[EMAIL_1]' });
    expect(sent.messages[2].content[0].content[0].text).toBe('[EMAIL_1], card [CARD_1]');
    expect(decision(await oneTrace(), 'guardrails.pii')?.outcome).toBe('redact');
  });

  it('redacts streamed requests too, on both routes', async () => {
    const s1 = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', stream: true, messages: user('stream to zoe@example.com') }, as('redact'));
    let text = '';
    for await (const c of s1) text += c.choices[0]?.delta.content ?? '';
    expect(text).toBe('echo: stream to [EMAIL_1]');
    const s2 = t.anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 100, messages: user('stream to zoe@example.com') }, as('redact'));
    expect(await s2.finalText()).toBe('echo: stream to [EMAIL_1]');
    for (const r of t.upstream.requests) expect(r.rawBody).not.toContain('zoe@example.com');
    const traces = await t.nextTraces(2);
    expect(traces.map((x) => [x.streamed, decision(x, 'guardrails.pii')?.outcome])).toEqual([
      [true, 'redact'],
      [true, 'redact'],
    ]);
  });

  it('redacts on the translated paths (OpenAI SDK → claude, Anthropic SDK → gpt)', async () => {
    await chat('redact', 'claude-haiku-4-5', 'mail kim@example.com then kim@example.com');
    const toAnthropic = t.upstream.requests.at(-1)!;
    expect(toAnthropic.provider).toBe('anthropic');
    expect(JSON.stringify(toAnthropic.body.messages)).toContain('mail [EMAIL_1] then [EMAIL_1]');
    expect(toAnthropic.rawBody).not.toContain('kim@example.com');

    const res = await messages('redact', 'gpt-4.1-mini', 'mail lee@example.com');
    const toOpenAi = t.upstream.requests.at(-1)!;
    expect(toOpenAi.provider).toBe('openai');
    expect(toOpenAi.rawBody).not.toContain('lee@example.com');
    expect(JSON.stringify(toOpenAi.body.messages)).toContain('mail [EMAIL_1]');
    // The model saw only the placeholder, so that is what it echoes.
    expect(res.content[0]).toMatchObject({ text: 'echo: mail [EMAIL_1]' });
    const traces = await t.nextTraces(2);
    expect(traces.map((x) => decision(x, 'guardrails.pii')?.outcome)).toEqual(['redact', 'redact']);
  });
});

describe('guardrails: blocking', () => {
  it('blocks PII with 403 guardrail_blocked naming the kinds, never the values (both routes)', async () => {
    const o = await openAiError(chat('block', 'gpt-4.1-mini', 'SSN 123-45-6789, mail pat@example.com'));
    expect(o.status).toBe(403);
    expect(o.code).toBe('guardrail_blocked');
    expect(o.message).toMatch(/SSN/);
    expect(o.message).toMatch(/EMAIL/);
    expect(o.message).not.toContain('123-45-6789');
    expect(o.message).not.toContain('pat@example.com');
    const a = await anthropicError(messages('block', 'gpt-4.1-mini', 'mail pat@example.com'));
    expect(a.status).toBe(403);
    expect(a.error).toMatchObject({ error: { type: 'permission_error', message: expect.stringContaining('EMAIL') } });
    expect(JSON.stringify(a.error)).not.toContain('pat@example.com');
    expect(t.upstream.requests).toHaveLength(0);
    const [t1, t2] = await t.nextTraces(2);
    expect(decision(t1!, 'guardrails.pii')).toEqual({ rule: 'guardrails.pii', outcome: 'deny', detail: 'SSN×1, EMAIL×1' });
    expect(JSON.stringify(t1)).not.toContain('pat@example.com');
    expect(t2!.errorCode).toBe('guardrail_blocked');
  });

  it('blocks secrets by default, before any upstream call: an AWS key (OpenAI SDK)', async () => {
    const o = await openAiError(chat('test', 'gpt-4.1-mini', `my key is ${AWS_KEY}, why does s3 say 403?`));
    expect(o.status).toBe(403);
    expect(o.code).toBe('guardrail_blocked');
    expect(o.message).toContain('AWS_ACCESS_KEY');
    expect(o.message).not.toContain(AWS_KEY);
    expect(t.upstream.requests).toHaveLength(0);
    const trace = await oneTrace();
    expect(decision(trace, 'guardrails.secrets')).toEqual({ rule: 'guardrails.secrets', outcome: 'deny', detail: 'AWS_ACCESS_KEY×1' });
    expect(trace.attempts).toEqual([]);
  });

  it('blocks a pasted .env by default (Anthropic SDK, and translated to gpt)', async () => {
    const dotenv = `here is my config:\nNODE_ENV=production\nOPENAI_API_KEY=${DOTENV_OPENAI_KEY}\nPORT=3000\n`;
    const a = await anthropicError(messages('test', 'claude-haiku-4-5', dotenv));
    expect(a.status).toBe(403);
    expect(a.error).toMatchObject({ error: { type: 'permission_error', message: expect.stringContaining('OPENAI_KEY') } });
    expect(JSON.stringify(a.error)).not.toContain(DOTENV_OPENAI_KEY);
    const b = await anthropicError(messages('test', 'gpt-4.1-mini', dotenv));
    expect(b.status).toBe(403);
    expect(t.upstream.requests).toHaveLength(0);
    const traces = await t.nextTraces(2);
    for (const trace of traces) {
      expect(decision(trace, 'guardrails.secrets')?.outcome).toBe('deny');
      expect(JSON.stringify(trace)).not.toContain(DOTENV_OPENAI_KEY);
    }
  });

  it('blocks a deny-pattern match, case-insensitively, naming the rule', async () => {
    const o = await openAiError(chat('deny', 'claude-haiku-4-5', 'Status of Project  NIGHTINGALE?'));
    expect(o.status).toBe(403);
    expect(o.code).toBe('guardrail_blocked');
    expect(o.message).toContain('deny rule #0');
    const a = await anthropicError(messages('deny', 'claude-haiku-4-5', 'project nightingale'));
    expect(a.status).toBe(403);
    expect(t.upstream.requests).toHaveLength(0);
    const [t1] = await t.nextTraces(2);
    expect(decision(t1!, 'guardrails.deny')).toEqual({ rule: 'guardrails.deny', outcome: 'deny', detail: 'deny[0] /project\\s+nightingale/' });
    await chat('deny', 'gpt-4.1-mini', 'a nightingale sang');
    expect(decision(await oneTrace(), 'guardrails.deny')).toBeUndefined();
  });
});

describe('guardrails over a conversation resent turn after turn', () => {
  it('redacts the history on every turn and still blocks a secret in a new message, however often the clean text was seen', async () => {
    // Long enough for the guardrails to remember clean texts (they skip short ones).
    const system = `You are the on-call assistant for the payments team. ${'Answer with the runbook step first, then the reasoning. '.repeat(6)}`;
    const incident = 'p99 went from 180 ms to 2.4 s on the card authorisation path, and retries doubled the load on the ledger. '.repeat(3);
    const history: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'system', content: system },
      { role: 'user', content: `The alert came from jane.doe@example.com: checkout latency is up since the deploy. ${incident}` },
    ];
    const send = (extra: OpenAI.ChatCompletionMessageParam[]) =>
      t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [...history, ...extra] }, as('redact'));
    await send([]);
    const turn2: OpenAI.ChatCompletionMessageParam[] = [
      { role: 'assistant', content: 'Roll back the deploy first. '.repeat(12) },
      { role: 'user', content: 'Rolled back. What should the postmortem cover?' },
    ];
    await send(turn2);
    const blocked = await openAiError(send([...turn2, { role: 'user', content: `the job log shows ${AWS_KEY}` }]));
    expect(blocked.code).toBe('guardrail_blocked');
    await send(turn2);
    expect(t.upstream.requests).toHaveLength(3);
    for (const sent of t.upstream.requests) {
      expect(sent.body.messages[0].content).toBe(system);
      expect(sent.body.messages[1].content).toBe(`The alert came from [EMAIL_1]: checkout latency is up since the deploy. ${incident}`);
      expect(sent.rawBody).not.toContain('jane.doe@');
    }
    const traces = await t.nextTraces(4);
    expect(traces.map((trace) => decision(trace, 'guardrails.pii')?.outcome)).toEqual(['redact', 'redact', undefined, 'redact']);
    expect(decision(traces[2]!, 'guardrails.secrets')).toEqual({ rule: 'guardrails.secrets', outcome: 'deny', detail: 'AWS_ACCESS_KEY×1' });
  });
});

describe('guardrails: token limits', () => {
  it('clamps the output limit the upstream receives, or sets one when absent (OpenAI route)', async () => {
    await chat('clamp', 'gpt-4.1-mini', 'long answer please', { max_tokens: 500 });
    expect(t.upstream.requests.at(-1)!.body.max_tokens).toBe(40);
    expect(decision(await oneTrace(), 'guardrails.maxOutputTokens')).toEqual({ rule: 'guardrails.maxOutputTokens', outcome: 'clamp', detail: 'max_tokens 500 → 40' });
    await chat('clamp', 'gpt-4.1-mini', 'no limit given');
    expect(t.upstream.requests.at(-1)!.body.max_completion_tokens).toBe(40);
    expect(decision(await oneTrace(), 'guardrails.maxOutputTokens')?.detail).toBe('max_completion_tokens set to 40');
    await chat('clamp', 'gpt-4.1-mini', 'small limit', { max_tokens: 10 });
    expect(t.upstream.requests.at(-1)!.body.max_tokens).toBe(10);
    expect(decision(await oneTrace(), 'guardrails.maxOutputTokens')).toBeUndefined();
  });

  it('clamps on /v1/messages and on both translated paths', async () => {
    await messages('clamp', 'claude-haiku-4-5', 'x', { max_tokens: 4096 });
    expect(t.upstream.requests.at(-1)!.body.max_tokens).toBe(40);
    await chat('clamp', 'claude-haiku-4-5', 'x', { max_tokens: 4096 });
    expect(t.upstream.requests.at(-1)!).toMatchObject({ provider: 'anthropic', body: { max_tokens: 40 } });
    await messages('clamp', 'gpt-4.1-mini', 'x', { max_tokens: 4096 });
    const toOpenAi = t.upstream.requests.at(-1)!.body;
    expect(toOpenAi.max_completion_tokens ?? toOpenAi.max_tokens).toBe(40);
    const traces = await t.nextTraces(3);
    expect(traces.map((x) => decision(x, 'guardrails.maxOutputTokens')?.outcome)).toEqual(['clamp', 'clamp', 'clamp']);
  });

  it('refuses input over maxInputTokens with a 413 in each route format, before any upstream call', async () => {
    const long = 'word '.repeat(40);
    const o = await openAiError(chat('small', 'gpt-4.1-mini', long));
    expect(o.status).toBe(413);
    expect(o.code).toBe('input_too_large');
    const a = await anthropicError(messages('small', 'gpt-4.1-mini', long));
    expect(a.status).toBe(413);
    expect(a.error).toMatchObject({ error: { type: 'request_too_large' } });
    expect(t.upstream.requests).toHaveLength(0);
    const [t1] = await t.nextTraces(2);
    expect(decision(t1!, 'guardrails.maxInputTokens')).toEqual({ rule: 'guardrails.maxInputTokens', outcome: 'deny', detail: '≈50 > 20' });
    await chat('small', 'gpt-4.1-mini', 'short');
    expect(decision(await oneTrace(), 'guardrails.maxInputTokens')).toBeUndefined();
  });
});

describe('rate limits', () => {
  it('answers 429 rate_limited with Retry-After past rpm, in each route format', async () => {
    await chat('rpm', 'gpt-4.1-mini', 'one');
    await messages('rpm', 'claude-haiku-4-5', 'two');
    const o = await openAiError(chat('rpm', 'gpt-4.1-mini', 'three'));
    expect(o).toBeInstanceOf(OpenAI.RateLimitError);
    expect(o.code).toBe('rate_limited');
    expect(o.type).toBe('rate_limit_error');
    expect(Number(o.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const a = await anthropicError(messages('rpm', 'claude-haiku-4-5', 'four'));
    expect(a).toBeInstanceOf(Anthropic.RateLimitError);
    expect(a.error).toMatchObject({ error: { type: 'rate_limit_error', message: expect.stringContaining('requests per minute') } });
    expect(Number(a.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const x = await anthropicError(messages('rpm', 'gpt-4.1-mini', 'five, translated'));
    expect(x.status).toBe(429);
    expect(t.upstream.requests).toHaveLength(2);
    const traces = await t.nextTraces(5);
    expect(traces.map((tr) => decision(tr, 'rate_limits')?.outcome)).toEqual(['allow', 'allow', 'deny', 'deny', 'deny']);
    expect(decision(traces[2]!, 'rate_limits')?.detail).toMatch(/^rpm limit; retry after \d+s$/);
  });

  it('holds tokens for requests in flight against tpm and gives unused ones back', async () => {
    // 1000 tokens a minute: one request asking for 900 output tokens holds most of them while it runs.
    t.upstream.enqueue('openai', { delayMs: 400 });
    const first = chat('tpm', 'gpt-4.1-mini', 'slow', { max_tokens: 900 });
    await new Promise((r) => setTimeout(r, 100));
    const denied = await openAiError(chat('tpm', 'gpt-4.1-mini', 'meanwhile', { max_tokens: 900 }));
    expect(denied.status).toBe(429);
    expect(denied.message).toContain('tokens per minute');
    expect(Number(denied.headers?.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const a = await anthropicError(messages('tpm', 'claude-haiku-4-5', 'meanwhile', { max_tokens: 900 }));
    expect(a.status).toBe(429);
    await first;
    // The slow one used a few tokens, not 900: the rest came back.
    await chat('tpm', 'gpt-4.1-mini', 'after', { max_tokens: 900 });
    const traces = await t.nextTraces(4);
    const byOutcome = traces.map((tr) => decision(tr, 'rate_limits'));
    // A denial says what the request wanted and what was free; an admission, the limits it was admitted under.
    expect(byOutcome.filter((d) => d?.outcome === 'deny').map((d) => d!.detail)).toEqual([
      expect.stringMatching(/^tpm limit: \d+ tokens wanted, -?\d+ free; retry after \d+s$/),
      expect.stringMatching(/^tpm limit: \d+ tokens wanted, -?\d+ free; retry after \d+s$/),
    ]);
    expect(byOutcome.filter((d) => d?.outcome === 'allow').map((d) => d!.detail)).toEqual(['within tpm 1000', 'within tpm 1000']);
  });
});
