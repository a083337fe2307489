import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Profile } from '../../shared/policy-schema.js';
import type { Trace, Usage } from '../../shared/trace.js';
import { EMPTY_USAGE, type Decision } from '../../shared/trace.js';
import { errorDialectOf } from '../../shared/wire-format.js';
import { missingCredentialMessage, type CredentialStore } from '../credentials/credential-store.js';
import { BoundedCache } from '../bounded-cache.js';
import { GatewayError } from '../gateway-error.js';
import { renderErrorBody } from '../http/render-error.js';
import type { ProfileRegistry, ProfileSnapshot } from '../profiles/profile-registry.js';
import {
  ANTHROPIC_VERSION,
  authHeaders,
  FORWARDED_CLIENT_HEADERS,
  resolveUpstreamTarget,
} from '../providers/provider-transport.js';
import { breakerKey, type CircuitBreakers } from '../routing/circuit-breaker.js';
import { resolveTargets, type RouteTarget } from '../routing/resolve-targets.js';
import { backoffMs, isRetryableStatus, retryAfterMs } from '../routing/retry-policy.js';
import {
  estimateInputTokens,
  translateErrorBody,
  translateResponse,
} from '../translate/index.js';
import { isRecord } from '../translate/json-guards.js';
import { callUpstream, type UpstreamResponse } from '../upstream/upstream-call.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, type UpstreamClients } from '../upstream/upstream-clients.js';
import { applyPolicyEdits, prepareUpstreamRequest, type ClientRequest, type PreparedUpstreamRequest } from './prepare-upstream-request.js';
import { relayStream } from './relay-stream.js';
import {
  ANSWERED,
  beginAnswer,
  deadlineError,
  describeTarget,
  forwardableHeaders,
  headerValue,
  round,
  setAscHeaders,
  sleep,
  toGatewayError,
  toTrace,
  transportError,
  type RequestRun,
  type TryFailure,
  type TryResult,
  type TryState,
} from './request-run.js';
import type { RequestGuard } from './request-guard.js';
import type { ModelRouteSpec } from './route-spec.js';
import { safeParse } from './stream-tap.js';
import { usageFromBody, usageFromRawJson } from './usage.js';

export interface CompiledProfileRouting {
  isModelAllowed(model: string): boolean;
}

export interface ModelRequestDeps {
  profiles: ProfileRegistry<CompiledProfileRouting>;
  credentials: CredentialStore;
  upstream: UpstreamClients;
  breakers: CircuitBreakers;
  guard: RequestGuard;
  /** Prices a finished request; null when the model has no known price. */
  price(target: RouteTarget, usage: Usage, profile: Profile): { usd: number | null; note: string | null };
  finishTrace(trace: Trace, extra: { capturedBody: string | null }): void;
  onCredentialUsed?(providerId: string, fingerprint: string, profile: Profile): void;
  clientKeyId: string;
  random?: () => number;
}

const DEFAULTS = {
  retries: 1,
  connectTimeoutMs: DEFAULT_CONNECT_TIMEOUT_MS,
  timeoutMs: 600_000,
  firstByteTimeoutMs: 300_000,
  idleTimeoutMs: 300_000,
};

const MAX_ERROR_BODY_BYTES = 1 << 20;

/** A profile's routing settings with defaults filled in, merged once per profile object. */
const routingCache = new WeakMap<Profile, typeof DEFAULTS>();
function routingOf(profile: Profile): typeof DEFAULTS {
  let r = routingCache.get(profile);
  if (r === undefined) {
    r = { ...DEFAULTS, ...profile.routing };
    routingCache.set(profile, r);
  }
  return r;
}
/** Below this a first-byte budget gets its own timer; undici's fast timers tick every ~0.5 s. */
const PRECISE_TIMER_BELOW_MS = 10_000;

/**
 * A target is not tried with less time than this left before the routing deadline: it could not
 * answer in time, and timers may fire a millisecond early, leaving a sliver that is not "past".
 */
