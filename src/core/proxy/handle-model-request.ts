import { EventEmitter } from 'node:events';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Dispatcher } from 'undici';
import type { Profile } from '../../shared/policy-schema.js';
import type { Attempt, Decision, Trace, Usage } from '../../shared/trace.js';
import { EMPTY_USAGE } from '../../shared/trace.js';
import { errorDialectOf, type WireFormat } from '../../shared/wire-format.js';
import { missingCredentialMessage, type CredentialStore } from '../credentials/credential-store.js';
import { GatewayError, isGatewayError } from '../gateway-error.js';
import { renderErrorBody } from '../http/render-error.js';
import type { ProfileRegistry } from '../profiles/profile-registry.js';
import {
  ANTHROPIC_VERSION,
  authHeaders,
  FORWARDED_CLIENT_HEADERS,
  isForwardableResponseHeader,
  resolveUpstreamTarget,
} from '../providers/provider-transport.js';
import type { CircuitBreakers } from '../routing/circuit-breaker.js';
import { resolveTargets, type RouteTarget } from '../routing/resolve-targets.js';
import { backoffMs, isRetryableStatus, retryAfterMs } from '../routing/retry-policy.js';
import { createSseParser, serializeSseEvent, type SseEvent } from '../sse/sse-parser.js';
import {
  createStreamErrorEvents,
  createStreamTranslator,
  estimateInputTokens,
  translateErrorBody,
  translateResponse,
} from '../translate/index.js';
import { DEFAULT_CONNECT_TIMEOUT_MS, type UpstreamClients } from '../upstream/upstream-clients.js';
import { applyPolicyEdits, prepareUpstreamRequest, type ClientRequest, type PreparedUpstreamRequest } from './prepare-upstream-request.js';
import type { RequestGuard } from './request-guard.js';
import type { ModelRouteSpec } from './route-spec.js';
import { createPassthroughStream } from './passthrough-stream.js';
import { createStreamTap, isOpenAiContentChunk, safeParse } from './stream-tap.js';
import { usageFromBody, usageFromJsonText } from './usage.js';

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

/** Mutable per-request record, turned into a `Trace` once the request ends. */
interface RequestRun {
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
type TryFailure =
  | { kind: 'upstream-error'; status: number; headers: Record<string, string | string[] | undefined>; body: Buffer; retryAfterMs: number | null }
  | { kind: 'transport-error'; error: GatewayError };

/** How one try ended: it answered the client (`upstreamFailed`: a stream cut after its first byte), the client left, or it failed before answering. */
type TryResult = { kind: 'answered'; upstreamFailed: boolean } | 'client-gone' | TryFailure;

const ANSWERED: TryResult = { kind: 'answered', upstreamFailed: false };

/** One try at one target. `answering` is its attempt record, made once it starts answering the client. */
interface TryState {
  target: RouteTarget;
  started: number;
  answering: Attempt | null;
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

      const resolution = resolveTargets({
        profile,
        requestedModel: model,
        canServe: (kind) => route.servedBy.includes(kind),
        isModelAllowed: (m) => snapshot.compiled.isModelAllowed(m),
        routeName: route.path,
        // Appended in place: an allow-list or residency denial throws, and its decision must still reach the trace.
        decisions: run.decisions,
      });

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
      if (!deps.breakers.tryAcquire(target.provider.id)) {
        run.attempts.push({ providerId: target.provider.id, model: target.model, outcome: 'skipped', status: null, durationMs: 0, reason: 'circuit open' });
        lastFailure = keepTried(lastFailure, { failure: { kind: 'transport-error', error: new GatewayError('circuit_open', `Provider "${target.provider.id}" is cooling down after repeated failures.`) }, target, prepared: null });
        continue;
      }
      const credential = await deps.credentials.get(target.provider);
      if (credential === null) {
        deps.breakers.release(target.provider.id); // a missing key says nothing about the provider's health
        run.attempts.push({ providerId: target.provider.id, model: target.model, outcome: 'skipped', status: null, durationMs: 0, reason: 'no credential' });
        lastFailure = keepTried(lastFailure, { failure: { kind: 'transport-error', error: new GatewayError('missing_credential', missingCredentialMessage(target.provider)) }, target, prepared: null });
        continue;
      }
      let prepared: PreparedUpstreamRequest;
      try {
        prepared = prepareUpstreamRequest(route, client, target, run.modelRequested ?? target.model);
      } catch (e) {
        deps.breakers.release(target.provider.id);
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
          deps.breakers.release(target.provider.id); // never strand a half-open trial
          throw e;
        }
        const durationMs = round(performance.now() - state.started);
        if (state.answering) state.answering.durationMs = durationMs;
        if (outcome === 'client-gone') {
          deps.breakers.release(target.provider.id);
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
          if (outcome.upstreamFailed) deps.breakers.onFailure(target.provider.id);
          else deps.breakers.onSuccess(target.provider.id);
          run.warnings.push(...prepared.warnings);
          deps.onCredentialUsed?.(target.provider.id, credential.fingerprint, profile);
          return;
        }
        deps.breakers.onFailure(target.provider.id);
        lastFailure = { failure: outcome, target, prepared };
        const status = outcome.kind === 'upstream-error' ? outcome.status : null;
        const reason = outcome.kind === 'upstream-error' ? `upstream ${outcome.status}` : outcome.error.message;
        const waitMs = outcome.kind === 'upstream-error' && outcome.retryAfterMs !== null ? outcome.retryAfterMs : backoffMs(attempt, random);
        const canRetry = attempt < routing.retries && performance.now() + waitMs < deadline && deps.breakers.state(target.provider.id) === 'closed';
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
    let res: Dispatcher.ResponseData;
    try {
      res = await deps.upstream.forOrigin(upstream.origin, routing.connectTimeoutMs).request({
        path: upstream.path + forwardedQuery(request, prepared),
        method: 'POST',
        headers,
        body: prepared.body,
        signal: run.upstreamSignal,
        headersTimeout: precise ? 0 : firstByteMs,
        bodyTimeout: routing.idleTimeoutMs,
      });
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
        body = await readLimited(res.body, MAX_ERROR_BODY_BYTES);
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
      return relayStream(reply, run, res, state, prepared);
    }

