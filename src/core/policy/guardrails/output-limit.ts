import type { Decision } from '../../../shared/trace.js';
import type { GuardedFormat } from './text-slots.js';

/**
 * The request's output-token limit, by format: the fields a client may set, and the one the
 * gateway sets when the profile caps output and the request has none. Setting one when absent
 * (rather than only clamping present values) is what makes the cap a cap, and it gives budget and
 * rate-limit reservations a bound. `max_completion_tokens` is the field every current OpenAI chat
 * model accepts (o-series reject `max_tokens`).
 */
const OUTPUT_LIMIT_FIELDS: Readonly<Record<GuardedFormat, { fields: readonly string[]; setWhenAbsent: string | null }>> = {
  'openai-chat': { fields: ['max_completion_tokens', 'max_tokens'], setWhenAbsent: 'max_completion_tokens' },
  'anthropic-messages': { fields: ['max_tokens'], setWhenAbsent: 'max_tokens' },
  'openai-responses': { fields: ['max_output_tokens'], setWhenAbsent: 'max_output_tokens' },
  'mistral-fim': { fields: ['max_tokens'], setWhenAbsent: 'max_tokens' },
  'openai-embeddings': { fields: [], setWhenAbsent: null },
};

/** The smallest output limit the request sets, or undefined. */
export function requestedOutputTokens(format: GuardedFormat, body: Record<string, unknown>): number | undefined {
  let min: number | undefined;
  for (const f of OUTPUT_LIMIT_FIELDS[format].fields) {
    const v = body[f];
    if (typeof v === 'number' && Number.isFinite(v) && v >= 0) min = min === undefined ? v : Math.min(min, v);
  }
  return min;
}

/**
 * Clamps every present output-limit field to `max`, or sets the format's field when none is
 * present. Returns the edits to apply (empty when nothing changes) and the decision.
 */
export function planOutputClamp(
  format: GuardedFormat,
  body: Record<string, unknown>,
  max: number,
): { edits: Record<string, number>; decision?: Decision } {
  const spec = OUTPUT_LIMIT_FIELDS[format];
  const edits: Record<string, number> = {};
  const notes: string[] = [];
  let present = false;
  for (const f of spec.fields) {
    const v = body[f];
    if (typeof v !== 'number') continue;
    present = true;
    if (v > max) {
      edits[f] = max;
      notes.push(`${f} ${v} → ${max}`);
    }
  }
  if (!present && spec.setWhenAbsent !== null) {
    edits[spec.setWhenAbsent] = max;
    notes.push(`${spec.setWhenAbsent} set to ${max}`);
  }
  return notes.length === 0
    ? { edits }
    : { edits, decision: { rule: 'guardrails.maxOutputTokens', outcome: 'clamp', detail: notes.join(', ') } };
}
