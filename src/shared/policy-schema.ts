import { z } from 'zod';

/**
 * The policy document: tenant profiles as loaded from `--policy FILE` today and served by the
 * policy server later. One schema for both, so a bundle that parses here parses everywhere.
 */

export const providerKindSchema = z.enum(['openai', 'anthropic', 'mistral']);
export type ProviderKind = z.infer<typeof providerKindSchema>;

const providerIdSchema = z
  .string()
  .regex(/^[a-z0-9][a-z0-9_-]{0,63}$/, 'provider ids are lower-case letters, digits, "-" and "_" (max 64)');

export const providerSchema = z.strictObject({
  id: providerIdSchema,
  kind: providerKindSchema,
  /** What the provider's official SDK takes as its base URL (OpenAI's includes `/v1`). */
  baseUrl: z.url({ protocol: /^https?$/ }),
  region: z.string().min(1).optional(),
});
export type ProviderConfig = z.infer<typeof providerSchema>;

/** `providerId/model` or a bare model name. */
const targetRefSchema = z.string().min(1);

export const modelsPolicySchema = z.strictObject({
  /** Glob patterns (`*` wildcard) matched against the model name; empty or absent = allow all. */
  allow: z.array(z.string().min(1)).optional(),
  aliases: z.record(z.string().min(1), z.array(targetRefSchema).min(1)).optional(),
  fallbacks: z.record(z.string().min(1), z.array(targetRefSchema).min(1)).optional(),
});

export const budgetSchema = z.strictObject({
  window: z.enum(['day', 'month']),
  usd: z.number().positive(),
  action: z.enum(['warn', 'block']),
  /** IANA time zone the window is counted in; UTC when absent. */
  timeZone: z.string().min(1).optional(),
});
export type Budget = z.infer<typeof budgetSchema>;

export const guardrailsSchema = z.strictObject({
  pii: z.enum(['off', 'redact', 'block']).optional(),
  secrets: z.enum(['off', 'redact', 'block']).optional(),
  deny: z.array(z.string().min(1)).optional(),
  maxOutputTokens: z.number().int().positive().optional(),
  maxInputTokens: z.number().int().positive().optional(),
});
export type Guardrails = z.infer<typeof guardrailsSchema>;

const priceSchema = z.strictObject({
  input: z.number().nonnegative(),
  output: z.number().nonnegative(),
  cachedInput: z.number().nonnegative().optional(),
  cacheRead: z.number().nonnegative().optional(),
  cacheWrite5m: z.number().nonnegative().optional(),
  cacheWrite1h: z.number().nonnegative().optional(),
});

export const profileSchema = z.strictObject({
  tenant: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/, 'tenant names are letters, digits, ".", "-" and "_"'),
  version: z.number().int().nonnegative(),
  providers: z.array(providerSchema).min(1),
  models: modelsPolicySchema.optional(),
  residency: z.strictObject({ regions: z.array(z.string().min(1)) }).optional(),
  budgets: z.array(budgetSchema).optional(),
  /** Ceiling on what one request may reserve against a budget (USD). */
  reservationCeilingUsd: z.number().positive().optional(),
  rateLimits: z
    .strictObject({ rpm: z.number().int().positive().optional(), tpm: z.number().int().positive().optional() })
    .optional(),
  guardrails: guardrailsSchema.optional(),
  routing: z
    .strictObject({
      retries: z.number().int().min(0).max(10).optional(),
      timeoutMs: z.number().int().positive().optional(),
      connectTimeoutMs: z.number().int().positive().optional(),
      firstByteTimeoutMs: z.number().int().positive().optional(),
      idleTimeoutMs: z.number().int().positive().optional(),
      breaker: z
        .strictObject({
          failures: z.number().int().positive().optional(),
          coolDownMs: z.number().int().positive().optional(),
        })
        .optional(),
    })
    .optional(),
  logging: z
    .strictObject({
      capture: z.enum(['metadata', 'redacted', 'full']).optional(),
      retentionDays: z.number().int().positive().optional(),
    })
    .optional(),
  /** Per-model price overrides, USD per 1M tokens, keyed `providerKind/model` or `model`. */
  prices: z.record(z.string().min(1), priceSchema).optional(),
});
export type Profile = z.infer<typeof profileSchema>;

export const policyDocumentSchema = z
  .strictObject({
    active: z.string().min(1),
    profiles: z.array(profileSchema).min(1),
  })
  .superRefine((doc, ctx) => {
    const tenants = new Set<string>();
    doc.profiles.forEach((p, i) => {
      if (tenants.has(p.tenant)) {
        ctx.addIssue({ code: 'custom', path: ['profiles', i, 'tenant'], message: `duplicate tenant "${p.tenant}"` });
      }
      tenants.add(p.tenant);
      const ids = new Set<string>();
      p.providers.forEach((prov, j) => {
        if (ids.has(prov.id)) {
          ctx.addIssue({
            code: 'custom',
            path: ['profiles', i, 'providers', j, 'id'],
            message: `duplicate provider id "${prov.id}"`,
          });
        }
        ids.add(prov.id);
      });
    });
    if (!tenants.has(doc.active)) {
      ctx.addIssue({ code: 'custom', path: ['active'], message: `no profile has tenant "${doc.active}"` });
    }
  });
export type PolicyDocument = z.infer<typeof policyDocumentSchema>;
