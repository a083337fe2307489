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

/** What the clamp does to one request: the fields to set (empty when nothing changes) and the decision. */
export interface OutputClampPlan {
  readonly edits: Readonly<Record<string, number>>;
  readonly decision?: Decision;
}

/**
 * A profile's output cap, compiled once. Most requests set no limit of their own, and for those
 * the edit and its decision are the same every time: built here, frozen, and shared (the decision's
 * stored JSON is then written once too).
 */
export interface CompiledOutputClamp {
  readonly max: number;
  readonly whenAbsent: Readonly<Record<GuardedFormat, OutputClampPlan>>;
}

const NO_EDITS: OutputClampPlan = Object.freeze({ edits: Object.freeze({}) });

export function compileOutputClamp(max: number): CompiledOutputClamp {
  const whenAbsent = {} as Record<GuardedFormat, OutputClampPlan>;
  for (const format of Object.keys(OUTPUT_LIMIT_FIELDS) as GuardedFormat[]) {
    const field = OUTPUT_LIMIT_FIELDS[format].setWhenAbsent;
    whenAbsent[format] =
      field === null
        ? NO_EDITS
        : Object.freeze({
            edits: Object.freeze({ [field]: max }),
            decision: Object.freeze({ rule: 'guardrails.maxOutputTokens', outcome: 'clamp', detail: `${field} set to ${max}` } as const),
          });
  }
  return Object.freeze({ max, whenAbsent: Object.freeze(whenAbsent) });
}

/**
 * Clamps every present output-limit field to the cap, or sets the format's field when none is
 * present.
 */
export function planOutputClamp(format: GuardedFormat, body: Record<string, unknown>, clamp: CompiledOutputClamp): OutputClampPlan {
  const max = clamp.max;
  let edits: Record<string, number> | undefined;
  let notes: string | undefined;
  let present = false;
  for (const f of OUTPUT_LIMIT_FIELDS[format].fields) {
    const v = body[f];
    if (typeof v !== 'number') continue;
    present = true;
    if (v > max) {
      (edits ??= {})[f] = max;
      notes = `${notes === undefined ? '' : `${notes}, `}${f} ${v} → ${max}`;
    }
  }
  if (!present) return clamp.whenAbsent[format];
  return notes === undefined || edits === undefined
    ? NO_EDITS
    : { edits, decision: { rule: 'guardrails.maxOutputTokens', outcome: 'clamp', detail: notes } };
}
