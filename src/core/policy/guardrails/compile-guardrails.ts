import type { Guardrails } from '../../../shared/policy-schema.js';
import { CleanTextMemo } from './clean-text-memo.js';
import { compileOutputClamp, type CompiledOutputClamp } from './output-limit.js';

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
  /**
   * Matches a text exactly when some deny rule does: one scan instead of one per rule for the
   * common case, a text that matches none. Null when the rules cannot be joined safely.
   */
  readonly anyDeny: RegExp | null;
  /** `maxOutputTokens`, compiled; null when the profile sets no cap. */
  readonly outputClamp: CompiledOutputClamp | null;
  readonly maxInputTokens?: number | undefined;
  /** Texts already found clean under these guardrails (null: none remembered, every text scanned). */
  readonly cleanTexts: CleanTextMemo | null;
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
  const pii = g?.pii ?? DEFAULT_PII_ACTION;
  const secrets = g?.secrets ?? DEFAULT_SECRETS_ACTION;
  const scans = pii !== 'off' || secrets !== 'off' || deny.length > 0;
  return {
    pii,
    secrets,
    deny,
    anyDeny: joinDenyRules(deny),
    outputClamp: g?.maxOutputTokens === undefined ? null : compileOutputClamp(g.maxOutputTokens),
    maxInputTokens: g?.maxInputTokens,
    cleanTexts: scans ? new CleanTextMemo() : null,
  };
}

/**
 * One alternation of every rule, each in its own non-capturing group: it matches somewhere in a
 * text exactly when one of them does. A numbered backreference would point at another rule's group
 * once joined, and a group name used by two rules does not compile; either way the rules are then
 * run one by one.
 */
function joinDenyRules(deny: readonly CompiledDenyRule[]): RegExp | null {
  if (deny.length < 2 || deny.some((rule) => NUMBERED_BACKREFERENCE.test(rule.source))) return null;
  try {
    return new RegExp(deny.map((rule) => `(?:${rule.source})`).join('|'), 'i');
  } catch {
    return null;
  }
}
const NUMBERED_BACKREFERENCE = /\\[1-9]/;
