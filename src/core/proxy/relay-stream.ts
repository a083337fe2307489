import type { FastifyReply } from 'fastify';
import type { Usage } from '../../shared/trace.js';
import type { WireFormat } from '../../shared/wire-format.js';
import { createSseParser, serializeSseEvent, type SseEvent } from '../sse/sse-parser.js';
import { createStreamErrorEvents, createStreamTranslator } from '../translate/index.js';
import type { UpstreamResponse } from '../upstream/upstream-call.js';
import { createPassthroughStream } from './passthrough-stream.js';
import type { PreparedUpstreamRequest } from './prepare-upstream-request.js';
import {
  ANSWERED,
  ascHeaders,
  beginAnswer,
  forwardableHeaders,
  round,
  transportError,
  waitForDrain,
  type RequestRun,
  type TryResult,
  type TryState,
} from './request-run.js';
import type { ModelRouteSpec } from './route-spec.js';
import { createStreamTap } from './stream-tap.js';

/**
 * Relays an upstream event stream to the client: bytes as they come for a same-format stream
 * (a side tap reads usage, errors and time to first token), translated events otherwise. Once
 * the first byte is out there is no fallback: an upstream failure ends the stream with an error
 * event the client's SDK can read.
 */
export async function relayStream(
  route: ModelRouteSpec,
  reply: FastifyReply,
  run: RequestRun,
  res: UpstreamResponse,
  state: TryState,
  prepared: PreparedUpstreamRequest,
): Promise<TryResult> {
  const { target } = state;
  const translation = prepared.translation;
  // Same format: bytes pass through and a tap reads only what it needs. Translation: an SSE parser
  // feeds the translator, which reads usage and errors itself.
  const translator = translation
    ? createStreamTranslator(translation.to, translation.from, translation.ctx)
    : null;
  const parser = translator ? createSseParser() : null;
  const tap = translator ? null : createStreamTap(prepared.usageShape);
  const passthrough = tap ? createPassthroughStream(tap, prepared.usageShape, { dropUsageOnlyChunk: prepared.hideUsageChunk }) : null;
  const clientFormat: WireFormat = translation?.from ?? (target.provider.kind === 'anthropic' && route.op === 'messages' ? 'anthropic-messages' : 'openai-chat');
  const raw = reply.raw;
  let started = false;

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

  // Writes are corked until the end of this event-loop turn, so a chunk and the stream's end that
  // arrive together (the usual last read: final events plus the upstream's terminator) leave in
  // one syscall with the chunked-encoding terminator; `end()` uncorks fully. Nothing waits on a timer.
  let corked = false;
  const uncork = (): void => {
    corked = false;
    if (!raw.writableEnded) raw.uncork();
  };
  /** Undefined when the client took the bytes, else a promise that settles once it drained (or left). */
  const write = (data: string | Buffer): Promise<void> | undefined => {
    if (!started) start();
    if (!corked) {
      corked = true;
      raw.cork();
      setImmediate(uncork);
    }
    if (run.ttftMs === null && (translator?.sawContent === true || passthrough?.sawContent === true)) run.ttftMs = round(performance.now() - run.t0);
    return raw.write(data) ? undefined : waitForDrain(raw, run);
  };

  const translateEvents = (events: SseEvent[]): string => {
    let out = '';
    for (const ev of events) out += translator!.push(ev);
    return out;
  };
  const streamUsage = (): Usage | null => (translator ? presentUsage(translator.usage()) : (tap?.usage() ?? null));

  try {
    await res.forEachChunk((chunk) => {
      const out = passthrough ? passthrough.push(chunk) : translateEvents(parser!.push(chunk));
      return out.length > 0 ? write(out) : undefined;
    });
    let tail: string | Buffer;
    if (passthrough) {
      tail = passthrough.end();
    } else {
      tail = translateEvents(parser!.end()) + translator!.end();
    }
    if (tail.length > 0) await write(tail);
    if (!started) start();
    run.usage = streamUsage();
    if (translator) run.warnings.push(...translator.warnings());
    run.status = res.statusCode;
    raw.end();
    // The stream closed, but on an error the client already read (an upstream error event, or a
    // translated stream cut short): the request failed, and the trace must say so.
    const streamError = translator ? (translator.error()?.message ?? null) : (tap?.error() ?? null);
    if (streamError !== null) {
      markStreamFailed(run, state, `upstream stream error: ${streamError}`);
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
    markStreamFailed(run, state, `upstream stream failed after the first byte: ${err.message}`);
    let out = '';
    for (const ev of createStreamErrorEvents(clientFormat, { type: 'api_error', message: `upstream stream from "${target.provider.id}" failed: ${err.message}` })) {
      out += serializeSseEvent(ev);
    }
    raw.end(out);
    return { kind: 'answered', upstreamFailed: true };
  }
}

/** A stream the client already received part of failed: the trace records a 502 and why. */
function markStreamFailed(run: RequestRun, state: TryState, reason: string): void {
  run.status = 502;
  run.errorCode = 'upstream_stream_error';
  if (state.answering) {
    state.answering.outcome = 'error';
    state.answering.reason = reason;
  }
}

/** A usage with no token counts at all is no usage (the cost is then unknown, not zero). */
function presentUsage(u: Usage): Usage | null {
  return u.inputTokens === null && u.outputTokens === null ? null : u;
}
