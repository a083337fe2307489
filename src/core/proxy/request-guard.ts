import type { Profile } from '../../shared/policy-schema.js';
import type { Decision, Usage } from '../../shared/trace.js';
import type { GatewayError } from '../gateway-error.js';
import type { RouteTarget } from '../routing/resolve-targets.js';
import type { ModelRouteSpec } from './route-spec.js';

export interface GuardInput {
  profile: Profile;
  route: ModelRouteSpec;
  body: Record<string, unknown>;
  targets: readonly RouteTarget[];
  nowMs: number;
}

/** What admission leaves behind: edits to the body and reservations to settle when the request ends. */
export interface Admission {
  ok: true;
  /** The body after redaction and clamps; the same object when nothing changed. */
  body: Record<string, unknown>;
  decisions: Decision[];
  /** Reconciles reservations with what the request really used; called exactly once. */
  settle(result: { target: RouteTarget | null; usage: Usage | null; costUsd: number | null }): void;
  /** Body to keep on the trace when the profile's capture setting asks for it. */
  capturedBody: string | null;
}

export interface Denial {
  ok: false;
  error: GatewayError;
  decisions: Decision[];
}

/** Policy enforcement between routing and the upstream call: guardrails, rate limits, budgets. */
export interface RequestGuard {
  admit(input: GuardInput): Admission | Denial;
}

/** No enforcement beyond routing's allow-list (used by tests and an empty profile). */
export const PASS_THROUGH_GUARD: RequestGuard = {
  admit: (input) => ({ ok: true, body: input.body, decisions: [], settle: () => {}, capturedBody: null }),
};
