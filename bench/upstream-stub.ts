/**
 * Upstream stub for the benchmark: a tiny node:http server that answers like OpenAI
 * (`POST /openai/v1/chat/completions`) and Anthropic (`POST /anthropic/v1/messages`), JSON and SSE,
 * with real wire shapes and as little CPU as possible (bodies are pre-rendered and cached per model).
 *
 * Delay before the response starts: env STUB_DELAY_MS, query `?delay=MS`, or at run time
 * `POST /__bench/config?delay=MS` (what the runner uses, so every target sees the same upstream).
 * SSE pacing: by default the first event goes out with the headers and the rest in one write on the
 * next tick (so time-to-first-byte is measurable and CPU stays low); STUB_CHUNK_GAP_MS > 0 spaces
 * every event by that many ms instead.
 *
 * Listens on 127.0.0.1 (port from STUB_PORT, default 0) and prints `STUB_PORT=<port>` on stdout.
 */
import http from 'node:http';

let delayMs = Number(process.env.STUB_DELAY_MS ?? 0) || 0;
let chunkGapMs = Number(process.env.STUB_CHUNK_GAP_MS ?? 0) || 0;
let served = 0;

const TEXT_PIECES = ['Hello', '!', ' This', ' is', ' a', ' benchmark', ' stub', ' reply', ' from', ' upstream', '.'];
const FULL_TEXT = TEXT_PIECES.join('');
const CREATED = Math.floor(Date.now() / 1000);
const IN_TOKENS = 9;
const OUT_TOKENS = TEXT_PIECES.length;

interface Rendered {
  json: Buffer;
  /** SSE events, each a complete `...\n\n` frame. */
  events: Buffer[];
  /** Everything after the first event, concatenated (burst mode). */
  rest: Buffer;
}

