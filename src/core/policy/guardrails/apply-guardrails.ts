import type { Decision } from '../../../shared/trace.js';
import { GatewayError } from '../../gateway-error.js';
import { estimateTokensFromChars } from '../token-estimate.js';
import type { CompiledGuardrails, GuardrailAction } from './compile-guardrails.js';
import { findPii, findSecrets, resolveOverlaps, type Finding, type FindingCategory, type FindingKind } from './detectors.js';
import { planOutputClamp } from './output-limit.js';
import { collectTextSlots, writeSlots, type GuardedFormat, type PathKey, type TextSlot } from './text-slots.js';

/** Shared by every slot with nothing found: frozen, so no caller can add to it. */
const NO_FINDINGS: readonly Finding[] = Object.freeze([]);

export interface GuardrailFindingCount {
  kind: FindingKind;
  count: number;
}

export interface GuardrailResult {
  /** A new object only if something changed; otherwise the very body passed in. */
  body: Record<string, unknown>;
  changed: boolean;
  /** A new array on every call, the caller's to add to. */
  decisions: Decision[];
  /** Set when the request must not go upstream; `body` is then the original. */
  blocked?: GatewayError;
  /** What was detected, by kind (occurrences, not distinct values). Never the values. */
  findings: GuardrailFindingCount[];
  /** Characters of text scanned: the input estimate, without walking the body again. */
  inputChars: number;
}

/**
 * Redaction placeholders, numbered per kind in order of first appearance across the whole request,
 * so the same value gets the same placeholder in every message (`[EMAIL_1]` stays `[EMAIL_1]`) and
 * the model can still refer to it consistently.
 */
class PlaceholderRegistry {
  private readonly byValue = new Map<string, string>();
  private readonly counters = new Map<FindingKind, number>();

  placeholderFor(f: Finding): string {
    const id = `${f.kind}\u0000${f.key}`;
    let p = this.byValue.get(id);
    if (!p) {
      const n = (this.counters.get(f.kind) ?? 0) + 1;
      this.counters.set(f.kind, n);
      p = `[${f.kind}_${n}]`;
      this.byValue.set(id, p);
    }
    return p;
  }
}

function redact(text: string, findings: readonly Finding[], registry: PlaceholderRegistry): string {
  let out = '';
  let last = 0;
  for (const f of findings) {
    out += text.slice(last, f.start) + registry.placeholderFor(f);
    last = f.end;
  }
  return out + text.slice(last);
}

function describeCounts(counts: ReadonlyMap<FindingKind, number>, kinds: readonly FindingKind[]): string {
  return kinds.map((k) => `${k}×${counts.get(k) ?? 0}`).join(', ');
}

/**
 * Applies a profile's guardrails to one request body: input size limit, deny patterns, PII and
 * secret detection (redact or block), output-token clamp. Pure; the body passed in is never mutated.
 */