const MIN_TRY_MS = 10;

/** Why the last target failed; `prepared` is null when it was skipped without an upstream call. */
interface LastFailure {
  failure: TryFailure;
  target: RouteTarget;
  prepared: PreparedUpstreamRequest | null;
}

/**
 * A skipped target's reason replaces the previous one only if no target was actually tried: an
 * upstream's answer (say a 503) tells the client more than "the next one had no key", and an
 * untranslatable field on a later target must not read as if the request itself were bad.
 */
function keepTried(previous: LastFailure | null, skipped: LastFailure): LastFailure {
  return previous !== null && previous.prepared !== null ? previous : skipped;
}

export function createModelRouteHandler(route: ModelRouteSpec, deps: ModelRequestDeps) {
  const dialect = errorDialectOf(route.id);
  const random = deps.random ?? Math.random;

  return async function handleModelRequest(request: FastifyRequest, reply: FastifyReply): Promise<void> {
    const run: RequestRun = {
      id: request.id,
      route,
      startedAt: new Date(),
      t0: performance.now(),
      profile: null,
      modelRequested: null,
      target: null,
      credentialFingerprint: null,
      status: 0,
      errorCode: null,
      ttftMs: null,
      streamed: false,
      usage: null,
      attempts: [],
      decisions: [],
      warnings: [],
      upstreamSignal: new EventEmitter(),
      clientGone: false,
    };
    reply.raw.once('close', () => {
      if (!reply.raw.writableFinished) {
        run.clientGone = true;
        run.upstreamSignal.emit('abort');
      }
    });

    let settle: ((r: { target: RouteTarget | null; usage: Usage | null; costUsd: number | null }) => void) | null = null;
    let capturedBody: string | null = null;
    try {
      const client = parseClientRequest(request.body);
      const model = client.body.model;
      if (typeof model !== 'string' || model.length === 0) {
        throw new GatewayError('invalid_request', `"model" is required on ${route.path} and must be a non-empty string.`);
      }
      run.modelRequested = model;
      run.streamed = client.stream;
      const snapshot = deps.profiles.resolve(headerValue(request.headers['x-asc-tenant']));
      const profile = snapshot.profile;
      run.profile = profile;

      const resolution = resolveTargetsRemembered(snapshot, route, model, run.decisions);

      const admission = deps.guard.admit({ profile, route, body: client.body, targets: resolution.targets, nowMs: Date.now() });
      run.decisions.push(...admission.decisions);
      if (!admission.ok) throw admission.error;
      settle = admission.settle;
      capturedBody = admission.capturedBody;
      applyPolicyEdits(client, admission.body);

      if (route.op === 'count_tokens' && resolution.targets[0]!.provider.kind !== 'anthropic') {
        // Only Anthropic counts tokens upstream; for a translated target the answer is an estimate.
        const target = resolution.targets[0]!;
        run.target = target;
        run.warnings.push('count_tokens estimated locally for a non-Anthropic target');
        sendJson(reply, run, 200, {}, JSON.stringify({ input_tokens: estimateInputTokens('anthropic-messages', client.body) }));
        return;
      }

      await attemptTargets(request, reply, run, client, resolution.targets, profile);
    } catch (e) {
      const err = toGatewayError(e);
      run.errorCode = err.code;
      if (run.clientGone) {
        run.status = 499;
        run.errorCode = 'client_closed';
      } else if (!reply.raw.headersSent && !reply.sent) {
        run.status = err.status;
        reply.code(err.status).headers(err.headers).header('content-type', 'application/json');
        setAscHeaders(reply, run);
        reply.send(JSON.stringify(renderErrorBody(dialect, err)));
      }
    } finally {
      const usage = run.usage ?? EMPTY_USAGE;
      const cost = costOf(run, usage);
      settle?.({ target: run.target, usage: run.usage, costUsd: cost.usd });
      deps.finishTrace(toTrace(run, deps.clientKeyId, usage, cost), { capturedBody });
    }
  };

  /** A request that got no usage back cost nothing, unless output may have flowed (then: unknown). */
  function costOf(run: RequestRun, usage: Usage): { usd: number | null; note: string | null } {
    if (run.target && run.usage && run.profile) return deps.price(run.target, usage, run.profile);
    const mayHaveUsedTokens = (run.status >= 200 && run.status < 300) || (run.clientGone && run.streamed && run.ttftMs !== null);
    return mayHaveUsedTokens ? { usd: null, note: 'usage_unknown' } : { usd: 0, note: null };
  }

  async function attemptTargets(
    request: FastifyRequest,
    reply: FastifyReply,
    run: RequestRun,
    client: ClientRequest,
    targets: readonly RouteTarget[],
    profile: Profile,
  ): Promise<void> {
    const routing = routingOf(profile);
    const deadline = run.t0 + routing.timeoutMs;
    let lastFailure: LastFailure | null = null;

    for (const target of targets) {
      if (deadline - performance.now() < MIN_TRY_MS) {
        // No time left: the remaining targets are not called (and their breakers not reserved).
        run.attempts.push({ providerId: target.provider.id, model: target.model, outcome: 'skipped', status: null, durationMs: 0, reason: 'deadline exceeded' });
        lastFailure = keepTried(lastFailure, { failure: { kind: 'transport-error', error: deadlineError(routing.timeoutMs) }, target, prepared: null });
        continue;
      }
      const breaker = breakerKey(profile.tenant, target.provider.id);
      if (!deps.breakers.tryAcquire(breaker)) {
        run.attempts.push({ providerId: target.provider.id, model: target.model, outcome: 'skipped', status: null, durationMs: 0, reason: 'circuit open' });
        lastFailure = keepTried(lastFailure, { failure: { kind: 'transport-error', error: new GatewayError('circuit_open', `Provider "${target.provider.id}" is cooling down after repeated failures.`) }, target, prepared: null });
        continue;
      }
      const credential = await deps.credentials.get(target.provider);
      if (credential === null) {
        deps.breakers.release(breaker); // a missing key says nothing about the provider's health
        run.attempts.push({ providerId: target.provider.id, model: target.model, outcome: 'skipped', status: null, durationMs: 0, reason: 'no credential' });
        lastFailure = keepTried(lastFailure, { failure: { kind: 'transport-error', error: new GatewayError('missing_credential', missingCredentialMessage(target.provider)) }, target, prepared: null });
        continue;
      }
      let prepared: PreparedUpstreamRequest;
      try {
        prepared = prepareUpstreamRequest(route, client, target, run.modelRequested ?? target.model);
      } catch (e) {
        deps.breakers.release(breaker);
        const err = toGatewayError(e);
        run.attempts.push({ providerId: target.provider.id, model: target.model, outcome: 'skipped', status: null, durationMs: 0, reason: err.message });
        lastFailure = keepTried(lastFailure, { failure: { kind: 'transport-error', error: err }, target, prepared: null });
        continue;
      }

      for (let attempt = 0; attempt <= routing.retries; attempt++) {
        const state: TryState = { target, started: performance.now(), answering: null };
        run.target = target;
        run.credentialFingerprint = credential.fingerprint;
        let outcome: TryResult;
        try {
          outcome = await tryOnce(request, reply, run, state, prepared, credential.secret, routing, deadline);
        } catch (e) {
          deps.breakers.release(breaker); // never strand a half-open trial
          throw e;
        }
        const durationMs = round(performance.now() - state.started);
        if (state.answering) state.answering.durationMs = durationMs;
        if (outcome === 'client-gone') {
          deps.breakers.release(breaker);
          if (state.answering) {
            state.answering.outcome = 'error';
            state.answering.reason = 'client closed the connection';
          } else {
            run.attempts.push({ providerId: target.provider.id, model: target.model, outcome: 'error', status: null, durationMs, reason: 'client closed the connection' });
          }
          throw new GatewayError('upstream_stream_error', 'client closed the connection');
        }
        if (outcome.kind === 'answered') {
          // A stream the upstream cut after the first byte is the provider's failure, even though it answered.
          if (outcome.upstreamFailed) deps.breakers.onFailure(breaker);
          else deps.breakers.onSuccess(breaker);
          run.warnings.push(...prepared.warnings);
          deps.onCredentialUsed?.(target.provider.id, credential.fingerprint, profile);
          return;
        }
        deps.breakers.onFailure(breaker);
        lastFailure = { failure: outcome, target, prepared };
        const status = outcome.kind === 'upstream-error' ? outcome.status : null;
        const reason = outcome.kind === 'upstream-error' ? `upstream ${outcome.status}` : outcome.error.message;
        const waitMs = outcome.kind === 'upstream-error' && outcome.retryAfterMs !== null ? outcome.retryAfterMs : backoffMs(attempt, random);
        const canRetry = attempt < routing.retries && performance.now() + waitMs < deadline && deps.breakers.state(breaker) === 'closed';
        run.attempts.push({ providerId: target.provider.id, model: target.model, outcome: canRetry ? 'retry' : 'fallback', status, durationMs, reason });
        if (!canRetry) break;
        await sleep(waitMs, run);
        if (run.clientGone) throw new GatewayError('upstream_stream_error', 'client closed the connection');
      }
    }

    // Every target failed before answering: the client sees the last upstream error as it came
    // (in its own format), or the gateway's own error.
    const last = run.attempts[run.attempts.length - 1];
    if (last && last.outcome === 'fallback') last.outcome = 'error';
    if (lastFailure === null) throw new GatewayError('internal_error', 'no target was attempted');
    if (lastFailure.failure.kind === 'transport-error') throw lastFailure.failure.error;
    sendUpstreamError(reply, run, lastFailure.failure, lastFailure.target, lastFailure.prepared);
  }

  /** One upstream call. Answers the client itself on success or a non-retryable error. */
  async function tryOnce(
    request: FastifyRequest,
    reply: FastifyReply,
    run: RequestRun,
    state: TryState,
    prepared: PreparedUpstreamRequest,
    secret: string,
    routing: typeof DEFAULTS,
    deadline: number,
  ): Promise<TryResult> {
    const { target } = state;
    const upstream = resolveUpstreamTarget(target.provider, prepared.op);
    if (upstream === null) {
      return { kind: 'transport-error', error: new GatewayError('format_mismatch', `Provider "${target.provider.id}" has no ${prepared.op} endpoint.`) };
    }
    const headers = upstreamHeaders(request, target, prepared, secret);
    // The first-byte budget is timed here rather than with undici's `headersTimeout`: undici runs
    // that one on its coarse "fast timers" (~0.5 s ticks), which can fire half a second early or
    // late — too loose for short budgets and for the routing deadline.
    const untilDeadline = Math.floor(deadline - performance.now());
    const firstByteMs = Math.max(1, Math.min(routing.firstByteTimeoutMs, untilDeadline));
    // undici's own timer is coarse but costs nothing per request; short budgets get a precise one.
    const precise = firstByteMs < PRECISE_TIMER_BELOW_MS;
    let firstByteTimedOut = false;
    const timer = precise
      ? setTimeout(() => {
          firstByteTimedOut = true;
          run.upstreamSignal.emit('abort');
        }, firstByteMs)
      : undefined;
    let res: UpstreamResponse;
    try {
      res = await callUpstream(
        deps.upstream.forOrigin(upstream.origin, routing.connectTimeoutMs),
        {
          path: upstream.path + forwardedQuery(request, prepared),
          method: 'POST',
          headers,
          body: prepared.body,
          headersTimeout: precise ? 0 : firstByteMs,
          bodyTimeout: routing.idleTimeoutMs,
        },
        run.upstreamSignal,
      );
    } catch (e) {
      if (run.clientGone) return 'client-gone';
      if (firstByteTimedOut || (e as { code?: string }).code === 'UND_ERR_HEADERS_TIMEOUT') {
        if (firstByteMs >= untilDeadline) return { kind: 'transport-error', error: deadlineError(routing.timeoutMs) };
        return { kind: 'transport-error', error: new GatewayError('upstream_timeout', `Timed out after ${firstByteMs} ms waiting for the first byte from ${describeTarget(target)}.`, { cause: e }) };
      }
      return { kind: 'transport-error', error: transportError(e, target) };
    } finally {
      clearTimeout(timer);
    }

    if (res.statusCode >= 400) {
      let body: Buffer;
      try {
        body = await res.readAll(MAX_ERROR_BODY_BYTES);
      } catch (e) {
        if (run.clientGone) return 'client-gone';
        return { kind: 'transport-error', error: transportError(e, target) };
      }
      const failure: TryFailure = { kind: 'upstream-error', status: res.statusCode, headers: res.headers, body, retryAfterMs: retryAfterMs(res.headers, Date.now()) };
      if (isRetryableStatus(res.statusCode)) return failure;
      beginAnswer(run, state, res.statusCode);
      sendUpstreamError(reply, run, failure, target, prepared);
      return ANSWERED;
    }

    if (prepared.stream && isEventStream(res.headers)) {
      return relayStream(route, reply, run, res, state, prepared);
    }

    let raw: Buffer;
    try {
      raw = await res.readAll();
    } catch (e) {
      if (run.clientGone) return 'client-gone';
      return { kind: 'transport-error', error: transportError(e, target) };
    }
    let out: Buffer | string = raw;
    if (prepared.translation) {
      const parsed = safeParse(raw.toString('utf8'));
      if (parsed === undefined) {
        return { kind: 'transport-error', error: new GatewayError('upstream_invalid_response', `Provider "${target.provider.id}" answered with a body that is not JSON.`) };
      }
      try {
        const dropped: string[] = [];
        out = JSON.stringify(translateResponse(prepared.translation.to, prepared.translation.from, parsed, prepared.translation.ctx, dropped));
        run.warnings.push(...dropped);
      } catch (e) {
        // Nothing has reached the client yet: an answer we cannot translate is this target's failure.
        return { kind: 'transport-error', error: toGatewayError(e) };
      }
      run.usage = usageFromBody(prepared.usageShape, parsed);
    } else {
      // Passed through as the provider sent it; only its usage object is read.
      run.usage = usageFromRawJson(prepared.usageShape, raw);
    }
    run.ttftMs = null;
    beginAnswer(run, state, res.statusCode);
    sendJson(reply, run, res.statusCode, forwardableHeaders(res.headers), out);
    return ANSWERED;
  }

  function sendUpstreamError(reply: FastifyReply, run: RequestRun, failure: Extract<TryFailure, { kind: 'upstream-error' }>, target: RouteTarget, prepared: PreparedUpstreamRequest | null): void {
    run.errorCode = `upstream_${failure.status}`;
    let body: Buffer | string = failure.body;
    if (prepared?.translation) {
      const parsed = safeParse(failure.body.toString('utf8'));
      body = JSON.stringify(translateErrorBody(prepared.translation.to, prepared.translation.from, failure.status, parsed ?? { message: failure.body.toString('utf8').slice(0, 500) }));
    }
    run.target = target;
    sendJson(reply, run, failure.status, forwardableHeaders(failure.headers), body);
  }

  function sendJson(reply: FastifyReply, run: RequestRun, status: number, headers: Record<string, string>, body: Buffer | string): void {
    run.status = status;
    reply.code(status).headers(headers).header('content-type', 'application/json');
    setAscHeaders(reply, run);
    reply.send(body);
  }
}

