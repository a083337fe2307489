import Anthropic from '@anthropic-ai/sdk';
import OpenAI from 'openai';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import { fingerprintSecret } from '../../src/core/credentials/fingerprint.js';
import type { SpendRow } from '../../src/core/storage/index.js';
import { runAsc } from '../support/cli-process.js';
import { PROVIDER_SECRETS, startTestGateway, type TestGateway } from '../support/gateway-harness.js';
import type { WireUpstream } from '../support/wire-upstream.js';

/**
 * Budgets, cost and the records a request leaves (trace = spend row, audit entry), through the
 * real gateway and the official SDKs, read back the way users read them (`asc spend`).
 */

type OpenAiError = InstanceType<typeof OpenAI.APIError>;
type AnthropicError = InstanceType<typeof Anthropic.APIError>;

/** USD per 1M tokens; large so a handful of tokens makes cents and the arithmetic is visible. */
const BUDGET_PRICE = { input: 1000, output: 1000 };
const BUDGET_USD = 0.05;
const CEILING_USD = 0.01;

const COST_PRICES = {
  'gpt-4.1-mini': { input: 2, output: 8, cachedInput: 0.5 },
  'claude-haiku-4-5': { input: 4, output: 20, cacheRead: 0.4, cacheWrite5m: 5 },
};

function providers(upstream: WireUpstream): unknown[] {
  return [
    { id: 'openai', kind: 'openai', baseUrl: upstream.baseUrls.openai, region: 'us' },
    { id: 'anthropic', kind: 'anthropic', baseUrl: upstream.baseUrls.anthropic, region: 'us' },
  ];
}

function policy(upstream: WireUpstream): Record<string, unknown> {
  const p = (tenant: string, version: number, rest: Record<string, unknown> = {}): Record<string, unknown> => ({ tenant, version, providers: providers(upstream), ...rest });
  return {
    active: 'test',
    profiles: [
      p('test', 1),
      p('other', 7),
      p('budget', 2, {
        prices: { 'gpt-4.1-mini': BUDGET_PRICE },
        reservationCeilingUsd: CEILING_USD,
        budgets: [{ window: 'day', usd: BUDGET_USD, action: 'block' }],
      }),
      p('warn', 3, { prices: { 'gpt-4.1-mini': BUDGET_PRICE }, budgets: [{ window: 'month', usd: 0.000001, action: 'warn' }] }),
      p('cost', 4, { prices: COST_PRICES }),
      p('unpriced', 5),
      p('cap-redacted', 6, { guardrails: { pii: 'redact' }, logging: { capture: 'redacted' } }),
      p('cap-metadata', 6, { guardrails: { pii: 'redact' }, logging: { capture: 'metadata' } }),
      p('cap-full', 6, { guardrails: { pii: 'redact', secrets: 'redact' }, logging: { capture: 'full' } }),
    ],
  };
}

let t: TestGateway;
beforeAll(async () => {
  t = await startTestGateway({ policy });
});
afterAll(async () => {
  await t.close();
});
beforeEach(() => {
  t.upstream.reset();
  t.upstream.setDefaultDelay(0);
  t.drainTraces();
});

const as = (tenant: string) => ({ headers: { 'x-asc-tenant': tenant } });
const user = (content: string) => [{ role: 'user' as const, content }];

async function spendByTenant(): Promise<SpendRow[]> {
  t.gateway.store.flush();
  const res = await runAsc(['spend', '--by', 'tenant', '--json', '--data-dir', t.dataDir]);
  expect(res.code, res.stderr).toBe(0);
  return (JSON.parse(res.stdout) as { rows: SpendRow[] }).rows;
}

const usd = (tokensTimesRate: number): number => tokensTimesRate / 1_000_000;