function openaiUsage(): object {
  return {
    prompt_tokens: IN_TOKENS,
    completion_tokens: OUT_TOKENS,
    total_tokens: IN_TOKENS + OUT_TOKENS,
    prompt_tokens_details: { cached_tokens: 0, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function renderOpenai(model: string, includeUsage: boolean): Rendered {
  const id = 'chatcmpl-bench0000000000000000000001';
  const json = Buffer.from(
    JSON.stringify({
      id,
      object: 'chat.completion',
      created: CREATED,
      model,
      choices: [
        {
          index: 0,
          message: { role: 'assistant', content: FULL_TEXT, refusal: null, annotations: [] },
          logprobs: null,
          finish_reason: 'stop',
        },
      ],
      usage: openaiUsage(),
      service_tier: 'default',
      system_fingerprint: 'fp_bench',
    }),
  );
  const base = { id, object: 'chat.completion.chunk', created: CREATED, model, service_tier: 'default', system_fingerprint: 'fp_bench' };
  const usageNull = includeUsage ? { usage: null } : {};
  const chunk = (choice: object): Buffer =>
    Buffer.from(`data: ${JSON.stringify({ ...base, choices: [choice], ...usageNull })}\n\n`);
  const events: Buffer[] = [chunk({ index: 0, delta: { role: 'assistant', content: '', refusal: null }, logprobs: null, finish_reason: null })];
  for (const piece of TEXT_PIECES) events.push(chunk({ index: 0, delta: { content: piece }, logprobs: null, finish_reason: null }));
  events.push(chunk({ index: 0, delta: {}, logprobs: null, finish_reason: 'stop' }));
  if (includeUsage) events.push(Buffer.from(`data: ${JSON.stringify({ ...base, choices: [], usage: openaiUsage() })}\n\n`));
  events.push(Buffer.from('data: [DONE]\n\n'));
  return { json, events, rest: Buffer.concat(events.slice(1)) };
}

function renderAnthropic(model: string): Rendered {
  const id = 'msg_bench000000000000000001';
  const json = Buffer.from(
    JSON.stringify({
      id,
      type: 'message',
      role: 'assistant',
      model,
      content: [{ type: 'text', text: FULL_TEXT }],
      stop_reason: 'end_turn',
      stop_sequence: null,
      usage: { input_tokens: IN_TOKENS, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: OUT_TOKENS, service_tier: 'standard' },
    }),
  );
  const ev = (name: string, data: object): Buffer => Buffer.from(`event: ${name}\ndata: ${JSON.stringify(data)}\n\n`);
  const events: Buffer[] = [
    ev('message_start', {
      type: 'message_start',
      message: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: [],
        stop_reason: null,
        stop_sequence: null,
        usage: { input_tokens: IN_TOKENS, cache_creation_input_tokens: 0, cache_read_input_tokens: 0, output_tokens: 1, service_tier: 'standard' },
      },
    }),
    ev('content_block_start', { type: 'content_block_start', index: 0, content_block: { type: 'text', text: '' } }),
    ev('ping', { type: 'ping' }),
  ];
  for (const piece of TEXT_PIECES) {
    events.push(ev('content_block_delta', { type: 'content_block_delta', index: 0, delta: { type: 'text_delta', text: piece } }));
  }
  events.push(ev('content_block_stop', { type: 'content_block_stop', index: 0 }));
  events.push(ev('message_delta', { type: 'message_delta', delta: { stop_reason: 'end_turn', stop_sequence: null }, usage: { output_tokens: OUT_TOKENS } }));
  events.push(ev('message_stop', { type: 'message_stop' }));
  return { json, events, rest: Buffer.concat(events.slice(1)) };
}

const cache = new Map<string, Rendered>();
function rendered(kind: 'openai' | 'anthropic', model: string, includeUsage: boolean): Rendered {
  const key = `${kind}|${model}|${includeUsage ? 1 : 0}`;
  let r = cache.get(key);
  if (!r) {
    r = kind === 'openai' ? renderOpenai(model, includeUsage) : renderAnthropic(model);
    if (cache.size < 64) cache.set(key, r);
  }
  return r;
}

interface ParsedRequest {
  model: string;
  stream: boolean;
  includeUsage: boolean;
}

function parseBody(raw: Buffer): ParsedRequest | undefined {
  try {
    const b = JSON.parse(raw.toString('utf8')) as { model?: unknown; stream?: unknown; stream_options?: { include_usage?: unknown } };
    if (typeof b.model !== 'string') return undefined;
    return { model: b.model, stream: b.stream === true, includeUsage: b.stream_options?.include_usage === true };
  } catch {
    return undefined;
  }
}

function sendError(res: http.ServerResponse, kind: 'openai' | 'anthropic', status: number, message: string): void {
  const body =
    kind === 'openai'
      ? { error: { message, type: 'invalid_request_error', param: null, code: null } }
      : { type: 'error', error: { type: 'invalid_request_error', message } };
  const buf = Buffer.from(JSON.stringify(body));
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': buf.length });
  res.end(buf);
}

function respond(res: http.ServerResponse, kind: 'openai' | 'anthropic', req: ParsedRequest): void {
  const r = rendered(kind, req.model, req.includeUsage);
  const reqId = kind === 'openai' ? { 'x-request-id': `req_bench${served}` } : { 'request-id': `req_bench${served}` };
  if (!req.stream) {
    res.writeHead(200, { 'content-type': 'application/json', 'content-length': r.json.length, ...reqId });
    res.end(r.json);
    return;
  }
  res.writeHead(200, { 'content-type': 'text/event-stream; charset=utf-8', 'cache-control': 'no-cache', ...reqId });
  const first = r.events[0];
  if (first) res.write(first);
  if (chunkGapMs > 0) {
    let i = 1;
    const next = (): void => {
      if (res.destroyed) return;
      const ev = r.events[i++];
      if (!ev) {
        res.end();
        return;
      }
      res.write(ev);
      setTimeout(next, chunkGapMs);
    };
    setTimeout(next, chunkGapMs);
  } else {
    setImmediate(() => {
      if (!res.destroyed) res.end(r.rest);
    });
  }
}

const server = http.createServer((req, res) => {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  const path = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? undefined : new URLSearchParams(url.slice(q + 1));

  if (path === '/__bench/config') {
    const d = query?.get('delay');
    const g = query?.get('gap');
    if (d !== null && d !== undefined) delayMs = Math.max(0, Number(d) || 0);
    if (g !== null && g !== undefined) chunkGapMs = Math.max(0, Number(g) || 0);
    const body = JSON.stringify({ delayMs, chunkGapMs, served });
    res.writeHead(200, { 'content-type': 'application/json' });
    res.end(body);
    req.resume();
    return;
  }

  let kind: 'openai' | 'anthropic';
  if (req.method === 'POST' && path.endsWith('/chat/completions') && path.startsWith('/openai/')) kind = 'openai';
  else if (req.method === 'POST' && path.endsWith('/v1/messages') && path.startsWith('/anthropic/')) kind = 'anthropic';
  else {
    req.resume();
    res.writeHead(404, { 'content-type': 'application/json' });
    res.end(JSON.stringify({ error: { message: `stub: no route ${req.method ?? ''} ${path}`, type: 'not_found' } }));
    return;
  }

  const chunks: Buffer[] = [];
  req.on('data', (c: Buffer) => chunks.push(c));
  req.on('end', () => {
    served++;
    const parsed = parseBody(chunks.length === 1 ? (chunks[0] as Buffer) : Buffer.concat(chunks));
    if (!parsed) {
      sendError(res, kind, 400, 'stub: body must be JSON with a string "model"');
      return;
    }
    const qd = query?.get('delay');
    const d = qd !== null && qd !== undefined ? Math.max(0, Number(qd) || 0) : delayMs;
    if (d > 0) setTimeout(() => respond(res, kind, parsed), d);
    else respond(res, kind, parsed);
  });
});

server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(Number(process.env.STUB_PORT ?? 0), '127.0.0.1', () => {
  const addr = server.address();
  if (addr && typeof addr === 'object') process.stdout.write(`STUB_PORT=${addr.port}\n`);
});

const stop = (): void => {
  server.close();
  server.closeAllConnections();
  process.exit(0);
};
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