/**
 * Routing's answer depends only on the profile, the route and the model name, and a coding session
 * asks the same question on every request: it is remembered per loaded profile (a new profile
 * version is a new snapshot and starts afresh). A denial throws and is never remembered. The
 * decisions are appended to the request's own list, as resolveTargets does, so a denial's decision
 * still reaches the trace.
 */
interface RememberedRouting {
  readonly targets: readonly RouteTarget[];
  readonly decisions: readonly Decision[];
}
const rememberedTargets = new WeakMap<ProfileSnapshot<CompiledProfileRouting>, BoundedCache<string, RememberedRouting>>();

function resolveTargetsRemembered(
  snapshot: ProfileSnapshot<CompiledProfileRouting>,
  route: ModelRouteSpec,
  model: string,
  decisions: Decision[],
): RememberedRouting {
  let cache = rememberedTargets.get(snapshot);
  if (cache === undefined) {
    cache = new BoundedCache(256);
    rememberedTargets.set(snapshot, cache);
  }
  const key = `${route.id}\u0000${model}`;
  const known = cache.get(key);
  if (known !== undefined) {
    for (const d of known.decisions) decisions.push(d);
    return known;
  }
  const own: Decision[] = [];
  try {
    const resolution = resolveTargets({
      profile: snapshot.profile,
      requestedModel: model,
      canServe: (kind) => route.servedBy.includes(kind),
      isModelAllowed: (m) => snapshot.compiled.isModelAllowed(m),
      routeName: route.path,
      decisions: own,
    });
    // Frozen: one answer serves many requests, so a caller that tried to edit it would throw, not leak.
    return cache.set(key, { targets: Object.freeze(resolution.targets), decisions: Object.freeze(own.map((d) => Object.freeze(d))) });
  } finally {
    for (const d of own) decisions.push(d);
  }
}