    let raw: Buffer;
    try {
      raw = Buffer.from(await res.body.arrayBuffer());
    } catch (e) {
      if (run.clientGone) return 'client-gone';
      return { kind: 'transport-error', error: transportError(e, target) };
    }
    const text = raw.toString('utf8');
    let out: Buffer | string = raw;
    if (prepared.translation) {
      const parsed = safeParse(text);
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
      run.usage = usageFromJsonText(prepared.usageShape, text);
    }
    run.ttftMs = null;
    beginAnswer(run, state, res.statusCode);
    sendJson(reply, run, res.statusCode, forwardableHeaders(res.headers), out);
    return ANSWERED;
  }

  async function relayStream(
    reply: FastifyReply,
    run: RequestRun,
    res: Dispatcher.ResponseData,
    state: TryState,
    prepared: PreparedUpstreamRequest,
  ): Promise<TryResult> {
    const { target } = state;
    const parser = createSseParser();
    const tap = createStreamTap(prepared.usageShape);
    const translation = prepared.translation;
    const translator = translation
      ? createStreamTranslator(translation.to, translation.from, {
          ...translation.ctx,
          estimatedInputTokens: translation.estimatedInputTokens,
        })
      : null;
    // Same format: bytes pass through and the tap reads only what it needs. Translation: events.
    const passthrough = translator === null ? createPassthroughStream(tap, prepared.usageShape, { dropUsageOnlyChunk: prepared.hideUsageChunk }) : null;
    const clientFormat: WireFormat = translation?.from ?? (target.provider.kind === 'anthropic' && route.op === 'messages' ? 'anthropic-messages' : 'openai-chat');
    const raw = reply.raw;
    let started = false;
    let sawContent = false;

    const start = (): void => {
      beginAnswer(run, state, res.statusCode);
      reply.hijack();
      const headers = forwardableHeaders(res.headers);
      headers['content-type'] = 'text/event-stream; charset=utf-8';
      headers['cache-control'] = 'no-cache';
      Object.assign(headers, ascHeaders(run));
      raw.writeHead(res.statusCode, headers);
      started = true;
    };

    const write = async (data: string | Buffer): Promise<void> => {
      if (!started) start();
      if ((sawContent || passthrough?.sawContent === true) && run.ttftMs === null) run.ttftMs = round(performance.now() - run.t0);
      if (!raw.write(data)) await waitForDrain(raw, run);
    };

    // Translated: the translator reads usage and errors itself, so the tap is not run again; time
    // to first token is the first content event the client receives.
    const translateEvents = (events: ReturnType<typeof parser.push>): string => {
      let out = '';
      for (const ev of events) {
        for (const t of translator!.push(ev)) {
          if (!sawContent && isContentEvent(clientFormat, t)) sawContent = true;
          out += serializeSseEvent(t);
        }
      }
      return out;
    };
    const streamUsage = (): Usage | null => (translator ? presentUsage(translator.usage()) : tap.usage());

    try {
      for await (const chunk of res.body as AsyncIterable<Buffer>) {
        const out = passthrough ? passthrough.push(chunk) : translateEvents(parser.push(chunk));
        if (out.length > 0) await write(out);
      }
      let tail: string | Buffer;
      if (passthrough) {
        tail = passthrough.end();
      } else {
        tail = translateEvents(parser.end());
        for (const t of translator!.end()) tail += serializeSseEvent(t);
      }
      if (tail.length > 0) await write(tail);
      if (!started) start();
      run.usage = streamUsage();
      if (translator) run.warnings.push(...translator.warnings());
      run.status = res.statusCode;
      raw.end();
      // The stream closed, but on an error the client already read (an upstream error event, or a
      // translated stream cut short): the request failed, and the trace must say so.
      const streamError = translator ? (translator.error()?.message ?? null) : tap.error();
      if (streamError !== null) {
        run.status = 502;
        run.errorCode = 'upstream_stream_error';
        if (state.answering) {
          state.answering.outcome = 'error';
          state.answering.reason = `upstream stream error: ${streamError}`;
        }
        return { kind: 'answered', upstreamFailed: true };
      }
      return ANSWERED;
    } catch (e) {
      run.usage = streamUsage();
      if (translator) run.warnings.push(...translator.warnings());
      if (run.clientGone) return 'client-gone';
      const err = transportError(e, target);
      if (!started) return { kind: 'transport-error', error: err };
      // Bytes already reached the client: no fallback now; end the stream with an error it can read.
      run.status = 502;
      run.errorCode = 'upstream_stream_error';
      if (state.answering) {
        state.answering.outcome = 'error';
        state.answering.reason = `upstream stream failed after the first byte: ${err.message}`;
      }
      let out = '';
      for (const ev of createStreamErrorEvents(clientFormat, { type: 'api_error', message: `upstream stream from "${target.provider.id}" failed: ${err.message}` })) {
        out += serializeSseEvent(ev);
      }
      raw.end(out);
      return { kind: 'answered', upstreamFailed: true };
    }
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
  if (parsed === null || typeof parsed !== 'object' || Array.isArray(parsed)) {
    throw new GatewayError('invalid_json', 'The request body must be a JSON object.');
  }
  const obj = parsed as Record<string, unknown>;
  return { raw: body, body: obj, edited: false, addedFields: [], stream: obj.stream === true };
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

function forwardableHeaders(headers: Record<string, string | string[] | undefined>): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined || !isForwardableResponseHeader(name) || name === 'content-type') continue;
    out[name] = Array.isArray(value) ? value.join(', ') : value;
  }
  return out;
}

