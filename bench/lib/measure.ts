/** The three ways a scenario is executed: one preflight request, N sequential requests, a load run. */
import autocannon from 'autocannon';
import { Client, request } from 'undici';
import type { Scenario, Target } from './scenarios.js';
import { cpuMs, machineBusyMs, peakSampler } from './procs.js';

export interface Reply {
  status: number;
  text: string;
}

export async function send(origin: string, s: Pick<Scenario, 'method' | 'path' | 'headers' | 'body'>, timeoutMs = 15_000): Promise<Reply> {
  const res = await request(origin + s.path, {
    method: s.method,
    headers: s.headers,
    body: s.body,
    headersTimeout: timeoutMs,
    bodyTimeout: timeoutMs,
  });
  return { status: res.statusCode, text: await res.body.text() };
}

/** A short description of an error reply: `HTTP 400 format_mismatch: message`. */
export function describeError(r: Reply): string {
  let detail = r.text.slice(0, 300).replace(/\s+/g, ' ');
  try {
    const j = JSON.parse(r.text) as { error?: { code?: string; type?: string; message?: string } };
    if (j.error) detail = [j.error.code, j.error.message].filter(Boolean).join(': ') || detail;
  } catch {
    /* not JSON */
  }
  return `HTTP ${r.status}${detail ? ` ${detail}` : ''}`;
}

/** Does a 200 reply look like a complete answer in the client's format? Returns a problem or undefined. */
export function checkReply(s: Scenario, r: Reply): string | undefined {
  if (r.status !== 200) return describeError(r);
  if (s.stream) {
    const endMarker = s.client === 'openai' ? 'data: [DONE]' : 'message_stop';
    if (!r.text.includes(endMarker)) return `stream without "${endMarker}": ${r.text.slice(0, 200)}`;
    if (firstContentAt(s.client, r.text) === -1) return `stream without content deltas: ${r.text.slice(0, 200)}`;
    return undefined;
  }
  try {
    const j = JSON.parse(r.text) as { choices?: Array<{ message?: { content?: unknown } }>; content?: Array<{ text?: unknown }> };
    const text = s.client === 'openai' ? j.choices?.[0]?.message?.content : j.content?.[0]?.text;
    return typeof text === 'string' && text.length > 0 ? undefined : `unexpected body: ${r.text.slice(0, 200)}`;
  } catch {
    return `body is not JSON: ${r.text.slice(0, 200)}`;
  }
}

/**
 * Index just past the SSE line carrying the first content token in `text`, or -1. OpenAI: a chunk with
 * non-empty choices[0].delta.content; Anthropic: a content_block_delta event.
 */
export function firstContentAt(client: 'openai' | 'anthropic', text: string): number {
  let pos = 0;
  for (;;) {
    const nl = text.indexOf('\n', pos);
    if (nl === -1) return -1;
    const line = text.slice(pos, nl);
    pos = nl + 1;
    if (!line.startsWith('data:')) continue;
    const data = line.slice(5).trim();
    if (data === '[DONE]') continue;
    try {
      const j = JSON.parse(data) as { type?: string; choices?: Array<{ delta?: { content?: unknown } }> };
      if (client === 'anthropic' ? j.type === 'content_block_delta' : typeof j.choices?.[0]?.delta?.content === 'string' && j.choices[0].delta.content !== '') {
        return pos;
      }
    } catch {
      /* partial or foreign line */
    }
  }
}

export interface SeqSample {
  total: number[];
  ttfb: number[];
  ttft: number[];
  failures: number;
  firstFailure?: string;
}

/**
 * Unloaded latency: `count` sequential requests per scenario, interleaved across the given scenarios
 * (one keep-alive connection each), so drift on the shared machine hits all targets alike.
 */
export async function runSequential(
  items: Array<{ s: Scenario; origin: string }>,
  count: number,
  warmup: number,
  deadlineMs: number,
): Promise<SeqSample[]> {
  const clients = items.map((it) => new Client(it.origin, { pipelining: 1, keepAliveTimeout: 30_000 }));
  const out: SeqSample[] = items.map(() => ({ total: [], ttfb: [], ttft: [], failures: 0 }));
  const stopAt = Date.now() + deadlineMs;
  try {
    for (let i = 0; i < warmup + count && Date.now() < stopAt; i++) {
      for (let k = 0; k < items.length; k++) {
        const { s } = items[k] as { s: Scenario };
        const client = clients[k] as Client;
        const sample = out[k] as SeqSample;
        const t0 = performance.now();
        let ttfb = NaN;
        let ttft = NaN;
        let text = '';
        let status = 0;
        try {
          const body = s.bodyCycle ? (s.bodyCycle[i % s.bodyCycle.length] as string) : s.body;
          const res = await client.request({ method: s.method, path: s.path, headers: s.headers, body, headersTimeout: 10_000, bodyTimeout: 10_000 });
          status = res.statusCode;
          for await (const chunk of res.body as AsyncIterable<Buffer>) {
            const now = performance.now();
            if (Number.isNaN(ttfb)) ttfb = now - t0;
            if (s.stream && Number.isNaN(ttft)) {
              text += chunk.toString('utf8');
              if (firstContentAt(s.client, text) !== -1) ttft = now - t0;
            } else if (status !== 200 && text.length < 500) text += chunk.toString('utf8');
          }
        } catch (e) {
          status = -1;
          text = (e as Error).message;
        }
        const total = performance.now() - t0;
        if (i < warmup) continue;
        if (status !== 200) {
          sample.failures++;
          sample.firstFailure ??= status === -1 ? text : describeError({ status, text });
          continue;
        }
        sample.total.push(total);
        if (s.stream) {
          sample.ttfb.push(ttfb);
          if (!Number.isNaN(ttft)) sample.ttft.push(ttft);
        }
      }
    }
  } finally {
    await Promise.all(clients.map((c) => c.close().catch(() => undefined)));
  }
  return out;
}

