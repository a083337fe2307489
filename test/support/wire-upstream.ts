/**
 * A local upstream that speaks the real wire formats of OpenAI, Anthropic and Mistral, so gateway
 * integration tests can run without reaching the real providers. Every request is recorded.
 *
 * Routing: `${url}/openai/v1/...`, `${url}/anthropic/v1/...`, `${url}/mistral/v1/...` — each prefix
 * is what the official SDKs take as base URL (`baseUrls`).
 *
 * Default replies are deterministic:
 * - chat / messages / responses / FIM answer `echo: <last user text, first 200 chars>`;
 * - with tools declared and a user turn last, they call the first tool with `{"query": <user text>}`
 *   (twice when the text contains `[parallel]`); after tool results they answer `result: <result text>`;
 * - `[cached:N]` in the last user text reports N cached input tokens (OpenAI `cached_tokens`,
 *   Anthropic `cache_read_input_tokens`); `[cache_write:N]` reports Anthropic cache creation tokens;
 * - input tokens ≈ prompt characters / 4 (OpenAI counts cached tokens inside `prompt_tokens`,
 *   Anthropic reports them beside `input_tokens`, as the real APIs do); output tokens ≈ reply length / 4;
 * - `max_tokens` (and `max_completion_tokens` / `max_output_tokens`) truncate the text and end with
 *   the provider's length stop reason.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/object
 * @see https://platform.openai.com/docs/api-reference/chat-streaming
 * @see https://platform.openai.com/docs/api-reference/responses-streaming
 * @see https://docs.anthropic.com/en/api/messages-streaming
 * @see https://docs.anthropic.com/en/api/errors
 * @see https://docs.mistral.ai/api/ (chat, fim, embeddings)
 */
import { createHash } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { setTimeout as sleepTimer } from 'node:timers/promises';

export type UpstreamProvider = 'openai' | 'anthropic' | 'mistral';

export interface RecordedRequest {
  provider: UpstreamProvider;
  method: string;
  /** Path after the provider prefix, query included, e.g. `/v1/messages?beta=true`. */
  path: string;
  headers: Record<string, string | string[] | undefined>;
  /** Parsed JSON body, or undefined (no body / invalid JSON). */
  body: any;
  rawBody: string;
  /** The client went away before the response finished. */
  aborted: boolean;
}

export interface ScriptedResponse {
  status?: number;
  headers?: Record<string, string>;
  /** A fixed JSON reply (e.g. an error in the provider's format). */
  body?: unknown;
  /** A fixed SSE reply. */
  sse?: Array<{ event?: string; data: string }>;
  /** Wait before sending headers. */
  delayMs?: number;
  /** Never answer (until the client aborts). */
  hang?: boolean;
  /** Destroy the socket without a response. */
  reset?: boolean;
  /** For streams: send N events of the stream (the normal one unless `sse` is given), then destroy the socket. */
  failAfterEvents?: number;
  /** Delay between SSE events. */
  chunkDelayMs?: number;
}

export interface WireUpstream {
  url: string;
  baseUrls: { openai: string; anthropic: string; mistral: string };
  requests: RecordedRequest[];
  enqueue(provider: UpstreamProvider, ...responses: ScriptedResponse[]): void;
  setDefaultDelay(ms: number): void;
  reset(): void;
  close(): Promise<void>;
  waitForAbort(provider: UpstreamProvider, timeoutMs?: number): Promise<RecordedRequest>;
}

export interface WireUpstreamOptions {
  requireAuth?: { openai?: string; anthropic?: string; mistral?: string };
}

const PROVIDERS: readonly UpstreamProvider[] = ['openai', 'anthropic', 'mistral'];

/* ------------------------------------------------------------------------------------------------
 * Replies: what a handler decides, before the transport writes it
 * ---------------------------------------------------------------------------------------------- */

interface SseEvent {
  event?: string;
  data: string;
}

type Reply =
  | { kind: 'json'; status: number; headers: Record<string, string>; body: unknown }
  | { kind: 'sse'; status: number; headers: Record<string, string>; events: SseEvent[] };

interface HandlerContext {
  provider: UpstreamProvider;
  method: string;
  pathname: string;
  body: any;
  ids: IdSource;
}

/* ------------------------------------------------------------------------------------------------
 * Deterministic ids in each provider's style
 * ---------------------------------------------------------------------------------------------- */

const BASE62 = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const HEX = '0123456789abcdef';

interface IdSource {
  chars(alphabet: string, length: number): string;
  reset(): void;
}

function createIdSource(seed: string): IdSource {
  let counter = 0;
  return {
    chars(alphabet, length) {
      counter += 1;
      let out = '';
      let block = 0;
      while (out.length < length) {
        const digest = createHash('sha256').update(`${seed}:${counter}:${block}`).digest();
        for (const byte of digest) {
          if (out.length >= length) break;
          out += alphabet[byte % alphabet.length];
        }
        block += 1;
      }
      return out;
    },
    reset() {
      counter = 0;
    },
  };
}

const openaiIds = {
  chat: (ids: IdSource) => `chatcmpl-${ids.chars(BASE62, 29)}`,
  call: (ids: IdSource) => `call_${ids.chars(BASE62, 24)}`,
  response: (ids: IdSource) => `resp_${ids.chars(HEX, 50)}`,
  message: (ids: IdSource) => `msg_${ids.chars(HEX, 50)}`,
  functionCall: (ids: IdSource) => `fc_${ids.chars(HEX, 50)}`,
  request: (ids: IdSource) => `req_${ids.chars(HEX, 32)}`,
  fingerprint: 'fp_asc0wire01',
};
const anthropicIds = {
  message: (ids: IdSource) => `msg_01${ids.chars(BASE62, 22)}`,
  toolUse: (ids: IdSource) => `toolu_01${ids.chars(BASE62, 22)}`,
  request: (ids: IdSource) => `req_011C${ids.chars(BASE62, 20)}`,
};
const mistralIds = {
  completion: (ids: IdSource) => ids.chars(HEX, 32),
  toolCall: (ids: IdSource) => ids.chars(BASE62, 9),
  correlation: (ids: IdSource) => {
    const h = ids.chars(HEX, 32);
    return `${h.slice(0, 8)}-${h.slice(8, 12)}-7${h.slice(13, 16)}-8${h.slice(17, 20)}-${h.slice(20, 32)}`;
  },
};

/* ------------------------------------------------------------------------------------------------
 * Small JSON helpers (request bodies are untrusted `unknown`)
 * ---------------------------------------------------------------------------------------------- */

type JsonObject = Record<string, unknown>;

function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}
function asArray(value: unknown): unknown[] {
  return Array.isArray(value) ? value : [];
}
function asString(value: unknown): string | undefined {
  return typeof value === 'string' ? value : undefined;
}
function asPositiveInt(value: unknown): number | undefined {
  return typeof value === 'number' && Number.isInteger(value) && value > 0 ? value : undefined;
}
function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
function estimateTokens(chars: number): number {
  return Math.max(1, Math.ceil(chars / 4));
}
/** Tool definitions count towards the prompt, as they do upstream. */
function toolsChars(tools: unknown): number {
  return tools === undefined ? 0 : JSON.stringify(tools).length;
}

/* ------------------------------------------------------------------------------------------------
 * The provider-neutral decision: what the "model" answers
 * ---------------------------------------------------------------------------------------------- */