export function applyGuardrails(
  format: GuardedFormat,
  body: Record<string, unknown>,
  compiled: CompiledGuardrails,
): GuardrailResult {
  const decisions: Decision[] = [];
  const slots = collectTextSlots(format, body);
  let inputChars = 0;
  for (const s of slots) inputChars += s.text.length;

  if (compiled.maxInputTokens !== undefined) {
    const estimated = estimateTokensFromChars(inputChars);
    if (estimated > compiled.maxInputTokens) {
      decisions.push({ rule: 'guardrails.maxInputTokens', outcome: 'deny', detail: `≈${estimated} > ${compiled.maxInputTokens}` });
      return {
        body,
        changed: false,
        decisions,
        findings: [],
        inputChars,
        blocked: new GatewayError(
          'input_too_large',
          `The request's input is about ${estimated} tokens; this profile allows at most ${compiled.maxInputTokens}.`,
        ),
      };
    }
  }

  // Deny patterns and detectors run on the original text, slot by slot, skipping texts these
  // guardrails have already found clean (an agent resends its conversation on every turn).
  const memo = compiled.cleanTexts;
  const anyDeny = compiled.anyDeny;
  const hasDeny = compiled.deny.length > 0;
  const scanPii = compiled.pii !== 'off';
  const scanSecrets = compiled.secrets !== 'off';
  const counts = new Map<FindingKind, number>();
  const perSlot: (readonly Finding[])[] = [];
  let denied: TextSlot[] | null = null;
  if (hasDeny || scanPii || scanSecrets) {
    for (const s of slots) {
      if (memo !== null && memo.has(s.text)) {
        perSlot.push(NO_FINDINGS);
        continue;
      }
      let found: readonly Finding[] = NO_FINDINGS;
      if (scanPii || scanSecrets) {
        const raw: Finding[] = [];
        if (scanSecrets) findSecrets(s.text, raw);
        if (scanPii) findPii(s.text, raw);
        if (raw.length > 0) found = resolveOverlaps(raw);
      }
      perSlot.push(found);
      for (const f of found) counts.set(f.kind, (counts.get(f.kind) ?? 0) + 1);
      // Rule by rule only when the joined rules match.
      const hitsDeny = hasDeny && (anyDeny === null ? compiled.deny.some((rule) => rule.re.test(s.text)) : anyDeny.test(s.text));
      if (hitsDeny) (denied ??= []).push(s);
      else if (found.length === 0) memo?.add(s.text);
    }
  }
  const denyHits = denied === null ? [] : compiled.deny.filter((rule) => denied.some((s) => rule.re.test(s.text)));
  // The rule: nothing found, nothing denied. Only the output limit is left to apply.
  if (counts.size === 0 && denyHits.length === 0) return withOutputLimit(format, body, body, compiled, decisions, [], inputChars);

  const actionOf: Record<FindingCategory, GuardrailAction> = { pii: compiled.pii, secrets: compiled.secrets };
  const findings = [...counts].map(([kind, count]) => ({ kind, count }));
  const kindsIn = (category: FindingCategory): FindingKind[] =>
    [...counts.keys()].filter((k) => perSlot.some((fs) => fs.some((f) => f.kind === k && f.category === category)));

  const blockedKinds: FindingKind[] = [];
  for (const category of ['secrets', 'pii'] as const) {
    if (actionOf[category] !== 'block') continue;
    const kinds = kindsIn(category);
    if (kinds.length > 0) {
      blockedKinds.push(...kinds);
      decisions.push({ rule: `guardrails.${category}`, outcome: 'deny', detail: describeCounts(counts, kinds) });
    }
  }
  for (const rule of denyHits) {
    decisions.push({ rule: 'guardrails.deny', outcome: 'deny', detail: `deny[${rule.index}] /${rule.source}/` });
  }
  if (blockedKinds.length > 0 || denyHits.length > 0) {
    const reasons: string[] = [];
    if (blockedKinds.length > 0) reasons.push(`it contains ${blockedKinds.join(', ')}`);
    for (const rule of denyHits) reasons.push(`it matches deny rule #${rule.index} (/${rule.source}/)`);
    return {
      body,
      changed: false,
      decisions,
      findings,
      inputChars,
      blocked: new GatewayError(
        'guardrail_blocked',
        `Request blocked by this profile's guardrails: ${reasons.join('; ')}. Remove that content and retry.`,
      ),
    };
  }

  const writes: { path: readonly PathKey[]; value: string }[] = [];
  const registry = new PlaceholderRegistry();
  for (let i = 0; i < perSlot.length; i++) {
    const toRedact = (perSlot[i] ?? []).filter((f) => actionOf[f.category] === 'redact');
    const slot = slots[i];
    if (toRedact.length > 0 && slot) writes.push({ path: slot.path, value: redact(slot.text, toRedact, registry) });
  }
  for (const category of ['secrets', 'pii'] as const) {
    if (actionOf[category] !== 'redact') continue;
    const kinds = kindsIn(category);
    if (kinds.length > 0) decisions.push({ rule: `guardrails.${category}`, outcome: 'redact', detail: describeCounts(counts, kinds) });
  }

  const redacted = writes.length > 0 ? writeSlots(body, writes) : body;
  return withOutputLimit(format, body, redacted, compiled, decisions, findings, inputChars);
}

/** The last step for a request that may go upstream: the profile's output-token clamp. */
function withOutputLimit(
  format: GuardedFormat,
  original: Record<string, unknown>,
  body: Record<string, unknown>,
  compiled: CompiledGuardrails,
  decisions: Decision[],
  findings: GuardrailFindingCount[],
  inputChars: number,
): GuardrailResult {
  let out = body;
  if (compiled.outputClamp !== null) {
    const { edits, decision } = planOutputClamp(format, out, compiled.outputClamp);
    if (decision) {
      // Object.assign, not a spread with overriding keys (V8's slow path on every request).
      out = Object.assign({}, out, edits);
      decisions.push(decision);
    }
  }
  return { body: out, changed: out !== original, decisions, findings, inputChars };
}