export interface LoadSample {
  rps: number;
  p50: number;
  p99: number;
  requests: number;
  non2xx: number;
  errors: number;
  cpuUsPerReq: number;
  stubCpuUsPerReq: number;
  peakRssMb: number;
  loadgenCpuPct: number;
  /** Busy CPU on the machine not spent in target, stub or load generator (100 = one core). */
  otherCpuPct: number;
  /** Seconds autocannon ran and the wall time around it: the weights `mergeSlices` needs. */
  durationS: number;
  wallMs: number;
}

/**
 * One sample from the slices of a load run (`runLoad` called several times on one target, the
 * slices of other targets in between): req/s over the slices' total time, CPU per request over
 * their total requests, p50 weighted by requests, p99 and peak RSS the worst slice's, CPU shares
 * weighted by wall time.
 */
export function mergeSlices(slices: readonly LoadSample[]): LoadSample {
  if (slices.length === 1) return slices[0] as LoadSample;
  const total = (f: (s: LoadSample) => number): number => slices.reduce((a, s) => a + f(s), 0);
  const requests = total((s) => s.requests);
  const durationS = total((s) => s.durationS);
  const wallMs = total((s) => s.wallMs);
  const perRequest = (f: (s: LoadSample) => number): number => (requests > 0 ? total((s) => f(s) * s.requests) / requests : NaN);
  const perWall = (f: (s: LoadSample) => number): number => total((s) => f(s) * s.wallMs) / wallMs;
  const worst = (f: (s: LoadSample) => number): number => Math.max(...slices.map(f).filter(Number.isFinite));
  return {
    rps: total((s) => s.rps * s.durationS) / durationS,
    p50: perRequest((s) => s.p50),
    p99: worst((s) => s.p99),
    requests,
    non2xx: total((s) => s.non2xx),
    errors: total((s) => s.errors),
    cpuUsPerReq: perRequest((s) => s.cpuUsPerReq),
    stubCpuUsPerReq: perRequest((s) => s.stubCpuUsPerReq),
    peakRssMb: worst((s) => s.peakRssMb),
    loadgenCpuPct: perWall((s) => s.loadgenCpuPct),
    otherCpuPct: perWall((s) => s.otherCpuPct),
    durationS,
    wallMs,
  };
}

/** A setupRequest that gives each request, across all connections, the next body in turn. */
function cycleBodies(bodies: readonly string[]): (req: { body?: string | Buffer }) => { body?: string | Buffer } {
  const encoded = bodies.map((b) => Buffer.from(b));
  let next = 0;
  return (req) => {
    req.body = encoded[next++ % encoded.length] as Buffer;
    return req;
  };
}

export async function runLoad(
  s: Scenario,
  target: Target,
  stubPid: number,
  opts: { connections: number; durationS: number },
): Promise<LoadSample> {
  const pid = target.pid ?? -1;
  const sampler = peakSampler(pid);
  const cpu0 = cpuMs(pid);
  const stub0 = cpuMs(stubPid);
  const lg0 = process.cpuUsage();
  const m0 = machineBusyMs();
  const t0 = performance.now();
  const inst = autocannon({
    url: target.origin + s.path,
    connections: opts.connections,
    duration: opts.durationS,
    timeout: 10,
    method: s.method,
    headers: s.headers,
    body: s.body,
    ...(s.bodyCycle ? { requests: [{ setupRequest: cycleBodies(s.bodyCycle) }] } : {}),
  });
  // Hard bound in case autocannon never finishes (e.g. a hung target).
  const guard = setTimeout(() => inst.stop(), (opts.durationS + 20) * 1000);
  let r;
  try {
    r = await inst;
  } finally {
    clearTimeout(guard);
  }
  const wallMs = performance.now() - t0;
  const lg = process.cpuUsage(lg0);
  const cpu1 = cpuMs(pid);
  const stub1 = cpuMs(stubPid);
  const m1 = machineBusyMs();
  const peak = sampler.stop();
  const ok = r['2xx'];
  const done = ok + r.non2xx;
  return {
    rps: ok / r.duration,
    p50: r.latency.p50,
    p99: r.latency.p99,
    requests: done,
    non2xx: r.non2xx,
    errors: r.errors,
    cpuUsPerReq: cpu0 !== undefined && cpu1 !== undefined && done > 0 ? ((cpu1 - cpu0) * 1000) / done : NaN,
    stubCpuUsPerReq: stub0 !== undefined && stub1 !== undefined && done > 0 ? ((stub1 - stub0) * 1000) / done : NaN,
    peakRssMb: peak,
    loadgenCpuPct: ((lg.user + lg.system) / 1000 / wallMs) * 100,
    otherCpuPct:
      m0 !== undefined && m1 !== undefined && cpu0 !== undefined && cpu1 !== undefined && stub0 !== undefined && stub1 !== undefined
        ? Math.max(0, ((m1 - m0 - (cpu1 - cpu0) - (stub1 - stub0) - (lg.user + lg.system) / 1000) / wallMs) * 100)
        : NaN,
    durationS: r.duration,
    wallMs,
  };
}