interface Turn {
  /** Text of the last user message anywhere in the conversation. */
  lastUserText: string;
  /** True when the last message is a user message that is not a tool result. */
  endsWithUserMessage: boolean;
  /** Results of trailing tool messages (empty when the last message is not a tool result). */
  toolResults: string[];
  /** Characters of all prompt text (system, messages, tool definitions): the input token basis. */
  promptChars: number;
}

interface ToolCallPlan {
  name: string;
  arguments: string;
}

type Answer =
  | { kind: 'text'; text: string; truncated: boolean }
  | { kind: 'tool_calls'; calls: ToolCallPlan[] };

interface UsagePlan {
  inputTokens: number;
  cachedTokens: number;
  cacheWriteTokens: number;
  outputTokens: number;
}

/** `tool_choice` reduced to what the stub acts on: no tools, a forced tool, or the first declared one. */
type ToolChoice = { kind: 'none' } | { kind: 'named'; name: string } | { kind: 'auto' };

function decideAnswer(turn: Turn, toolNames: string[], choice: ToolChoice, maxTokens: number | undefined): Answer {
  if (turn.toolResults.length > 0) return limitText(`result: ${turn.toolResults.join(' | ')}`, maxTokens);
  const firstTool = choice.kind === 'named' ? choice.name : toolNames[0];
  if (firstTool !== undefined && choice.kind !== 'none' && turn.endsWithUserMessage) {
    const args = JSON.stringify({ query: turn.lastUserText });
    const count = turn.lastUserText.includes('[parallel]') ? 2 : 1;
    return { kind: 'tool_calls', calls: Array.from({ length: count }, () => ({ name: firstTool, arguments: args })) };
  }
  return limitText(`echo: ${turn.lastUserText.slice(0, 200)}`, maxTokens);
}

/** OpenAI / Mistral chat: `"none" | "auto" | "required" | "any" | {type:"function", function:{name}}`; Responses: `{type:"function", name}`. */
function chatToolChoice(value: unknown): ToolChoice {
  if (value === 'none') return { kind: 'none' };
  if (isObject(value)) {
    const name = isObject(value.function) ? asString(value.function.name) : asString(value.name);
    if (name !== undefined) return { kind: 'named', name };
  }
  return { kind: 'auto' };
}

/** Anthropic: `{type:"auto"|"any"|"none"}` or `{type:"tool", name}`. */
function anthropicToolChoice(value: unknown): ToolChoice {
  if (!isObject(value)) return { kind: 'auto' };
  if (value.type === 'none') return { kind: 'none' };
  if (value.type === 'tool' && typeof value.name === 'string') return { kind: 'named', name: value.name };
  return { kind: 'auto' };
}

function limitText(text: string, maxTokens: number | undefined): Answer {
  if (maxTokens !== undefined && estimateTokens(text.length) > maxTokens) {
    return { kind: 'text', text: text.slice(0, maxTokens * 4), truncated: true };
  }
  return { kind: 'text', text, truncated: false };
}

function planUsage(turn: Turn, answer: Answer): UsagePlan {
  const outputChars =
    answer.kind === 'text' ? answer.text.length : answer.calls.reduce((n, c) => n + c.name.length + c.arguments.length, 0);
  return {
    inputTokens: estimateTokens(turn.promptChars),
    cachedTokens: markerNumber(turn.lastUserText, 'cached'),
    cacheWriteTokens: markerNumber(turn.lastUserText, 'cache_write'),
    outputTokens: estimateTokens(outputChars),
  };
}

function markerNumber(text: string, name: string): number {
  const match = new RegExp(`\\[${name}:(\\d+)\\]`).exec(text);
  return match?.[1] !== undefined ? Number(match[1]) : 0;
}

/**
 * A few words per delta (up to 3, fewer for short texts so there are still several deltas),
 * whitespace kept so the concatenation equals the text.
 */
function splitIntoDeltas(text: string): string[] {
  const words = text.match(/\s*\S+\s*/g) ?? [];
  if (words.length === 0) return [text];
  const wordsPerDelta = Math.min(3, Math.max(1, Math.ceil(words.length / 3)));
  const deltas: string[] = [];
  for (let i = 0; i < words.length; i += wordsPerDelta) deltas.push(words.slice(i, i + wordsPerDelta).join(''));
  return deltas;
}

/** Tool arguments streamed in a few fragments, like the real APIs do. */
function splitIntoFragments(json: string, parts = 4): string[] {
  const size = Math.max(1, Math.ceil(json.length / parts));
  const out: string[] = [];
  for (let i = 0; i < json.length; i += size) out.push(json.slice(i, i + size));
  return out.length > 0 ? out : [''];
}

/** Embeddings: deterministic unit vectors derived from the input. */
function embed(input: string, dims: number): number[] {
  const values: number[] = [];
  let block = 0;
  while (values.length < dims) {
    const digest = createHash('sha256').update(`${input}\u0000${block}`).digest();
    for (let i = 0; i + 1 < digest.length && values.length < dims; i += 2) values.push(digest.readUInt16LE(i) / 32767.5 - 1);
    block += 1;
  }
  const norm = Math.sqrt(values.reduce((s, v) => s + v * v, 0)) || 1;
  return values.map((v) => Math.fround(v / norm));
}

function float32Base64(vector: number[]): string {
  const buffer = Buffer.alloc(vector.length * 4);
  vector.forEach((v, i) => buffer.writeFloatLE(v, i * 4));
  return buffer.toString('base64');
}

function embeddingInputs(input: unknown): string[] {
  if (typeof input === 'string') return [input];
  if (Array.isArray(input)) {
    // A flat number array is ONE tokenized input; otherwise one entry per element.
    if (input.every((x) => typeof x === 'number')) return [JSON.stringify(input)];
    return input.map((x) => (typeof x === 'string' ? x : JSON.stringify(x)));
  }
  return [];
}

function sse(data: unknown, event?: string): SseEvent {
  return event === undefined ? { data: JSON.stringify(data) } : { event, data: JSON.stringify(data) };
}

/* ------------------------------------------------------------------------------------------------
 * OpenAI
 * ---------------------------------------------------------------------------------------------- */

function openaiHeaders(ids: IdSource): Record<string, string> {
  return {
    'x-request-id': openaiIds.request(ids),
    'openai-version': '2020-10-01',
    'openai-organization': 'user-asc-wire-upstream',
    'openai-project': 'proj_ascWireUpstream00000000',
    'openai-processing-ms': '42',
    'x-ratelimit-limit-requests': '10000',
    'x-ratelimit-remaining-requests': '9999',
    'x-ratelimit-reset-requests': '6ms',
    'x-ratelimit-limit-tokens': '30000000',
    'x-ratelimit-remaining-tokens': '29999000',
    'x-ratelimit-reset-tokens': '2ms',
  };
}

/** @see https://platform.openai.com/docs/guides/error-codes */
function openaiErrorBody(status: number, message?: string, code: string | null = null): unknown {
  const defaults: Record<number, { type: string; message: string; code: string | null }> = {
    400: { type: 'invalid_request_error', message: 'Bad request.', code: null },
    401: { type: 'invalid_request_error', message: 'Incorrect API key provided.', code: 'invalid_api_key' },
    403: { type: 'invalid_request_error', message: 'You are not allowed to sample from this model.', code: null },
    404: { type: 'invalid_request_error', message: 'The model does not exist or you do not have access to it.', code: 'model_not_found' },
    429: { type: 'requests', message: 'Rate limit reached for requests. Please try again in 1s.', code: 'rate_limit_exceeded' },
    500: { type: 'server_error', message: 'The server had an error while processing your request. Sorry about that!', code: null },
    503: { type: 'server_error', message: 'The engine is currently overloaded, please try again later.', code: null },
  };
  const d = defaults[status] ?? { type: status >= 500 ? 'server_error' : 'invalid_request_error', message: `HTTP ${status}`, code: null };
  return { error: { message: message ?? d.message, type: d.type, param: null, code: code ?? d.code } };
}

