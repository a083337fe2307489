import type { Profile, ProviderKind } from '../../shared/policy-schema.js';
import type { Usage } from '../../shared/trace.js';
import { BoundedCache } from '../bounded-cache.js';
import type { LongContextTier, PriceEntry, PricingTable } from './pricing-table.js';

/**
 * Cost of one request from its reported usage. Pure: the table and the profile's overrides are
 * passed in. Unknown models cost `null` with a note, never 0, so spend reports can say what they
 * could not price.
 *
 * Model id resolution, in order: exact id or alias; otherwise the longest table id that is a
 * prefix of the requested id followed only by a snapshot suffix (`-2025-08-07`, `-20250929`,
 * `-2411`, `-latest`). The suffix grammar is strict so `gpt-4o-mini-2024-07-18` resolves to
 * `gpt-4o-mini`, never to `gpt-4o`, and `gpt-5-mini` never to `gpt-5`.
 */

/** The rates one model is billed at (USD per 1M tokens), the profile override shape included. */
export interface Rates {
  input: number;
  output: number;
  cachedInput?: number | undefined;
  cacheRead?: number | undefined;
  cacheWrite5m?: number | undefined;
  cacheWrite1h?: number | undefined;
}

export type UsageShape = 'openai' | 'anthropic';
export type PriceOverrides = NonNullable<Profile['prices']>;

export interface CostOptions {
  /**
   * How the Usage was reported. `openai`: inputTokens includes cachedInputTokens (OpenAI
   * `prompt_tokens`, Mistral likewise). `anthropic`: inputTokens excludes cache reads and writes.
   * Defaults to `anthropic` for the anthropic kind and `openai` otherwise.
   */
  usageShape?: UsageShape;
  /** Profile `prices`, keyed `providerKind/model` or `model`; they win over the table. */
  overrides?: PriceOverrides | undefined;
  /** Anthropic reports cache writes as one number; the TTL is the request's. Default `5m`. */
  cacheWriteTtl?: '5m' | '1h';
  /** Pick the entry in effect at this time (entries may repeat with later `effectiveFrom`). Default: now. */
  atMs?: number;
}

export interface CostResult {
  usd: number | null;
  /** `unpriced_model`, `no_usage`, `partial_usage`, `long_context_tier`, … (comma-separated); null when exact. */
  note: string | null;
}

const SNAPSHOT_SUFFIX = /^-(?:\d{4}-\d{2}-\d{2}|\d{8}|\d{4}|latest)$/;

interface PriceIndex {
  /** `kind/model` → entries sorted by effectiveFrom descending. */
  readonly byId: Map<string, PriceEntry[]>;
  /**
   * Per kind, a requested model name → the entry lists of its candidate ids, in candidate order:
   * every request is priced (twice with a budget), nearly always for the same few names.
   */
  readonly listsByModel: Map<ProviderKind, BoundedCache<string, readonly PriceEntry[][]>>;
}

const indexCache = new WeakMap<PricingTable, PriceIndex>();

function indexOf(table: PricingTable): PriceIndex {
  let idx = indexCache.get(table);
  if (idx) return idx;
  const byId = new Map<string, PriceEntry[]>();
  const add = (key: string, e: PriceEntry): void => {
    const list = byId.get(key);
    if (list) list.push(e);
    else byId.set(key, [e]);
  };
  for (const e of table.entries) {
    add(`${e.provider}/${e.model}`, e);
    for (const a of e.aliases ?? []) add(`${e.provider}/${a}`, e);
  }
  for (const list of byId.values()) list.sort((a, b) => (a.effectiveFrom < b.effectiveFrom ? 1 : -1));
  idx = { byId, listsByModel: new Map() };
  indexCache.set(table, idx);
  return idx;
}

/** Candidate ids for `model`: itself, then each shorter prefix that leaves only a snapshot suffix. */
function candidateIds(model: string): readonly string[] {
  const known = candidateCache.get(model);
  if (known !== undefined) return known;
  const list = [model];
  for (let i = model.lastIndexOf('-'); i > 0; i = model.lastIndexOf('-', i - 1)) {
    if (SNAPSHOT_SUFFIX.test(model.slice(i))) list.push(model.slice(0, i));
  }
  return candidateCache.set(model, list);
}
/** Every request is priced: the model names a laptop sees. */
const candidateCache = new BoundedCache<string, readonly string[]>(1024);

const DAY_MS = 86_400_000;
/** The UTC day last asked for: every request is priced, nearly always on the same day. */
let lastDay = { start: Number.NaN, iso: '' };
function isoDayOf(ms: number): string {
  if (ms >= lastDay.start && ms < lastDay.start + DAY_MS) return lastDay.iso;
  const start = Math.floor(ms / DAY_MS) * DAY_MS;
  lastDay = { start, iso: new Date(start).toISOString().slice(0, 10) };
  return lastDay.iso;
}

function entryListsFor(idx: PriceIndex, kind: ProviderKind, model: string): readonly PriceEntry[][] {
  let byModel = idx.listsByModel.get(kind);
  if (!byModel) idx.listsByModel.set(kind, (byModel = new BoundedCache(1024)));
  const known = byModel.get(model);
  if (known !== undefined) return known;
  const found: PriceEntry[][] = [];
  for (const id of candidateIds(model)) {
    const list = idx.byId.get(`${kind}/${id}`);
    if (list) found.push(list);
  }
  return byModel.set(model, found);
}