function isEventStream(headers: Record<string, string | string[] | undefined>): boolean {
  const ct = headerValue(headers['content-type']);
  return ct !== undefined && ct.includes('text/event-stream');
}

function ascHeaders(run: RequestRun): Record<string, string> {
  const headers: Record<string, string> = {
    'x-asc-request-id': run.id,
    'x-asc-provider': run.target?.provider.id ?? 'none',
    'x-asc-model': run.target?.model ?? 'none',
  };
  const attempts = summarizeAttempts(run.attempts);
  if (attempts.length > 0) headers['x-asc-attempts'] = attempts;
  return headers;
}

function setAscHeaders(reply: FastifyReply, run: RequestRun): void {
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
function beginAnswer(run: RequestRun, state: TryState, status: number): void {
  state.answering = { providerId: state.target.provider.id, model: state.target.model, outcome: status < 400 ? 'ok' : 'error', status, durationMs: 0 };
  run.attempts.push(state.answering);
}

/** Whether an event sent to the client carries generated output (text or tool arguments). */
function isContentEvent(format: WireFormat, ev: SseEvent): boolean {
  return format === 'anthropic-messages' ? ev.event === 'content_block_delta' : isOpenAiContentChunk(ev.data);
}

/** A usage with no token counts at all is no usage (the cost is then unknown, not zero). */
function presentUsage(u: Usage): Usage | null {
  return u.inputTokens === null && u.outputTokens === null ? null : u;
}

function deadlineError(timeoutMs: number): GatewayError {
  return new GatewayError('upstream_timeout', `No provider answered within the routing deadline (routing.timeoutMs = ${timeoutMs} ms).`);
}

function toTrace(run: RequestRun, clientKeyId: string, usage: Usage, cost: { usd: number | null; note: string | null }): Trace {
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

function toGatewayError(e: unknown): GatewayError {
  if (isGatewayError(e)) return e;
  return new GatewayError('internal_error', `internal error: ${(e as Error)?.message ?? String(e)}`, { cause: e });
}

function describeTarget(target: RouteTarget): string {
  return `provider "${target.provider.id}" (${target.provider.baseUrl})`;
}

function transportError(e: unknown, target: RouteTarget): GatewayError {
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

async function readLimited(body: AsyncIterable<Buffer>, limit: number): Promise<Buffer> {
  const parts: Buffer[] = [];
  let size = 0;
  for await (const chunk of body) {
    size += chunk.length;
    if (size <= limit) parts.push(chunk);
  }
  return Buffer.concat(parts);
}

function waitForDrain(stream: NodeJS.WritableStream, run: RequestRun): Promise<void> {
  return untilAbortOr(run, (done) => {
    stream.once('drain', done);
    return () => stream.off('drain', done);
  });
}

function sleep(ms: number, run: RequestRun): Promise<void> {
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

function headerValue(v: string | string[] | undefined): string | undefined {
  return Array.isArray(v) ? v[0] : v;
}

function round(ms: number): number {
  return Math.round(ms * 100) / 100;
}