function openaiChatTurn(body: JsonObject): Turn {
  const messages = asArray(body.messages).filter(isObject);
  let promptChars = toolsChars(body.tools);
  let lastUserText = '';
  for (const m of messages) {
    const text = openaiContentText(m.content);
    promptChars += text.length;
    if (m.role === 'user') lastUserText = text;
  }
  const toolResults: string[] = [];
  for (let i = messages.length - 1; i >= 0 && messages[i]?.role === 'tool'; i--) {
    toolResults.unshift(openaiContentText(messages[i]?.content));
  }
  return { lastUserText, endsWithUserMessage: messages.at(-1)?.role === 'user', toolResults, promptChars };
}

function openaiContentText(content: unknown): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .filter(isObject)
    .map((p) => asString(p.text) ?? '')
    .join('');
}

function chatToolNames(tools: unknown): string[] {
  return asArray(tools)
    .filter(isObject)
    .map((t) => (isObject(t.function) ? asString(t.function.name) : asString(t.name)))
    .filter((n): n is string => n !== undefined);
}

function openaiUsage(u: UsagePlan): JsonObject {
  const prompt = u.inputTokens + u.cachedTokens;
  return {
    prompt_tokens: prompt,
    completion_tokens: u.outputTokens,
    total_tokens: prompt + u.outputTokens,
    prompt_tokens_details: { cached_tokens: u.cachedTokens, audio_tokens: 0 },
    completion_tokens_details: { reasoning_tokens: 0, audio_tokens: 0, accepted_prediction_tokens: 0, rejected_prediction_tokens: 0 },
  };
}

function handleOpenAi(ctx: HandlerContext): Reply {
  const { method, pathname, ids } = ctx;
  const headers = openaiHeaders(ids);
  const json = (status: number, body: unknown): Reply => ({ kind: 'json', status, headers, body });
  const notFound = () => json(404, openaiErrorBody(404, `Invalid URL (${method} ${pathname})`, null));

  if (method === 'GET' && pathname === '/v1/models') {
    const created = 1_700_000_000;
    return json(200, {
      object: 'list',
      data: ['gpt-4o', 'gpt-4o-mini', 'gpt-4.1', 'gpt-4.1-mini', 'o4-mini', 'text-embedding-3-small', 'text-embedding-3-large'].map((id) => ({
        id,
        object: 'model',
        created,
        owned_by: 'system',
      })),
    });
  }
  const modelMatch = /^\/v1\/models\/([^/]+)$/.exec(pathname);
  if (method === 'GET' && modelMatch?.[1] !== undefined) {
    return json(200, { id: decodeURIComponent(modelMatch[1]), object: 'model', created: 1_700_000_000, owned_by: 'system' });
  }
  if (method !== 'POST') return notFound();

  const body = ctx.body;
  if (!isObject(body)) return json(400, openaiErrorBody(400, invalidJsonMessageOpenAi));
  if (pathname === '/v1/chat/completions' || pathname === '/v1/embeddings' || pathname === '/v1/responses') {
    if (typeof body.model !== 'string') return json(400, openaiErrorBody(400, 'you must provide a model parameter'));
  }
  switch (pathname) {
    case '/v1/chat/completions': {
      if (!Array.isArray(body.messages)) {
        return json(400, { error: { message: "Missing required parameter: 'messages'.", type: 'invalid_request_error', param: 'messages', code: 'missing_required_parameter' } });
      }
      return openaiChat(body, headers, ids);
    }
    case '/v1/embeddings':
      return openaiEmbeddings(body, headers);
    case '/v1/responses':
      return openaiResponses(body, headers, ids);
    default:
      return notFound();
  }
}

const invalidJsonMessageOpenAi =
  "We could not parse the JSON body of your request. (HINT: This likely means you aren't using your HTTP library correctly. The OpenAI API expects a JSON payload, but what was sent was not valid JSON. If you have trouble figuring out how to fix this, please contact us through our help center at help.openai.com.)";

function openaiChat(body: JsonObject, headers: Record<string, string>, ids: IdSource): Reply {
  const turn = openaiChatTurn(body);
  const maxTokens = asPositiveInt(body.max_completion_tokens) ?? asPositiveInt(body.max_tokens);
  const answer = decideAnswer(turn, chatToolNames(body.tools), chatToolChoice(body.tool_choice), maxTokens);
  const usage = openaiUsage(planUsage(turn, answer));
  const id = openaiIds.chat(ids);
  const created = nowSeconds();
  const model = asString(body.model) ?? '';
  const calls = answer.kind === 'tool_calls' ? answer.calls.map((c) => ({ id: openaiIds.call(ids), ...c })) : [];
  const finishReason = answer.kind === 'tool_calls' ? 'tool_calls' : answer.truncated ? 'length' : 'stop';

  if (body.stream !== true) {
    const message =
      answer.kind === 'text'
        ? { role: 'assistant', content: answer.text, refusal: null, annotations: [] }
        : {
            role: 'assistant',
            content: null,
            tool_calls: calls.map((c) => ({ id: c.id, type: 'function', function: { name: c.name, arguments: c.arguments } })),
            refusal: null,
            annotations: [],
          };
    return {
      kind: 'json',
      status: 200,
      headers,
      body: {
        id,
        object: 'chat.completion',
        created,
        model,
        choices: [{ index: 0, message, logprobs: null, finish_reason: finishReason }],
        usage,
        service_tier: 'default',
        system_fingerprint: openaiIds.fingerprint,
      },
    };
  }

  // @see https://platform.openai.com/docs/api-reference/chat-streaming/streaming
  const streamOptions = isObject(body.stream_options) ? body.stream_options : {};
  const includeUsage = streamOptions.include_usage === true;
  const obfuscate = streamOptions.include_obfuscation !== false;
  let seq = 0;
  const chunk = (choices: unknown[], extra: JsonObject = {}): SseEvent => {
    const payload: JsonObject = {
      id,
      object: 'chat.completion.chunk',
      created,
      model,
      service_tier: 'default',
      system_fingerprint: openaiIds.fingerprint,
      choices,
      ...(includeUsage ? { usage: null } : {}),
      ...extra,
    };
    // Real chunks carry random padding in `obfuscation` unless the client opts out.
    if (obfuscate) payload.obfuscation = 'ascPad'.slice(0, 1 + (seq++ % 6));
    return sse(payload);
  };
  const choice = (delta: JsonObject, finish: string | null = null) => ({ index: 0, delta, logprobs: null, finish_reason: finish });

  const events: SseEvent[] = [];
  if (answer.kind === 'text') {
    events.push(chunk([choice({ role: 'assistant', content: '', refusal: null })]));
    for (const d of splitIntoDeltas(answer.text)) events.push(chunk([choice({ content: d })]));
  } else {
    calls.forEach((c, index) => {
      const start = { index, id: c.id, type: 'function', function: { name: c.name, arguments: '' } };
      events.push(chunk([choice(index === 0 ? { role: 'assistant', content: null, tool_calls: [start], refusal: null } : { tool_calls: [start] })]));
      for (const f of splitIntoFragments(c.arguments)) events.push(chunk([choice({ tool_calls: [{ index, function: { arguments: f } }] })]));
    });
  }
  events.push(chunk([choice({}, finishReason)]));
  if (includeUsage) events.push(chunk([], { usage }));
  events.push({ data: '[DONE]' });
  return { kind: 'sse', status: 200, headers, events };
}

