import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Usage } from '../../../src/shared/trace.js';
import {
  computeCost,
  estimateCostUsd,
  findPriceEntry,
  parsePricingTable,
  safeParsePricingTable,
  type PricingTable,
} from '../../../src/core/policy/index.js';

const shipped = parsePricingTable(JSON.parse(readFileSync(new URL('../../../resources/pricing.json', import.meta.url), 'utf8')));

const usage = (u: Partial<Usage>): Usage => ({ inputTokens: null, outputTokens: null, cachedInputTokens: null, cacheWriteTokens: null, ...u });

const table: PricingTable = parsePricingTable({
  version: 1,
  currency: 'USD',
  unit: 'per_1m_tokens',
  updatedAt: '2026-11-27',
  entries: [
    { provider: 'openai', model: 'gpt-4o', input: 2.5, output: 10, cachedInput: 1.25, effectiveFrom: '2024-08-06', source: 'https://platform.openai.com/docs/pricing' },
    { provider: 'openai', model: 'gpt-4o-mini', input: 0.15, output: 0.6, cachedInput: 0.075, effectiveFrom: '2024-07-18', source: 'https://platform.openai.com/docs/pricing' },
    {
      provider: 'anthropic',
      model: 'claude-sonnet-4-5',
      input: 3,
      output: 15,
      cacheRead: 0.3,
      cacheWrite5m: 3.75,
      cacheWrite1h: 6,
      longContext: { aboveInputTokens: 200_000, input: 6, output: 22.5, cacheRead: 0.6, cacheWrite5m: 7.5, cacheWrite1h: 12 },
      effectiveFrom: '2025-09-29',
      source: 'https://platform.claude.com/docs/en/about-claude/pricing',
    },
    { provider: 'mistral', model: 'mistral-large-latest', input: 2, output: 6, effectiveFrom: '2024-11-18', source: 'https://mistral.ai/pricing' },
    { provider: 'mistral', model: 'mistral-large-latest', input: 0.5, output: 1.5, effectiveFrom: '2025-12-02', source: 'https://mistral.ai/pricing' },
  ],
});