function parseClientRequest(body: unknown): ClientRequest {
  if (!Buffer.isBuffer(body) || body.length === 0) {
    throw new GatewayError('invalid_json', 'The request body must be a JSON object.');
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(body.toString('utf8'));
  } catch (e) {
    throw new GatewayError('invalid_json', `The request body is not valid JSON: ${(e as Error).message}`);
  }
  if (!isRecord(parsed)) throw new GatewayError('invalid_json', 'The request body must be a JSON object.');
  return { raw: body, body: parsed, edited: false, addedFields: [], stream: parsed.stream === true };
}

function upstreamHeaders(request: FastifyRequest, target: RouteTarget, prepared: PreparedUpstreamRequest, secret: string): Record<string, string> {
  const kind = target.provider.kind;
  const headers: Record<string, string> = {
    'content-type': 'application/json',
    // Compressed bodies would hide usage from the stream tap.
    'accept-encoding': 'identity',
  };
  if (prepared.stream) headers.accept = 'text/event-stream';
  Object.assign(headers, authHeaders(kind, secret));
  // Client headers that matter upstream, when the client spoke that provider's own API.
  const clientSpeaksKind = prepared.translation === null;
  if (clientSpeaksKind) {
    for (const name of FORWARDED_CLIENT_HEADERS[kind]) {
      const v = headerValue(request.headers[name]);
      if (v !== undefined) headers[name] = v;
    }
  }
  if (kind === 'anthropic') {
    headers['anthropic-version'] ??= ANTHROPIC_VERSION;
    if (!clientSpeaksKind) {
      const beta = headerValue(request.headers['anthropic-beta']);
      if (beta !== undefined) headers['anthropic-beta'] = beta;
    }
  }
  return headers;
}

/** Claude Code sends `?beta=true`; Anthropic accepts it, others get no client query string. */
function forwardedQuery(request: FastifyRequest, prepared: PreparedUpstreamRequest): string {
  if (prepared.translation !== null || (prepared.op !== 'messages' && prepared.op !== 'count_tokens')) return '';
  const q = request.url.indexOf('?');
  return q === -1 ? '' : request.url.slice(q);
}

function isEventStream(headers: Record<string, string | string[] | undefined>): boolean {
  const ct = headerValue(headers['content-type']);
  return ct !== undefined && ct.includes('text/event-stream');
}