function openaiEmbeddings(body: JsonObject, headers: Record<string, string>): Reply {
  const inputs = embeddingInputs(body.input);
  if (inputs.length === 0) {
    return { kind: 'json', status: 400, headers, body: { error: { message: "'input' is a required property", type: 'invalid_request_error', param: null, code: null } } };
  }
  const dims = Math.min(asPositiveInt(body.dimensions) ?? 8, 3072);
  const base64 = body.encoding_format === 'base64';
  const tokens = inputs.reduce((n, s) => n + estimateTokens(s.length), 0);
  return {
    kind: 'json',
    status: 200,
    headers,
    body: {
      object: 'list',
      data: inputs.map((s, index) => {
        const vector = embed(s, dims);
        return { object: 'embedding', index, embedding: base64 ? float32Base64(vector) : vector };
      }),
      model: asString(body.model) ?? '',
      usage: { prompt_tokens: tokens, total_tokens: tokens },
    },
  };
}

/* ---- OpenAI Responses API ---- */

function responsesTurn(body: JsonObject): Turn {
  let promptChars = (asString(body.instructions)?.length ?? 0) + toolsChars(body.tools);
  if (typeof body.input === 'string') {
    return { lastUserText: body.input, endsWithUserMessage: true, toolResults: [], promptChars: promptChars + body.input.length };
  }
  const items = asArray(body.input).filter(isObject);
  let lastUserText = '';
  for (const item of items) {
    const text = item.type === 'function_call_output' ? stringifyOutput(item.output) : openaiContentText(item.content);
    promptChars += text.length;
    if (item.role === 'user') lastUserText = text;
  }
  const toolResults: string[] = [];
  for (let i = items.length - 1; i >= 0 && items[i]?.type === 'function_call_output'; i--) toolResults.unshift(stringifyOutput(items[i]?.output));
  return { lastUserText, endsWithUserMessage: items.at(-1)?.role === 'user', toolResults, promptChars };
}

function stringifyOutput(output: unknown): string {
  return typeof output === 'string' ? output : openaiContentText(output);
}

function handleResponsesUsage(u: UsagePlan): JsonObject {
  const input = u.inputTokens + u.cachedTokens;
  return {
    input_tokens: input,
    input_tokens_details: { cached_tokens: u.cachedTokens },
    output_tokens: u.outputTokens,
    output_tokens_details: { reasoning_tokens: 0 },
    total_tokens: input + u.outputTokens,
  };
}

function openaiResponses(body: JsonObject, headers: Record<string, string>, ids: IdSource): Reply {
  const turn = responsesTurn(body);
  const functionTools = asArray(body.tools).filter(isObject).filter((t) => t.type === 'function');
  const maxTokens = asPositiveInt(body.max_output_tokens);
  const answer = decideAnswer(turn, chatToolNames(functionTools), chatToolChoice(body.tool_choice), maxTokens);
  const usage = handleResponsesUsage(planUsage(turn, answer));
  const incomplete = answer.kind === 'text' && answer.truncated;

  const id = openaiIds.response(ids);
  const createdAt = nowSeconds();
  type OutputItem = JsonObject & { id: string; type: string };
  const output: OutputItem[] =
    answer.kind === 'text'
      ? [
          {
            id: openaiIds.message(ids),
            type: 'message',
            status: incomplete ? 'incomplete' : 'completed',
            role: 'assistant',
            content: [{ type: 'output_text', text: answer.text, annotations: [], logprobs: [] }],
          },
        ]
      : answer.calls.map((c) => ({
          id: openaiIds.functionCall(ids),
          type: 'function_call',
          status: 'completed',
          arguments: c.arguments,
          call_id: openaiIds.call(ids),
          name: c.name,
        }));

  const responseObject = (status: string, out: unknown[], withUsage: boolean): JsonObject => ({
    id,
    object: 'response',
    created_at: createdAt,
    status,
    background: false,
    error: null,
    incomplete_details: status === 'incomplete' ? { reason: 'max_output_tokens' } : null,
    instructions: body.instructions ?? null,
    max_output_tokens: body.max_output_tokens ?? null,
    max_tool_calls: null,
    model: asString(body.model) ?? '',
    output: out,
    parallel_tool_calls: body.parallel_tool_calls ?? true,
    previous_response_id: body.previous_response_id ?? null,
    prompt_cache_key: body.prompt_cache_key ?? null,
    reasoning: { effort: null, summary: null },
    safety_identifier: null,
    service_tier: 'default',
    store: body.store ?? true,
    temperature: body.temperature ?? 1,
    text: body.text ?? { format: { type: 'text' }, verbosity: 'medium' },
    tool_choice: body.tool_choice ?? 'auto',
    tools: body.tools ?? [],
    top_logprobs: 0,
    top_p: body.top_p ?? 1,
    truncation: 'disabled',
    usage: withUsage ? usage : null,
    user: null,
    metadata: body.metadata ?? {},
  });
  const finalStatus = incomplete ? 'incomplete' : 'completed';

  if (body.stream !== true) return { kind: 'json', status: 200, headers, body: responseObject(finalStatus, output, true) };

  // @see https://platform.openai.com/docs/api-reference/responses-streaming
  let sequence = 0;
  const events: SseEvent[] = [];
  const emit = (type: string, fields: JsonObject) => events.push(sse({ type, sequence_number: sequence++, ...fields }, type));
  emit('response.created', { response: responseObject('in_progress', [], false) });
  emit('response.in_progress', { response: responseObject('in_progress', [], false) });
  output.forEach((item, outputIndex) => {
    if (item.type === 'message') {
      const text = answer.kind === 'text' ? answer.text : '';
      emit('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', content: [] } });
      const emptyPart = { type: 'output_text', text: '', annotations: [], logprobs: [] };
      emit('response.content_part.added', { item_id: item.id, output_index: outputIndex, content_index: 0, part: emptyPart });
      for (const delta of splitIntoDeltas(text)) {
        emit('response.output_text.delta', { item_id: item.id, output_index: outputIndex, content_index: 0, delta, logprobs: [] });
      }
      emit('response.output_text.done', { item_id: item.id, output_index: outputIndex, content_index: 0, text, logprobs: [] });
      emit('response.content_part.done', { item_id: item.id, output_index: outputIndex, content_index: 0, part: { ...emptyPart, text } });
    } else {
      const args = asString(item.arguments) ?? '';
      emit('response.output_item.added', { output_index: outputIndex, item: { ...item, status: 'in_progress', arguments: '' } });
      for (const delta of splitIntoFragments(args)) emit('response.function_call_arguments.delta', { item_id: item.id, output_index: outputIndex, delta });
      emit('response.function_call_arguments.done', { item_id: item.id, output_index: outputIndex, name: item.name, arguments: args });
    }
    emit('response.output_item.done', { output_index: outputIndex, item });
  });
  emit(incomplete ? 'response.incomplete' : 'response.completed', { response: responseObject(finalStatus, output, true) });
  return { kind: 'sse', status: 200, headers, events };
}

