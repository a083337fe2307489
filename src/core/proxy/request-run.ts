import type { EventEmitter } from 'node:events';
import type { FastifyReply } from 'fastify';
import type { Profile } from '../../shared/policy-schema.js';
import type { Attempt, Decision, Trace, Usage } from '../../shared/trace.js';
import { GatewayError, isGatewayError } from '../gateway-error.js';
import { isForwardableResponseHeader } from '../providers/provider-transport.js';
import type { RouteTarget } from '../routing/resolve-targets.js';
import type { ModelRouteSpec } from './route-spec.js';

/*
 * The state of one model request while it runs (what the trace will say), and the small helpers
 * that every stage of it shares: the x-asc-* headers, forwarded response headers, waits that end
 * when the client leaves, the errors a failed upstream call turns into.
 */

/** Mutable per-request record, turned into a `Trace` once the request ends. */
export interface RequestRun {
  id: string;
  route: ModelRouteSpec;
  startedAt: Date;
  t0: number;
  profile: Profile | null;
  modelRequested: string | null;
  target: RouteTarget | null;
  credentialFingerprint: string | null;
  status: number;
  errorCode: string | null;
  ttftMs: number | null;
  streamed: boolean;
  usage: Usage | null;
  attempts: Attempt[];
  decisions: Decision[];
  warnings: string[];
  /**
   * Aborts the upstream call in flight (undici takes an EventEmitter as `signal`; far cheaper per
   * request than AbortController). Emits 'abort' when the client goes away or a first-byte timer fires.
   */
  upstreamSignal: EventEmitter;
  clientGone: boolean;
}

/** What one try at one target came to, when it did not answer the client itself. */
export type TryFailure =
  | { kind: 'upstream-error'; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; retryAfterMs: number | null }
  | { kind: 'transport-error'; error: GatewayError };

/** How one try ended: it answered the client (`upstreamFailed`: a stream cut after its first byte), the client left, or it failed before answering. */
export type TryResult = { kind: 'answered'; upstreamFailed: boolean } | 'client-gone' | TryFailure;

export const ANSWERED: TryResult = { kind: 'answered', upstreamFailed: false };

/** One try at one target. `answering` is its attempt record, made once it starts answering the client. */
export interface TryState {
  target: RouteTarget;
  started: number;
  answering: Attempt | null;
}

export function ascHeaders(run: RequestRun): Record<string, string> {
  const headers: Record<string, string> = {
    'x-asc-request-id': run.id,
    'x-asc-provider': run.target?.provider.id ?? 'none',
    'x-asc-model': run.target?.model ?? 'none',
  };
  const attempts = summarizeAttempts(run.attempts);
  if (attempts.length > 0) headers['x-asc-attempts'] = attempts;
  return headers;
}

export function setAscHeaders(reply: FastifyReply, run: RequestRun): void {
  reply.headers(ascHeaders(run));
}

/** `provider/model=status` (or the outcome when there was no status) per attempt, in order. */
function summarizeAttempts(attempts: readonly Attempt[]): string {
  return attempts.map((a) => `${a.providerId}/${a.model}=${a.status ?? a.outcome}`).join(', ');
}

/**
 * Records the try that is about to answer the client, before the response headers go out, so
 * `x-asc-attempts` and the trace both list it. Its duration is filled in when the try ends.
 */
export function beginAnswer(run: RequestRun, state: TryState, status: number): void {
  state.answering = { providerId: state.target.provider.id, model: state.target.model, outcome: status < 400 ? 'ok' : 'error', status, durationMs: 0 };
  run.attempts.push(state.answering);
}

export function forwardableHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const name in headers) {
    const value = headers[name];
    if (value === undefined || name === 'content-type' || !isForwardableResponseHeader(name)) continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

export function toTrace(run: RequestRun, clientKeyId: string, usage: Usage, cost: { usd: number | null; note: string | null }): Trace {
  return {
    id: run.id,
    startedAt: run.startedAt.toISOString(),
    endedAt: new Date().toISOString(),
    tenant: run.profile?.tenant ?? null,
    profileVersion: run.profile?.version ?? null,
    clientKeyId,
    route: run.route.id,
    method: 'POST',
    modelRequested: run.modelRequested,
    providerId: run.target?.provider.id ?? null,
    providerRegion: run.target?.provider.region ?? null,
    modelUsed: run.target?.model ?? null,
    credentialFingerprint: run.credentialFingerprint,
    status: run.status,
    errorCode: run.errorCode,
    latencyMs: round(performance.now() - run.t0),
    ttftMs: run.ttftMs,
    streamed: run.streamed,
    usage,
    costUsd: cost.usd,
    costNote: cost.note,
    attempts: run.attempts,
    decisions: run.decisions,
    warnings: run.warnings,
  };
}

export function deadlineError(timeoutMs: number): GatewayError {
  return new GatewayError('upstream_timeout', `No provider answered within the routing deadline (routing.timeoutMs = ${timeoutMs} ms).`);
}

export function toGatewayError(e: unknown): GatewayError {
  if (isGatewayError(e)) return e;
  return new GatewayError('internal_error', `internal error: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

export function describeTarget(target: RouteTarget): string {
  return `provider "${target.provider.id}" (${target.provider.baseUrl})`;
}

export function transportError(e: unknown, target: RouteTarget): GatewayError {
  const code = (e as { code?: string })?.code ?? '';
  const where = describeTarget(target);
  if (code === 'UND_ERR_CONNECT_TIMEOUT' || code === 'UND_ERR_HEADERS_TIMEOUT') {
    return new GatewayError('upstream_timeout', `Timed out waiting for ${where}.`, { cause: e });
  }
  if (code === 'UND_ERR_BODY_TIMEOUT') {
    return new GatewayError('upstream_timeout', `${where} stopped sending in the middle of its response.`, { cause: e });
  }
  return new GatewayError('upstream_unreachable', `Could not reach ${where}: ${(e as Error)?.message ?? code}.`, { cause: e });
}

export function waitForDrain(stream: NodeJS.WritableStream, run: RequestRun): Promise<void> {
  return untilAbortOr(run, (done) => {
    stream.once('drain', done);
    return () => stream.off('drain', done);
  });
}

export function sleep(ms: number, run: RequestRun): Promise<void> {
  return untilAbortOr(run, (done) => {
    const t = setTimeout(done, ms);
    return () => clearTimeout(t);
  });
}

/** Resolves when `arm`'s event fires or the client goes away, whichever comes first. */
function untilAbortOr(run: RequestRun, arm: (done: () => void) => () => void): Promise<void> {
  if (run.clientGone) return Promise.resolve();
  return new Promise((resolve) => {
    const done = (): void => {
      disarm();
      run.upstreamSignal.off('abort', done);
      resolve();
    };
    const disarm = arm(done);
    run.upstreamSignal.once('abort', done);
  });
}

export function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

export function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