describe('budgets', () => {
  it('admits what the budget can reserve out of 20 concurrent requests; the overshoot stays within one reservation', async () => {
    // Every request's worst case (input + 20 output tokens at $1000/M) is over the $0.01 ceiling,
    // so each reserves exactly $0.01: a $0.05 budget holds five. The upstream holds each answer
    // long enough for all twenty to be admitted or refused before any settles.
    t.upstream.setDefaultDelay(300);
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        i % 2 === 0
          ? t.openai.chat.completions.create({ model: 'gpt-4.1-mini', max_tokens: 20, messages: user(`budget ${i}`) }, as('budget')).then(
              () => ({ ok: true as const, route: 'openai' }),
              (e: OpenAiError) => ({ ok: false as const, route: 'openai', status: e.status, code: e.code, type: e.type, message: e.message }),
            )
          : t.anthropic.messages.create({ model: 'gpt-4.1-mini', max_tokens: 20, messages: user(`budget ${i}`) }, as('budget')).then(
              () => ({ ok: true as const, route: 'anthropic' }),
              (e: AnthropicError) => {
                const inner = (e.error as { error?: { type?: string; message?: string } }).error;
                return { ok: false as const, route: 'anthropic', status: e.status, code: undefined, type: inner?.type, message: inner?.message ?? '' };
              },
            ),
      ),
    );
    const traces = await t.nextTraces(20);
    const admitted = results.filter((r) => r.ok);
    const denied = results.filter((r) => !r.ok);
    expect(admitted).toHaveLength(Math.round(BUDGET_USD / CEILING_USD));
    expect(denied).toHaveLength(20 - admitted.length);
    for (const d of denied) {
      if (d.ok) continue;
      expect(d.status).toBe(429);
      expect(d.type).toBe(d.route === 'openai' ? 'insufficient_quota' : 'rate_limit_error');
      if (d.route === 'openai') expect(d.code).toBe('budget_exceeded');
      // Names the window, the limit and what is spent / reserved.
      expect(d.message).toMatch(/daily budget of \$0\.0500 for tenant "budget"/);
      expect(d.message).toMatch(/window day:\d{4}-\d{2}-\d{2}: \$\d+\.\d{4} spent, \$0\.0500 reserved/);
    }
    expect(traces.filter((x) => x.errorCode === 'budget_exceeded')).toHaveLength(denied.length);
    for (const x of traces) {
      const d = x.decisions.find((dd) => dd.rule === 'budget.day');
      if (x.status === 200) expect(d).toBeUndefined();
      else expect(d).toMatchObject({ outcome: 'deny', detail: expect.stringContaining('day budget $0.0500 reached') });
    }

    // Real spend, as `asc spend` reports it: each admitted request cost less than it reserved.
    const row = (await spendByTenant()).find((r) => r.key === 'budget')!;
    expect(row.requests).toBe(20);
    expect(row.errors).toBe(denied.length);
    const traceSum = traces.reduce((n, x) => n + (x.costUsd ?? 0), 0);
    expect(row.costUsd).toBeCloseTo(traceSum, 12);
    expect(row.costUsd).toBeGreaterThan(0);
    expect(row.costUsd).toBeLessThan(BUDGET_USD + CEILING_USD);
    for (const x of traces.filter((tr) => tr.status === 200)) expect(x.costUsd!).toBeLessThanOrEqual(CEILING_USD);

    // Settled spend is under the limit: sequential requests are admitted until it is reached, then
    // the refusal names what was spent, and the total still stays within one reservation.
    t.upstream.setDefaultDelay(0);
    let refusal: OpenAiError | null = null;
    let more = 0;
    for (let i = 0; i < 10 && refusal === null; i++) {
      refusal = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', max_tokens: 20, messages: user(`after ${i}`) }, as('budget')).then(() => null, (e: OpenAiError) => e);
      if (refusal === null) more++;
    }
    await t.nextTraces(more + 1);
    expect(refusal?.status).toBe(429);
    const final = (await spendByTenant()).find((r) => r.key === 'budget')!;
    expect(final.costUsd).toBeGreaterThanOrEqual(BUDGET_USD);
    expect(final.costUsd).toBeLessThan(BUDGET_USD + CEILING_USD);
    expect(refusal!.message).toContain(`$${final.costUsd.toFixed(4)} spent, $0.0000 reserved`);
  });

  it('serves and records a warn decision once a warn budget is used up', async () => {
    await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: user('first') }, as('warn'));
    const [first] = await t.nextTraces();
    expect(first!.decisions.find((d) => d.rule === 'budget.month')).toBeUndefined();
    const res = await t.anthropic.messages.create({ model: 'gpt-4.1-mini', max_tokens: 50, messages: user('second') }, as('warn'));
    expect(res.content[0]).toMatchObject({ text: 'echo: second' });
    const [second] = await t.nextTraces();
    expect(second!.status).toBe(200);
    expect(second!.decisions.find((d) => d.rule === 'budget.month')).toMatchObject({ outcome: 'warn', detail: expect.stringMatching(/^month budget \$0\.0000 reached in window month:\d{4}-\d{2}/) });
  });
});