/* ------------------------------------------------------------------------------------------------
 * Anthropic
 * ---------------------------------------------------------------------------------------------- */

function anthropicHeaders(ids: IdSource): Record<string, string> {
  const reset = new Date(Date.now() + 60_000).toISOString().replace(/\.\d{3}Z$/, 'Z');
  return {
    'request-id': anthropicIds.request(ids),
    'anthropic-organization-id': '5a1c0e7e-0000-4000-8000-a5cwire00001',
    'anthropic-ratelimit-requests-limit': '4000',
    'anthropic-ratelimit-requests-remaining': '3999',
    'anthropic-ratelimit-requests-reset': reset,
    'anthropic-ratelimit-input-tokens-limit': '2000000',
    'anthropic-ratelimit-input-tokens-remaining': '2000000',
    'anthropic-ratelimit-input-tokens-reset': reset,
    'anthropic-ratelimit-output-tokens-limit': '400000',
    'anthropic-ratelimit-output-tokens-remaining': '400000',
    'anthropic-ratelimit-output-tokens-reset': reset,
    'anthropic-ratelimit-tokens-limit': '2400000',
    'anthropic-ratelimit-tokens-remaining': '2400000',
    'anthropic-ratelimit-tokens-reset': reset,
  };
}

/** @see https://docs.anthropic.com/en/api/errors */
function anthropicErrorBody(status: number, message?: string, requestId?: string): unknown {
  const defaults: Record<number, [string, string]> = {
    400: ['invalid_request_error', 'Invalid request.'],
    401: ['authentication_error', 'invalid x-api-key'],
    402: ['billing_error', 'Your credit balance is too low to access the Anthropic API.'],
    403: ['permission_error', 'Your API key does not have permission to use the specified resource.'],
    404: ['not_found_error', 'Not found'],
    413: ['request_too_large', 'Request exceeds the maximum allowed number of bytes.'],
    429: ['rate_limit_error', 'Number of request tokens has exceeded your per-minute rate limit.'],
    500: ['api_error', 'Internal server error'],
    504: ['timeout_error', 'Request timed out'],
    529: ['overloaded_error', 'Overloaded'],
  };
  const [type, defaultMessage] = defaults[status] ?? [status >= 500 ? 'api_error' : 'invalid_request_error', `HTTP ${status}`];
  return { type: 'error', error: { type, message: message ?? defaultMessage }, ...(requestId ? { request_id: requestId } : {}) };
}

function anthropicBlocksText(content: unknown): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .filter(isObject)
    .map((b) => {
      if (b.type === 'text') return asString(b.text) ?? '';
      if (b.type === 'tool_result') return anthropicBlocksText(b.content);
      if (b.type === 'tool_use') return JSON.stringify(b.input ?? {});
      return '';
    })
    .join('');
}

function anthropicTurn(body: JsonObject): Turn {
  const messages = asArray(body.messages).filter(isObject);
  let promptChars = anthropicBlocksText(body.system).length + toolsChars(body.tools);
  let lastUserText = '';
  for (const m of messages) {
    promptChars += anthropicBlocksText(m.content).length;
    if (m.role === 'user' && !hasToolResult(m.content)) lastUserText = userTextOnly(m.content);
  }
  const last = messages.at(-1);
  const toolResults =
    last?.role === 'user' && hasToolResult(last.content)
      ? asArray(last.content)
          .filter(isObject)
          .filter((b) => b.type === 'tool_result')
          .map((b) => anthropicBlocksText(b.content))
      : [];
  return { lastUserText, endsWithUserMessage: last?.role === 'user' && toolResults.length === 0, toolResults, promptChars };
}

function hasToolResult(content: unknown): boolean {
  return asArray(content).some((b) => isObject(b) && b.type === 'tool_result');
}
function userTextOnly(content: unknown): string {
  if (typeof content === 'string') return content;
  return asArray(content)
    .filter(isObject)
    .filter((b) => b.type === 'text')
    .map((b) => asString(b.text) ?? '')
    .join('');
}

function anthropicUsage(u: UsagePlan, outputTokens: number): JsonObject {
  return {
    input_tokens: u.inputTokens,
    cache_creation_input_tokens: u.cacheWriteTokens,
    cache_read_input_tokens: u.cachedTokens,
    cache_creation: { ephemeral_5m_input_tokens: u.cacheWriteTokens, ephemeral_1h_input_tokens: 0 },
    output_tokens: outputTokens,
    service_tier: 'standard',
  };
}

function handleAnthropic(ctx: HandlerContext): Reply {
  const { method, pathname, ids } = ctx;
  const headers = anthropicHeaders(ids);
  const requestId = headers['request-id'];
  const error = (status: number, message?: string): Reply => ({ kind: 'json', status, headers, body: anthropicErrorBody(status, message, requestId) });

  if (method === 'GET' && pathname === '/v1/models') {
    const data = [
      ['claude-opus-4-1-20250805', 'Claude Opus 4.1', '2025-08-05T00:00:00Z'],
      ['claude-sonnet-4-5-20250929', 'Claude Sonnet 4.5', '2025-09-29T00:00:00Z'],
      ['claude-haiku-4-5-20251001', 'Claude Haiku 4.5', '2025-10-01T00:00:00Z'],
    ].map(([id, display_name, created_at]) => ({ type: 'model', id, display_name, created_at }));
    return { kind: 'json', status: 200, headers, body: { data, has_more: false, first_id: data[0]?.id, last_id: data.at(-1)?.id } };
  }
  if (method !== 'POST' || (pathname !== '/v1/messages' && pathname !== '/v1/messages/count_tokens')) return error(404, 'Not Found');

  const body = ctx.body;
  if (!isObject(body)) return error(400, 'There was an issue with your request body. Please check that it is valid JSON.');
  if (typeof body.model !== 'string') return error(400, 'model: Field required');
  if (!Array.isArray(body.messages)) return error(400, 'messages: Field required');

  const turn = anthropicTurn(body);
  if (pathname === '/v1/messages/count_tokens') {
    return { kind: 'json', status: 200, headers, body: { input_tokens: estimateTokens(turn.promptChars) } };
  }
  const maxTokens = asPositiveInt(body.max_tokens);
  if (maxTokens === undefined) return error(400, 'max_tokens: Field required');

  const answer = decideAnswer(turn, chatToolNames(body.tools), anthropicToolChoice(body.tool_choice), maxTokens);
  const usage = planUsage(turn, answer);
  const stopReason = answer.kind === 'tool_calls' ? 'tool_use' : answer.truncated ? 'max_tokens' : 'end_turn';
  const model = body.model;
  const id = anthropicIds.message(ids);
  const blocks =
    answer.kind === 'text'
      ? [{ type: 'text' as const, text: answer.text }]
      : answer.calls.map((c) => ({ type: 'tool_use' as const, id: anthropicIds.toolUse(ids), name: c.name, input: JSON.parse(c.arguments) as unknown, json: c.arguments }));

  if (body.stream !== true) {
    return {
      kind: 'json',
      status: 200,
      headers,
      body: {
        id,
        type: 'message',
        role: 'assistant',
        model,
        content: blocks.map((b) => (b.type === 'text' ? b : { type: b.type, id: b.id, name: b.name, input: b.input })),
        stop_reason: stopReason,
        stop_sequence: null,
        usage: anthropicUsage(usage, usage.outputTokens),
      },
    };
  }

  // @see https://docs.anthropic.com/en/docs/build-with-claude/streaming
  const events: SseEvent[] = [];
  const emit = (type: string, fields: JsonObject = {}) => events.push(sse({ type, ...fields }, type));
  emit('message_start', {
    message: { id, type: 'message', role: 'assistant', model, content: [], stop_reason: null, stop_sequence: null, usage: anthropicUsage(usage, 1) },
  });
  blocks.forEach((block, index) => {
    if (block.type === 'text') {
      emit('content_block_start', { index, content_block: { type: 'text', text: '' } });
      if (index === 0) emit('ping');
      for (const text of splitIntoDeltas(block.text)) emit('content_block_delta', { index, delta: { type: 'text_delta', text } });
    } else {
      emit('content_block_start', { index, content_block: { type: 'tool_use', id: block.id, name: block.name, input: {} } });
      if (index === 0) emit('ping');
      for (const partial_json of ['', ...splitIntoFragments(block.json)]) {
        emit('content_block_delta', { index, delta: { type: 'input_json_delta', partial_json } });
      }
    }
    emit('content_block_stop', { index });
  });
  // message_delta usage is cumulative.
  emit('message_delta', {
    delta: { stop_reason: stopReason, stop_sequence: null },
    usage: {
      input_tokens: usage.inputTokens,
      cache_creation_input_tokens: usage.cacheWriteTokens,
      cache_read_input_tokens: usage.cachedTokens,
      output_tokens: usage.outputTokens,
    },
  });
  emit('message_stop');
  return { kind: 'sse', status: 200, headers, events };
}