/** The table entry billing `model` of `kind` at `atMs`, or undefined. */
export function findPriceEntry(table: PricingTable, kind: ProviderKind, model: string, atMs?: number): PriceEntry | undefined {
  const day = atMs === undefined ? undefined : isoDayOf(atMs);
  for (const list of entryListsFor(indexOf(table), kind, model)) {
    const entry = day === undefined ? list[0] : list.find((e) => e.effectiveFrom <= day);
    if (entry) return entry;
  }
  return undefined;
}

function findOverride(overrides: PriceOverrides | undefined, kind: ProviderKind, model: string): Rates | undefined {
  if (!overrides) return undefined;
  for (const id of candidateIds(model)) {
    const o = overrides[`${kind}/${id}`] ?? overrides[id];
    if (o) return o;
  }
  return undefined;
}

/** The rates for a model: profile override first, then the table. */
export function resolveRates(
  table: PricingTable,
  kind: ProviderKind,
  model: string,
  overrides?: PriceOverrides,
  atMs?: number,
): { rates: Rates; longContext?: LongContextTier | undefined; source: 'override' | 'table' } | undefined {
  const o = findOverride(overrides, kind, model);
  if (o) return { rates: o, source: 'override' };
  const e = findPriceEntry(table, kind, model, atMs);
  return e ? { rates: e, longContext: e.longContext, source: 'table' } : undefined;
}

const PER_MILLION = 1_000_000;

/** Rounds away float noise (1e-10 USD) without hiding real micro-costs. */
function roundUsd(usd: number): number {
  return Math.round(usd * 1e10) / 1e10;
}

export function computeCost(
  kind: ProviderKind,
  model: string,
  usage: Usage,
  table: PricingTable,
  options: CostOptions = {},
): CostResult {
  const resolved = resolveRates(table, kind, model, options.overrides, options.atMs);
  if (!resolved) return { usd: null, note: 'unpriced_model' };
  if (usage.inputTokens === null && usage.outputTokens === null) return { usd: null, note: 'no_usage' };

  const notes: string[] = [];
  if (usage.inputTokens === null || usage.outputTokens === null) notes.push('partial_usage');
  const shape = options.usageShape ?? (kind === 'anthropic' ? 'anthropic' : 'openai');
  const reportedInput = usage.inputTokens ?? 0;
  const cached = usage.cachedInputTokens ?? 0;
  const cacheWrite = usage.cacheWriteTokens ?? 0;
  const output = usage.outputTokens ?? 0;

  // Split prompt tokens into disjoint buckets, each billed once.
  let uncachedInput: number;
  let promptTokens: number;
  if (shape === 'openai') {
    // OpenAI `prompt_tokens` already counts `cached_tokens`.
    uncachedInput = Math.max(0, reportedInput - cached - cacheWrite);
    promptTokens = Math.max(reportedInput, cached + cacheWrite);
  } else {
    // Anthropic `input_tokens` excludes cache reads and writes.
    uncachedInput = reportedInput;
    promptTokens = reportedInput + cached + cacheWrite;
  }

  let rates: Rates = resolved.rates;
  const lc = resolved.longContext;
  if (lc && promptTokens > lc.aboveInputTokens) {
    rates = lc;
    notes.push('long_context_tier');
  }

  const cachedRate = shape === 'openai' ? (rates.cachedInput ?? rates.cacheRead) : (rates.cacheRead ?? rates.cachedInput);
  if (cached > 0 && cachedRate === undefined) notes.push('cached_priced_as_input');
  const writeRate = options.cacheWriteTtl === '1h' ? (rates.cacheWrite1h ?? rates.cacheWrite5m) : rates.cacheWrite5m;
  if (cacheWrite > 0 && writeRate === undefined) notes.push('cache_write_priced_as_input');

  const usd =
    (uncachedInput * rates.input +
      cached * (cachedRate ?? rates.input) +
      cacheWrite * (writeRate ?? rates.input) +
      output * rates.output) /
    PER_MILLION;
  return { usd: roundUsd(usd), note: notes.length > 0 ? notes.join(',') : null };
}

/**
 * Estimated worst-case cost before the request runs: every input token uncached, the whole output
 * limit used. `null` when the model is unpriced (the caller then reserves its ceiling).
 */
export function estimateCostUsd(
  kind: ProviderKind,
  model: string,
  estimatedInputTokens: number,
  maxOutputTokens: number,
  table: PricingTable,
  overrides?: PriceOverrides,
): number | null {
  // computeCost's arithmetic for this usage (all input uncached, nothing cached or written), without
  // its notes and result objects: admission runs it on every request of a profile with a budget.
  const resolved = resolveRates(table, kind, model, overrides);
  if (!resolved) return null;
  const lc = resolved.longContext;
  const rates = lc && estimatedInputTokens > lc.aboveInputTokens ? lc : resolved.rates;
  return roundUsd((estimatedInputTokens * rates.input + maxOutputTokens * rates.output) / PER_MILLION);
}