describe('pricing table', () => {
  it('the shipped resources/pricing.json parses and prices every model the gateway names', () => {
    const required: [ 'openai' | 'anthropic' | 'mistral', string][] = [
      ['openai', 'gpt-5'], ['openai', 'gpt-5-mini'], ['openai', 'gpt-4.1'], ['openai', 'gpt-4.1-mini'], ['openai', 'gpt-4o'],
      ['openai', 'gpt-4o-mini'], ['openai', 'o3'], ['openai', 'o4-mini'], ['openai', 'text-embedding-3-small'], ['openai', 'text-embedding-3-large'],
      ['anthropic', 'claude-opus-4-1'], ['anthropic', 'claude-sonnet-4-5'], ['anthropic', 'claude-haiku-4-5'], ['anthropic', 'claude-3-5-haiku'],
      ['mistral', 'mistral-large-latest'], ['mistral', 'mistral-medium-latest'], ['mistral', 'mistral-small-latest'], ['mistral', 'codestral-latest'], ['mistral', 'mistral-embed'],
    ];
    for (const [kind, model] of required) expect(findPriceEntry(shipped, kind, model), `${kind}/${model}`).toBeDefined();
    for (const e of shipped.entries) expect(e.source).toMatch(/^https:\/\//);
  });

  it('a malformed table is rejected with the path of the problem', () => {
    const bad = safeParsePricingTable({ version: 1, currency: 'USD', unit: 'per_1m_tokens', updatedAt: '2026-11-27', entries: [{ provider: 'openai', model: 'x', input: -1, output: 1, effectiveFrom: '2026-01-01', source: 'https://x' }] });
    expect(bad.ok).toBe(false);
    if (!bad.ok) expect(bad.error).toContain('entries');
    expect(() => parsePricingTable({})).toThrow();
  });

  it('dated snapshot ids resolve to their base model, never to a shorter sibling', () => {
    expect(findPriceEntry(table, 'openai', 'gpt-4o-2024-08-06')?.model).toBe('gpt-4o');
    expect(findPriceEntry(table, 'openai', 'gpt-4o-mini-2024-07-18')?.model).toBe('gpt-4o-mini');
    expect(findPriceEntry(table, 'anthropic', 'claude-sonnet-4-5-20250929')?.model).toBe('claude-sonnet-4-5');
    expect(findPriceEntry(table, 'openai', 'gpt-4o-audio-preview')).toBeUndefined();
    expect(findPriceEntry(shipped, 'anthropic', 'claude-3-5-haiku-20241022')?.model).toBe('claude-3-5-haiku');
    expect(findPriceEntry(shipped, 'openai', 'gpt-5-mini-2025-08-07')?.model).toBe('gpt-5-mini');
  });

  it('the entry in effect at the given time is used', () => {
    expect(findPriceEntry(table, 'mistral', 'mistral-large-latest', Date.UTC(2025, 0, 1))?.input).toBe(2);
    expect(findPriceEntry(table, 'mistral', 'mistral-large-latest', Date.UTC(2026, 0, 1))?.input).toBe(0.5);
    // The UTC day is remembered between calls: both sides of midnight, in either order.
    const midnight = Date.UTC(2025, 11, 2);
    for (const [at, input] of [[midnight - 1, 2], [midnight, 0.5], [midnight - 1, 2], [midnight + 86_399_999, 0.5], [midnight - 86_400_000, 2]] as const) {
      expect(findPriceEntry(table, 'mistral', 'mistral-large-latest', at)?.input).toBe(input);
    }
    expect(findPriceEntry(table, 'mistral', 'mistral-large-latest')?.input).toBe(0.5);
  });
});

describe('computeCost', () => {
  it('an unpriced model is flagged, not zero', () => {
    expect(computeCost('openai', 'gpt-9-ultra', usage({ inputTokens: 1000, outputTokens: 10 }), table)).toEqual({ usd: null, note: 'unpriced_model' });
  });

  it('input and output tokens are priced per million', () => {
    const r = computeCost('openai', 'gpt-4o', usage({ inputTokens: 1_000_000, outputTokens: 100_000, cachedInputTokens: 0 }), table);
    expect(r).toEqual({ usd: 3.5, note: null });
  });

  it('cached tokens are priced as cached for OpenAI usage (prompt_tokens includes them)', () => {
    const r = computeCost('openai', 'gpt-4o', usage({ inputTokens: 1_000_000, outputTokens: 0, cachedInputTokens: 400_000 }), table);
    // 600K uncached × 2.5 + 400K cached × 1.25
    expect(r.usd).toBeCloseTo(1.5 + 0.5, 10);
  });

  it('cache reads and writes are priced on top of input for Anthropic usage (input_tokens excludes them)', () => {
    const r = computeCost('anthropic', 'claude-sonnet-4-5', usage({ inputTokens: 1000, outputTokens: 1000, cachedInputTokens: 10_000, cacheWriteTokens: 2000 }), table);
    // 1000×3 + 10000×0.3 + 2000×3.75 + 1000×15 = 3000 + 3000 + 7500 + 15000 = 28500 per 1M
    expect(r.usd).toBeCloseTo(0.0285, 10);
    const oneHour = computeCost('anthropic', 'claude-sonnet-4-5', usage({ inputTokens: 0, outputTokens: 0, cacheWriteTokens: 100_000 }), table, { cacheWriteTtl: '1h' });
    expect(oneHour.usd).toBeCloseTo(0.6, 10);
  });

  it('the usage shape is a parameter: Anthropic-shaped usage from an OpenAI-kind provider is not double-subtracted', () => {
    const u = usage({ inputTokens: 1_000_000, outputTokens: 0, cachedInputTokens: 1_000_000 });
    expect(computeCost('openai', 'gpt-4o', u, table, { usageShape: 'anthropic' }).usd).toBeCloseTo(2.5 + 1.25, 10);
    expect(computeCost('openai', 'gpt-4o', u, table, { usageShape: 'openai' }).usd).toBeCloseTo(1.25, 10);
  });

  it('a prompt over 200K tokens bills the whole request at the long-context tier', () => {
    const r = computeCost('anthropic', 'claude-sonnet-4-5', usage({ inputTokens: 150_000, outputTokens: 10_000, cachedInputTokens: 60_000, cacheWriteTokens: 0 }), table);
    // 150K×6 + 60K×0.6 + 10K×22.5 = 900000 + 36000 + 225000 per 1M
    expect(r.usd).toBeCloseTo(1.161, 10);
    expect(r.note).toBe('long_context_tier');
  });

  it('profile price overrides win over the table, by kind/model or bare model, dated ids included', () => {
    const overrides = { 'openai/gpt-4o': { input: 1, output: 1 }, 'gpt-9-ultra': { input: 10, output: 10 } };
    expect(computeCost('openai', 'gpt-4o-2024-08-06', usage({ inputTokens: 1_000_000, outputTokens: 0 }), table, { overrides }).usd).toBe(1);
    expect(computeCost('openai', 'gpt-9-ultra', usage({ inputTokens: 1_000_000, outputTokens: 0 }), table, { overrides }).usd).toBe(10);
  });

  it('missing usage is null with a note; partial usage is priced and noted', () => {
    expect(computeCost('openai', 'gpt-4o', usage({}), table)).toEqual({ usd: null, note: 'no_usage' });
    expect(computeCost('openai', 'gpt-4o', usage({ inputTokens: 1_000_000 }), table)).toEqual({ usd: 2.5, note: 'partial_usage' });
  });

  it('a request estimate prices every input token uncached and the whole output limit', () => {
    expect(estimateCostUsd('openai', 'gpt-4o', 1_000_000, 100_000, table)).toBeCloseTo(3.5, 10);
    expect(estimateCostUsd('openai', 'nope', 1, 1, table)).toBeNull();
  });

  it('a request estimate is computeCost of that usage, for every shipped model, snapshot name and override', () => {
    const names = shipped.entries.flatMap((e) => [
      [e.provider, e.model] as const,
      [e.provider, `${e.model}-2025-01-01`] as const,
      ...(e.aliases ?? []).map((a) => [e.provider, a] as const),
    ]);
    const overrides = { 'openai/gpt-4o': { input: 1.5, output: 7 }, 'claude-sonnet-4-5': { input: 2, output: 9 } };
    const tierEdges = shipped.entries.flatMap((e) => (e.longContext ? [-1, 0, 1].map((d) => (e.longContext?.aboveInputTokens ?? 0) + d) : []));
    expect(tierEdges.length).toBeGreaterThan(0);
    fc.assert(
      fc.property(
        fc.constantFrom(...names, ['openai', 'gpt-4o'] as const, ['anthropic', 'claude-sonnet-4-5'] as const, ['mistral', 'no-such-model'] as const),
        fc.oneof(fc.integer({ min: 0, max: 2_000_000 }), fc.constantFrom(...tierEdges)),
        fc.integer({ min: 0, max: 200_000 }),
        fc.boolean(),
        ([kind, model], input, output, withOverrides) => {
          const o = withOverrides ? overrides : undefined;
          const expected = computeCost(kind, model, usage({ inputTokens: input, outputTokens: output, cachedInputTokens: 0, cacheWriteTokens: 0 }), shipped, {
            overrides: o,
            usageShape: 'anthropic',
          }).usd;
          expect(estimateCostUsd(kind, model, input, output, shipped, o)).toBe(expected);
        },
      ),
      { numRuns: 1000 },
    );
  });

  it('the shipped table prices an embeddings request by input only', () => {
    expect(computeCost('openai', 'text-embedding-3-small', usage({ inputTokens: 1_000_000, outputTokens: 0 }), shipped).usd).toBeCloseTo(0.02, 10);
  });
});