describe('cost', () => {
  it('prices OpenAI cached tokens at the cached rate (OpenAI SDK → gpt)', async () => {
    const res = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: user('a long prompt [cached:12]') }, as('cost'));
    const u = res.usage!;
    expect(u.prompt_tokens_details?.cached_tokens).toBe(12);
    const [trace] = await t.nextTraces();
    const p = COST_PRICES['gpt-4.1-mini'];
    const expected = usd((u.prompt_tokens - 12) * p.input + 12 * p.cachedInput + u.completion_tokens * p.output);
    expect(trace!.costUsd).toBeCloseTo(expected, 12);
    expect(trace!.costNote).toBeNull();
    expect(trace!.usage).toMatchObject({ inputTokens: u.prompt_tokens, cachedInputTokens: 12, outputTokens: u.completion_tokens });
  });

  it('prices Anthropic cache reads and writes at their rates (Anthropic SDK → claude)', async () => {
    const res = await t.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 100, messages: user('a long prompt [cached:30] [cache_write:20]') }, as('cost'));
    const u = res.usage;
    expect(u.cache_read_input_tokens).toBe(30);
    expect(u.cache_creation_input_tokens).toBe(20);
    const [trace] = await t.nextTraces();
    const p = COST_PRICES['claude-haiku-4-5'];
    // Anthropic's input_tokens excludes cache reads and writes.
    const expected = usd(u.input_tokens * p.input + 30 * p.cacheRead + 20 * p.cacheWrite5m + u.output_tokens * p.output);
    expect(trace!.costUsd).toBeCloseTo(expected, 12);
    // The trace holds usage in one meaning: input includes cache reads and writes.
    expect(trace!.usage).toMatchObject({ inputTokens: u.input_tokens + 50, cachedInputTokens: 30, cacheWriteTokens: 20, outputTokens: u.output_tokens });
  });

  it('prices the translated paths from the upstream usage (OpenAI SDK → claude, Anthropic SDK → gpt)', async () => {
    const a = await t.openai.chat.completions.create({ model: 'claude-haiku-4-5', messages: user('translated [cached:30] [cache_write:20]') }, as('cost'));
    const b = await t.anthropic.messages.create({ model: 'gpt-4.1-mini', max_tokens: 100, messages: user('translated [cached:12]') }, as('cost'));
    const [ta, tb] = await t.nextTraces(2);
    const claude = COST_PRICES['claude-haiku-4-5'];
    // The OpenAI client sees prompt_tokens including the cache reads and writes.
    const uncachedA = a.usage!.prompt_tokens - 30 - 20;
    expect(a.usage!.prompt_tokens_details?.cached_tokens).toBe(30);
    expect(ta!.costUsd).toBeCloseTo(usd(uncachedA * claude.input + 30 * claude.cacheRead + 20 * claude.cacheWrite5m + a.usage!.completion_tokens * claude.output), 12);
    const gpt = COST_PRICES['gpt-4.1-mini'];
    // The Anthropic client sees input_tokens without the cached ones.
    expect(b.usage.cache_read_input_tokens).toBe(12);
    expect(tb!.costUsd).toBeCloseTo(usd(b.usage.input_tokens * gpt.input + 12 * gpt.cachedInput + b.usage.output_tokens * gpt.output), 12);
  });

  it('prices streamed answers the same way (Anthropic SDK stream → claude, OpenAI SDK stream → claude)', async () => {
    const stream = t.anthropic.messages.stream({ model: 'claude-haiku-4-5', max_tokens: 100, messages: user('streamed [cached:30] [cache_write:20]') }, as('cost'));
    const final = await stream.finalMessage();
    const u = final.usage;
    const p = COST_PRICES['claude-haiku-4-5'];
    const [ta] = await t.nextTraces();
    expect(ta!.streamed).toBe(true);
    expect(ta!.costUsd).toBeCloseTo(usd(u.input_tokens * p.input + 30 * p.cacheRead + 20 * p.cacheWrite5m + u.output_tokens * p.output), 12);

    const chunks = await t.openai.chat.completions.create(
      { model: 'claude-haiku-4-5', stream: true, stream_options: { include_usage: true }, messages: user('streamed [cached:30] [cache_write:20]') },
      as('cost'),
    );
    let cu: OpenAI.CompletionUsage | undefined;
    for await (const c of chunks) if (c.usage) cu = c.usage;
    const [tb] = await t.nextTraces();
    expect(cu?.prompt_tokens_details?.cached_tokens).toBe(30);
    expect(tb!.costUsd).toBeCloseTo(usd((cu!.prompt_tokens - 50) * p.input + 30 * p.cacheRead + 20 * p.cacheWrite5m + cu!.completion_tokens * p.output), 12);
  });

  it('flags an unpriced model (cost null, never $0) and counts it apart in asc spend', async () => {
    await t.openai.chat.completions.create({ model: 'gpt-9-preview', messages: user('who prices me?') }, as('unpriced'));
    await t.anthropic.messages.create({ model: 'gpt-4.1-mini', max_tokens: 50, messages: user('priced') }, as('unpriced'));
    const [unpriced, priced] = await t.nextTraces(2);
    expect(unpriced).toMatchObject({ status: 200, costUsd: null, costNote: 'unpriced_model', modelUsed: 'gpt-9-preview' });
    expect(priced!.costUsd).toBeGreaterThan(0);
    const row = (await spendByTenant()).find((r) => r.key === 'unpriced')!;
    expect(row).toMatchObject({ requests: 2, unpriced: 1 });
    expect(row.costUsd).toBeCloseTo(priced!.costUsd!, 12);
    t.gateway.store.flush();
    const text = await runAsc(['spend', '--data-dir', t.dataDir]);
    expect(text.stdout).toMatch(/unpriced: [1-9]\d* \(no price known: not included in the USD total\)/);
  });
});

