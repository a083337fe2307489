import type { Guardrails } from '../../../shared/policy-schema.js';

/**
 * A profile's guardrails, compiled once per profile so requests do no compilation.
 * Defaults when the profile says nothing: PII off, secrets BLOCK (a pasted `.env` is the commonest
 * leak, and a blocked request is recoverable while a leaked key is not).
 */

export type GuardrailAction = 'off' | 'redact' | 'block';

export interface CompiledDenyRule {
  readonly index: number;
  readonly source: string;
  readonly re: RegExp;
}

export interface CompiledGuardrails {
  readonly pii: GuardrailAction;
  readonly secrets: GuardrailAction;
  readonly deny: readonly CompiledDenyRule[];
  readonly maxOutputTokens?: number | undefined;
  readonly maxInputTokens?: number | undefined;
}

export const DEFAULT_PII_ACTION: GuardrailAction = 'off';
export const DEFAULT_SECRETS_ACTION: GuardrailAction = 'block';

/**
 * Compiles deny patterns case-insensitively. An invalid pattern throws, naming its index: a
 * profile with a broken deny rule must fail to load rather than silently allow.
 */
export function compileGuardrails(g: Guardrails | undefined): CompiledGuardrails {
  const deny = (g?.deny ?? []).map((source, index): CompiledDenyRule => {
    try {
      return { index, source, re: new RegExp(source, 'i') };
    } catch (e) {
      throw new Error(`guardrails.deny[${index}] is not a valid regular expression: ${(e as Error).message}`);
    }
  });
  return {
    pii: g?.pii ?? DEFAULT_PII_ACTION,
    secrets: g?.secrets ?? DEFAULT_SECRETS_ACTION,
    deny,
    maxOutputTokens: g?.maxOutputTokens,
    maxInputTokens: g?.maxInputTokens,
  };
}