/* ------------------------------------------------------------------------------------------------
 * Mistral
 * ---------------------------------------------------------------------------------------------- */

function mistralHeaders(ids: IdSource): Record<string, string> {
  return {
    'mistral-correlation-id': mistralIds.correlation(ids),
    'x-kong-request-id': ids.chars(HEX, 30),
    'x-envoy-upstream-service-time': '42',
    'ratelimitbysize-limit': '5000000',
    'ratelimitbysize-remaining': '4999000',
    'ratelimitbysize-reset': '60',
    'ratelimitbysize-query-cost': '1000',
  };
}

/**
 * Mistral errors: `{"object":"error","message","type","param","code"}`, except authentication,
 * answered by its API gateway as `{"message":"Unauthorized","request_id"}`.
 */
function mistralErrorBody(status: number, message?: string, ids?: IdSource): unknown {
  if (status === 401) return { message: message ?? 'Unauthorized', request_id: ids ? ids.chars(HEX, 32) : '0'.repeat(32) };
  const defaults: Record<number, [string, string, string | null]> = {
    400: ['invalid_request_error', 'Invalid request', null],
    404: ['invalid_request_error', 'Not Found', null],
    422: ['invalid_request_error', 'Invalid model', '1500'],
    429: ['rate_limited', 'Requests rate limit exceeded', '1300'],
    500: ['internal_server_error', 'Internal server error', null],
    503: ['service_unavailable', 'Service unavailable', null],
  };
  const [type, defaultMessage, code] = defaults[status] ?? [status >= 500 ? 'internal_server_error' : 'invalid_request_error', `HTTP ${status}`, null];
  return { object: 'error', message: message ?? defaultMessage, type, param: null, code };
}

function mistralUsage(u: UsagePlan): JsonObject {
  return { prompt_tokens: u.inputTokens, completion_tokens: u.outputTokens, total_tokens: u.inputTokens + u.outputTokens };
}

function handleMistral(ctx: HandlerContext): Reply {
  const { method, pathname, ids } = ctx;
  const headers = mistralHeaders(ids);
  const error = (status: number, message?: string): Reply => ({ kind: 'json', status, headers, body: mistralErrorBody(status, message, ids) });

  if (method === 'GET' && pathname === '/v1/models') {
    const created = 1_700_000_000;
    const model = (id: string, fim: boolean) => ({
      id,
      object: 'model',
      created,
      owned_by: 'mistralai',
      capabilities: { completion_chat: true, completion_fim: fim, function_calling: true, fine_tuning: false, vision: false, classification: false },
      name: id,
      description: `${id} (wire upstream)`,
      max_context_length: 131072,
      aliases: [],
      deprecation: null,
      default_model_temperature: 0.3,
      type: 'base',
    });
    return { kind: 'json', status: 200, headers, body: { object: 'list', data: [model('mistral-small-latest', false), model('mistral-large-latest', false), model('codestral-latest', true)] } };
  }
  if (method !== 'POST') return error(404);
  const body = ctx.body;
  if (!isObject(body)) return error(400, 'Invalid JSON body');
  if (typeof body.model !== 'string') return mistralMissing(headers, 'model');

  switch (pathname) {
    case '/v1/chat/completions': {
      if (!Array.isArray(body.messages)) return mistralMissing(headers, 'messages');
      const turn = openaiChatTurn(body);
      const answer = decideAnswer(turn, chatToolNames(body.tools), chatToolChoice(body.tool_choice), asPositiveInt(body.max_tokens));
      return mistralCompletion(body, turn, answer, headers, ids);
    }
    case '/v1/fim/completions': {
      const prompt = asString(body.prompt);
      if (prompt === undefined) return mistralMissing(headers, 'prompt');
      const suffix = asString(body.suffix) ?? '';
      const turn: Turn = { lastUserText: prompt, endsWithUserMessage: true, toolResults: [], promptChars: prompt.length + suffix.length };
      const text = `echo: ${prompt.slice(0, 200)}${suffix ? ` [suffix: ${suffix.slice(0, 200)}]` : ''}`;
      return mistralCompletion(body, turn, limitText(text, asPositiveInt(body.max_tokens)), headers, ids);
    }
    case '/v1/embeddings': {
      const inputs = embeddingInputs(body.input);
      if (inputs.length === 0) return mistralMissing(headers, 'input');
      const dims = Math.min(asPositiveInt(body.output_dimension) ?? 8, 3072);
      // Mistral documents `encoding_format` (float | base64) like OpenAI; the OpenAI SDK asks for base64.
      const base64 = body.encoding_format === 'base64';
      const tokens = inputs.reduce((n, s) => n + estimateTokens(s.length), 0);
      return {
        kind: 'json',
        status: 200,
        headers,
        body: {
          id: mistralIds.completion(ids),
          object: 'list',
          data: inputs.map((s, index) => {
            const vector = embed(s, dims);
            return { object: 'embedding', embedding: base64 ? float32Base64(vector) : vector, index };
          }),
          model: body.model,
          usage: { prompt_tokens: tokens, total_tokens: tokens, completion_tokens: 0 },
        },
      };
    }
    default:
      return error(404);
  }
}

/** Mistral validates bodies with 422 and a pydantic-style detail list. */
function mistralMissing(headers: Record<string, string>, field: string): Reply {
  return {
    kind: 'json',
    status: 422,
    headers,
    body: {
      object: 'error',
      message: { detail: [{ type: 'missing', loc: ['body', field], msg: 'Field required', input: null }] },
      type: 'invalid_request_error',
      param: null,
      code: null,
    },
  };
}