describe('spend rows and audit entries', () => {
  it('names tenant and profile version on every trace, spend row and audit entry; x-asc-tenant picks the profile', async () => {
    await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: user('default tenant') });
    await t.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 50, messages: user('other tenant') }, as('other'));
    await t.openai.chat.completions.create({ model: 'gpt-4.1', messages: user(`AKIAZ7QW3RT5YU8IO2PX`) }, as('other')).catch(() => {});
    const unknown = await t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: user('x') }, as('nobody')).catch((e: OpenAiError) => e);
    expect((unknown as OpenAiError).status).toBe(400);
    expect((unknown as OpenAiError).code).toBe('unknown_tenant');
    const [a, b, c, d] = await t.nextTraces(4);
    expect(a).toMatchObject({ tenant: 'test', profileVersion: 1, status: 200 });
    expect(b).toMatchObject({ tenant: 'other', profileVersion: 7, status: 200, credentialFingerprint: fingerprintSecret(PROVIDER_SECRETS.anthropic) });
    expect(c).toMatchObject({ tenant: 'other', profileVersion: 7, status: 403, errorCode: 'guardrail_blocked' });
    // No profile could be picked: the trace says so rather than inventing one.
    expect(d).toMatchObject({ tenant: null, profileVersion: null, status: 400, errorCode: 'unknown_tenant' });

    const ids = new Set([a!.id, b!.id, c!.id]);
    const rows = t.gateway.store.recentTraces(1000).filter((r) => ids.has(r.id));
    expect(rows).toHaveLength(3);
    for (const r of rows) {
      expect(r.tenant).not.toBeNull();
      expect(r.profileVersion).not.toBeNull();
    }
    const audit = t.gateway.store.exportAudit({}).filter((e) => ids.has(e.detail.traceId as string));
    expect(audit.map((e) => [e.type, e.tenant, e.profile_version, e.detail.credentialFingerprint])).toEqual([
      ['request.served', 'test', 1, fingerprintSecret(PROVIDER_SECRETS.openai)],
      ['request.served', 'other', 7, fingerprintSecret(PROVIDER_SECRETS.anthropic)],
      ['request.denied', 'other', 7, null],
    ]);
    expect(audit[2]!.detail.deniedBy).toEqual(['guardrails.secrets']);
    // Every profile loaded at start is on the chain with its version.
    const loaded = t.gateway.store.exportAudit({}).filter((e) => e.type === 'profile.loaded');
    expect(loaded.map((e) => [e.tenant, e.profile_version])).toContainEqual(['other', 7]);
    expect(loaded.map((e) => [e.tenant, e.profile_version])).toContainEqual(['budget', 2]);
    const spend = await spendByTenant();
    expect(spend.find((r) => r.key === 'other')).toMatchObject({ requests: 2, errors: 1 });
  });

  it('records the first use of each credential once, with its fingerprint, never the key', async () => {
    const firstUse = t.gateway.store.exportAudit({}).filter((e) => e.type === 'credential.first_used');
    const fps = firstUse.map((e) => e.detail.credentialFingerprint);
    expect(new Set(fps).size).toBe(fps.length);
    expect(fps).toContain(fingerprintSecret(PROVIDER_SECRETS.openai));
    expect(JSON.stringify(t.gateway.store.exportAudit({}))).not.toContain(PROVIDER_SECRETS.openai);
  });
});

