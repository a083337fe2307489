import { z } from 'zod';
import { providerKindSchema } from '../../shared/policy-schema.js';

/**
 * The pricing table (`resources/pricing.json`): USD per 1M tokens for each provider kind and model,
 * each figure with the date it took effect and where it was read. Validated once at load; reading
 * the file is the caller's I/O.
 */

const usdPerMillion = z.number().nonnegative().finite();
const isoDate = z.string().regex(/^\d{4}-\d{2}-\d{2}$/, 'dates are YYYY-MM-DD');

/** The rates that can change together, in the base tier and in a long-context tier. */
const rateFields = {
  input: usdPerMillion,
  output: usdPerMillion,
  /** OpenAI-style cached input (a discount on tokens already counted as input). */
  cachedInput: usdPerMillion.optional(),
  /** Anthropic cache hits and refreshes. */
  cacheRead: usdPerMillion.optional(),
  /** Anthropic cache writes with the default 5-minute TTL. */
  cacheWrite5m: usdPerMillion.optional(),
  /** Anthropic cache writes with the 1-hour TTL. */
  cacheWrite1h: usdPerMillion.optional(),
};

export const longContextTierSchema = z.strictObject({
  /** The tier applies to the whole request when its prompt tokens exceed this. */
  aboveInputTokens: z.number().int().positive(),
  ...rateFields,
});

export const priceEntrySchema = z.strictObject({
  provider: providerKindSchema,
  model: z.string().min(1),
  /** Other ids billed exactly like `model` (dated snapshots are also matched by suffix, see pricing.ts). */
  aliases: z.array(z.string().min(1)).optional(),
  ...rateFields,
  longContext: longContextTierSchema.optional(),
  effectiveFrom: isoDate,
  source: z.url(),
  note: z.string().optional(),
});

export const pricingTableSchema = z.strictObject({
  version: z.number().int().positive(),
  currency: z.literal('USD'),
  unit: z.literal('per_1m_tokens'),
  updatedAt: isoDate,
  entries: z.array(priceEntrySchema).min(1),
});

export type PriceEntry = z.infer<typeof priceEntrySchema>;
export type LongContextTier = z.infer<typeof longContextTierSchema>;
export type PricingTable = z.infer<typeof pricingTableSchema>;

/** Validates parsed JSON; throws a ZodError naming the bad path. */
export function parsePricingTable(json: unknown): PricingTable {
  return pricingTableSchema.parse(json);
}

/** Non-throwing variant for callers that fall back to a bundled table. */
export function safeParsePricingTable(json: unknown): { ok: true; table: PricingTable } | { ok: false; error: string } {
  const r = pricingTableSchema.safeParse(json);
  return r.success ? { ok: true, table: r.data } : { ok: false, error: z.prettifyError(r.error) };
}