function mistralCompletion(body: JsonObject, turn: Turn, answer: Answer, headers: Record<string, string>, ids: IdSource): Reply {
  const usage = mistralUsage(planUsage(turn, answer));
  const id = mistralIds.completion(ids);
  const created = nowSeconds();
  const model = body.model;
  const finishReason = answer.kind === 'tool_calls' ? 'tool_calls' : answer.truncated ? 'length' : 'stop';
  const toolCalls =
    answer.kind === 'tool_calls'
      ? answer.calls.map((c, index) => ({ id: mistralIds.toolCall(ids), type: 'function', function: { name: c.name, arguments: c.arguments }, index }))
      : null;

  if (body.stream !== true) {
    return {
      kind: 'json',
      status: 200,
      headers,
      body: {
        id,
        object: 'chat.completion',
        model,
        usage,
        created,
        choices: [
          {
            index: 0,
            message: { role: 'assistant', content: answer.kind === 'text' ? answer.text : '', tool_calls: toolCalls, prefix: false },
            finish_reason: finishReason,
          },
        ],
      },
    };
  }

  // Mistral streams always end with usage on the final chunk (no stream_options), then `data: [DONE]`.
  // Tool calls arrive whole, in a single chunk, rather than as argument fragments.
  const chunk = (delta: JsonObject, finish: string | null, withUsage = false): SseEvent =>
    sse({ id, object: 'chat.completion.chunk', created, model, choices: [{ index: 0, delta, finish_reason: finish }], ...(withUsage ? { usage } : {}) });
  const events: SseEvent[] = [chunk({ role: 'assistant', content: '' }, null)];
  if (answer.kind === 'text') {
    const deltas = splitIntoDeltas(answer.text);
    deltas.forEach((content, i) => {
      const last = i === deltas.length - 1;
      events.push(chunk({ content }, last ? finishReason : null, last));
    });
  } else {
    events.push(chunk({ tool_calls: toolCalls }, finishReason, true));
  }
  events.push({ data: '[DONE]' });
  return { kind: 'sse', status: 200, headers, events };
}

/* ------------------------------------------------------------------------------------------------
 * Provider table: error formats, auth, handlers
 * ---------------------------------------------------------------------------------------------- */

interface ProviderWire {
  handle(ctx: HandlerContext): Reply;
  /** The headers this provider sends on every response. */
  headers(ids: IdSource): Record<string, string>;
  /** Defaults to send with a provider error status and no body. */
  errorReply(status: number, ids: IdSource, message?: string): Reply;
  /** `undefined` when the request may pass. */
  checkAuth(headers: IncomingMessage['headers'], expectedKey: string | undefined, ids: IdSource): Reply | undefined;
  invalidJson(ids: IdSource): Reply;
}