describe('logging.capture', () => {
  const body = (tenant: string): Promise<unknown> =>
    t.openai.chat.completions.create({ model: 'gpt-4.1-mini', messages: [{ role: 'system', content: 'owner: sue@example.com' }, { role: 'user', content: 'mail sue@example.com' }] }, as(tenant));

  it("'redacted' stores the body as it left the guardrails", async () => {
    await body('cap-redacted');
    const [trace] = await t.nextTraces();
    const captured = t.gateway.store.capturedBody(trace!.id);
    expect(captured).not.toBeNull();
    expect(captured).not.toContain('sue@example.com');
    expect(JSON.parse(captured!)).toMatchObject({ messages: [{ content: 'owner: [EMAIL_1]' }, { content: 'mail [EMAIL_1]' }] });
    // What was stored is what the upstream received.
    expect(JSON.parse(captured!).messages).toEqual(t.upstream.requests[0]!.body.messages);
  });

  it("'full' stores the body as the client sent it, PII included, secrets still masked", async () => {
    const awsKey = 'AKIAIOSFODNN7EXAMPLE';
    await t.openai.chat.completions.create(
      { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: `mail sue@example.com, key ${awsKey}` }] },
      as('cap-full'),
    );
    const [trace] = await t.nextTraces();
    const captured = t.gateway.store.capturedBody(trace!.id);
    expect(captured).toContain('sue@example.com');
    expect(captured).not.toContain(awsKey);
  });

  it("'metadata' stores no body", async () => {
    await body('cap-metadata');
    const [trace] = await t.nextTraces();
    expect(t.gateway.store.capturedBody(trace!.id)).toBeNull();
    await t.anthropic.messages.create({ model: 'claude-haiku-4-5', max_tokens: 20, messages: user('default is metadata') });
    const [other] = await t.nextTraces();
    expect(t.gateway.store.capturedBody(other!.id)).toBeNull();
  });
});