function headerValue(headers: IncomingMessage['headers'], name: string): string | undefined {
  const v = headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function bearerToken(headers: IncomingMessage['headers']): string | undefined {
  const match = /^Bearer\s+(.+)$/i.exec(headerValue(headers, 'authorization') ?? '');
  return match?.[1]?.trim();
}

function maskKey(key: string): string {
  return key.length <= 8 ? '***' : `${key.slice(0, 3)}***${key.slice(-4)}`;
}

const WIRES: Record<UpstreamProvider, ProviderWire> = {
  openai: {
    handle: handleOpenAi,
    headers: openaiHeaders,
    errorReply: (status, ids, message) => ({ kind: 'json', status, headers: openaiHeaders(ids), body: openaiErrorBody(status, message) }),
    checkAuth(headers, expected, ids) {
      if (expected === undefined) return undefined;
      const got = bearerToken(headers);
      if (got === expected) return undefined;
      const message =
        got === undefined
          ? "You didn't provide an API key. You need to provide your API key in an Authorization header using Bearer auth (i.e. Authorization: Bearer YOUR_KEY), or as the password field (with blank username) if you're accessing the API from your browser and are prompted for a username. You can obtain an API key from https://platform.openai.com/account/api-keys."
          : `Incorrect API key provided: ${maskKey(got)}. You can find your API key at https://platform.openai.com/account/api-keys.`;
      return { kind: 'json', status: 401, headers: openaiHeaders(ids), body: openaiErrorBody(401, message, got === undefined ? null : 'invalid_api_key') };
    },
    invalidJson: (ids) => ({ kind: 'json', status: 400, headers: openaiHeaders(ids), body: openaiErrorBody(400, invalidJsonMessageOpenAi) }),
  },
  anthropic: {
    handle: handleAnthropic,
    headers: anthropicHeaders,
    errorReply(status, ids, message) {
      const headers = anthropicHeaders(ids);
      return { kind: 'json', status, headers, body: anthropicErrorBody(status, message, headers['request-id']) };
    },
    checkAuth(headers, expected, ids) {
      const reply = (status: number, message: string): Reply => WIRES.anthropic.errorReply(status, ids, message);
      if (expected !== undefined) {
        const got = headerValue(headers, 'x-api-key');
        if (got === undefined) return reply(401, 'x-api-key header is required');
        if (got !== expected) return reply(401, 'invalid x-api-key');
      }
      // The real API rejects requests without a version header, whatever the key.
      if (headerValue(headers, 'anthropic-version') === undefined) return reply(400, 'anthropic-version: header is required');
      return undefined;
    },
    invalidJson: (ids) => WIRES.anthropic.errorReply(400, ids, 'There was an issue with your request body. Please check that it is valid JSON.'),
  },
  mistral: {
    handle: handleMistral,
    headers: mistralHeaders,
    errorReply: (status, ids, message) => ({ kind: 'json', status, headers: mistralHeaders(ids), body: mistralErrorBody(status, message, ids) }),
    checkAuth(headers, expected, ids) {
      if (expected === undefined) return undefined;
      const got = bearerToken(headers);
      if (got === expected) return undefined;
      return WIRES.mistral.errorReply(401, ids, got === undefined ? 'No API key found in request' : 'Unauthorized');
    },
    invalidJson: (ids) => WIRES.mistral.errorReply(400, ids, 'Invalid JSON body'),
  },
};

/**
 * Build an error body exactly as `provider` would send it for `status` (useful in scripts:
 * `enqueue('openai', { status: 429, body: providerErrorBody('openai', 429) })`).
 */
export function providerErrorBody(provider: UpstreamProvider, status: number, message?: string): unknown {
  switch (provider) {
    case 'openai':
      return openaiErrorBody(status, message);
    case 'anthropic':
      return anthropicErrorBody(status, message);
    case 'mistral':
      return mistralErrorBody(status, message);
    default: {
      const never: never = provider;
      throw new Error(`unknown provider ${String(never)}`);
    }
  }
}

/* ------------------------------------------------------------------------------------------------
 * Transport
 * ---------------------------------------------------------------------------------------------- */

interface RequestState {
  record: RecordedRequest;
  /** Set when this server destroyed the socket on purpose (reset, failAfterEvents, close). */
  destroyedByServer: boolean;
  closed: AbortController;
}

function encodeSse(e: SseEvent): string {
  const lines = e.data.split('\n').map((line) => `data: ${line}\n`);
  return `${e.event !== undefined ? `event: ${e.event}\n` : ''}${lines.join('')}\n`;
}

async function sleep(ms: number, signal: AbortSignal): Promise<boolean> {
  if (ms <= 0) return !signal.aborted;
  try {
    await sleepTimer(ms, undefined, { signal });
    return true;
  } catch {
    return false;
  }
}

/** Resolves once the chunk has been handed to the socket, so a later cut does not drop it. */
function writeAsync(res: ServerResponse, chunk: string): Promise<void> {
  return new Promise((resolve) => {
    res.write(chunk, () => resolve());
  });
}

/** Grace period before a scripted cut, so the client reads the events already sent before it sees the error. */
const CUT_GRACE_MS = 50;

export async function startWireUpstream(opts: WireUpstreamOptions = {}): Promise<WireUpstream> {
  const requests: RecordedRequest[] = [];
  const queues: Record<UpstreamProvider, ScriptedResponse[]> = { openai: [], anthropic: [], mistral: [] };
  const claimedAborts = new WeakSet<RecordedRequest>();
  let waiters: Array<{ provider: UpstreamProvider; resolve: (r: RecordedRequest) => void }> = [];
  const ids = createIdSource('asc-wire-upstream');
  let defaultDelayMs = 0;
  let closing = false;

  const noteAbort = (state: RequestState) => {
    const { record } = state;
    if (record.aborted) return;
    record.aborted = true;
    if (!requests.includes(record)) requests.push(record);
    const waiter = waiters.find((w) => w.provider === record.provider);
    if (waiter) {
      waiters = waiters.filter((w) => w !== waiter);
      claimedAborts.add(record);
      waiter.resolve(record);
    }
  };

  const server: Server = createServer((req, res) => {
    void handle(req, res).catch((err: unknown) => {
      if (!res.headersSent) {
        res.writeHead(500, { 'content-type': 'application/json' });
        res.end(JSON.stringify({ error: { message: `wire-upstream internal error: ${String(err)}` } }));
      } else {
        res.destroy();
      }
    });
  });

  async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = req.url ?? '/';
    const provider = PROVIDERS.find((p) => url === `/${p}` || url.startsWith(`/${p}/`) || url.startsWith(`/${p}?`));
    if (provider === undefined) {
      req.resume();
      res.writeHead(404, { 'content-type': 'application/json' });
      res.end(JSON.stringify({ error: { message: `wire-upstream: unknown provider prefix in ${url}` } }));
      return;
    }
    const path = url.slice(provider.length + 1) || '/';
    const state: RequestState = {
      record: { provider, method: req.method ?? 'GET', path, headers: { ...req.headers }, body: undefined, rawBody: '', aborted: false },
      destroyedByServer: false,
      closed: new AbortController(),
    };
    res.on('close', () => {
      state.closed.abort();
      if (!res.writableFinished && !state.destroyedByServer && !closing) noteAbort(state);
    });

    // Body
    const chunks: Buffer[] = [];
    try {
      for await (const chunk of req) chunks.push(chunk as Buffer);
    } catch {
      state.record.rawBody = Buffer.concat(chunks).toString('utf8');
      if (!closing) noteAbort(state);
      return;
    }
    const rawBody = Buffer.concat(chunks).toString('utf8');
    state.record.rawBody = rawBody;
    let invalidJson = false;
    if (rawBody.length > 0) {
      try {
        state.record.body = JSON.parse(rawBody) as unknown;
      } catch {
        invalidJson = true;
      }
    }
    if (!requests.includes(state.record)) requests.push(state.record);
    if (state.closed.signal.aborted) return;

    const wire = WIRES[provider];
    const script = queues[provider].shift();
    const ctx: HandlerContext = { provider, method: state.record.method, pathname: path.split('?')[0] ?? path, body: state.record.body, ids };
    const normal = (): Reply =>
      wire.checkAuth(req.headers, opts.requireAuth?.[provider], ids) ?? (invalidJson ? wire.invalidJson(ids) : wire.handle(ctx));

    if (script === undefined) {
      if (!(await sleep(defaultDelayMs, state.closed.signal))) return;
      await send(res, state, normal(), {});
      return;
    }

    if (!(await sleep(script.delayMs ?? 0, state.closed.signal))) return;
    if (script.reset) {
      state.destroyedByServer = true;
      req.socket.destroy();
      return;
    }
    if (script.hang) {
      // Hold the request open; the client's abort (or close()) ends it.
      await new Promise<void>((resolve) => state.closed.signal.addEventListener('abort', () => resolve(), { once: true }));
      return;
    }
    await send(res, state, scriptedReply(script, wire, normal), script);
  }

  function scriptedReply(script: ScriptedResponse, wire: ProviderWire, normal: () => Reply): Reply {
    const status = script.status ?? 200;
    let reply: Reply;
    if (script.sse !== undefined) {
      reply = { kind: 'sse', status, headers: wire.headers(ids), events: script.sse };
    } else if (script.body !== undefined) {
      reply = { kind: 'json', status, headers: wire.headers(ids), body: script.body };
    } else if (script.status !== undefined && script.status >= 400) {
      // A status alone: the provider's own error body for that status.
      reply = wire.errorReply(script.status, ids);
    } else {
      reply = normal();
      if (script.status !== undefined) reply = { ...reply, status: script.status };
    }
    return { ...reply, headers: { ...reply.headers, ...script.headers } };
  }

  async function send(res: ServerResponse, state: RequestState, reply: Reply, script: ScriptedResponse): Promise<void> {
    if (state.closed.signal.aborted) return;
    if (reply.kind === 'json') {
      const payload = JSON.stringify(reply.body);
      res.writeHead(reply.status, {
        'content-type': 'application/json',
        'content-length': String(Buffer.byteLength(payload)),
        ...reply.headers,
      });
      res.end(payload);
      return;
    }
    res.writeHead(reply.status, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-cache',
      connection: 'keep-alive',
      ...reply.headers,
    });
    res.flushHeaders();
    const limit = script.failAfterEvents;
    const cut = async () => {
      await sleep(CUT_GRACE_MS, state.closed.signal);
      state.destroyedByServer = true;
      res.socket?.destroy();
    };
    for (const [index, event] of reply.events.entries()) {
      // Reaching the limit (even after every event) cuts the stream instead of ending it cleanly.
      if (limit !== undefined && index >= limit) return cut();
      if (index > 0 && !(await sleep(script.chunkDelayMs ?? 0, state.closed.signal))) return;
      if (state.closed.signal.aborted) return;
      await writeAsync(res, encodeSse(event));
    }
    if (limit !== undefined) return cut();
    res.end();
  }

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port } = server.address() as AddressInfo;
  const url = `http://127.0.0.1:${port}`;

  return {
    url,
    baseUrls: { openai: `${url}/openai/v1`, anthropic: `${url}/anthropic`, mistral: `${url}/mistral` },
    requests,
    enqueue(provider, ...responses) {
      queues[provider].push(...responses);
    },
    setDefaultDelay(ms) {
      defaultDelayMs = Math.max(0, ms);
    },
    reset() {
      requests.length = 0;
      for (const p of PROVIDERS) queues[p].length = 0;
      ids.reset();
    },
    async close() {
      closing = true;
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
    waitForAbort(provider, timeoutMs = 5000) {
      const already = requests.find((r) => r.provider === provider && r.aborted && !claimedAborts.has(r));
      if (already) {
        claimedAborts.add(already);
        return Promise.resolve(already);
      }
      return new Promise<RecordedRequest>((resolve, reject) => {
        const waiter = {
          provider,
          resolve: (r: RecordedRequest) => {
            clearTimeout(timer);
            resolve(r);
          },
        };
        const timer = setTimeout(() => {
          waiters = waiters.filter((w) => w !== waiter);
          reject(new Error(`wire-upstream: no aborted ${provider} request within ${timeoutMs}ms`));
        }, timeoutMs);
        waiters.push(waiter);
      });
    },
  };
}
