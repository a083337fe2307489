import type { ProviderKind } from '../../shared/policy-schema.js';
import type { WireFormat } from '../../shared/wire-format.js';
import type { UpstreamOperation } from '../providers/provider-transport.js';
import type { RouteTarget } from '../routing/resolve-targets.js';
import { asRecord } from '../translate/json-guards.js';
import { convertToMistralDialect, estimateInputTokens, translateRequest, type StreamTranslationContext } from '../translate/index.js';
import { chatFormatOf, type ModelRouteSpec } from './route-spec.js';
import type { UsageShape } from './usage.js';

export interface ClientRequest {
  /** The body as the client sent it, forwarded byte for byte when nothing needs changing. */
  raw: Buffer;
  body: Record<string, unknown>;
  /** Whether policy edits changed a field `raw` has (a redaction, a clamp of a present value). */
  edited: boolean;
  /** Top-level fields of `body` that `raw` lacks (a clamp setting an absent output limit). */
  addedFields: readonly string[];
  stream: boolean;
}

/** Takes the policy's version of the body, noting whether it rewrote fields or only added some. */
export function applyPolicyEdits(req: ClientRequest, policyBody: Record<string, unknown>): void {
  if (policyBody === req.body) return;
  let added: string[] | undefined;
  for (const key of Object.keys(policyBody)) {
    if (!(key in req.body)) (added ??= [...req.addedFields]).push(key);
    else if (policyBody[key] !== req.body[key]) req.edited = true;
  }
  // A removed field is a rewrite too.
  if (!req.edited) {
    for (const key of Object.keys(req.body)) {
      if (!(key in policyBody)) {
        req.edited = true;
        break;
      }
    }
  }
  req.body = policyBody;
  if (added) req.addedFields = added;
}

export interface PreparedUpstreamRequest {
  op: UpstreamOperation;
  /**
   * Always bytes: undici writes a string body in a separate write from the request head, which
   * doubles the syscalls and loopback wake-ups per request (measured: ~2× the writev time).
   */
  body: Buffer;
  stream: boolean;
  /** Set when the target speaks another format than the client. */
  translation: { from: WireFormat; to: WireFormat; ctx: StreamTranslationContext } | null;
  /** OpenAI streams: the gateway asked for usage, so the usage-only chunk is the gateway's to hide. */
  hideUsageChunk: boolean;
  /** Shape of the usage the upstream reports. */
  usageShape: UsageShape;
  warnings: string[];
}

/**
 * The body to send to one target: untouched when possible, the model renamed when the client
 * used an alias or `providerId/model`, usage requested on OpenAI streams, Mistral's dialect for
 * Mistral, a translation when formats differ. Pure.
 */
export function prepareUpstreamRequest(route: ModelRouteSpec, req: ClientRequest, target: RouteTarget, clientModel: string): PreparedUpstreamRequest {
  const kind = target.provider.kind;
  const targetFormat = chatFormatOf(kind);

  if (route.clientFormat !== null && (route.op === 'chat' || route.op === 'messages') && route.clientFormat !== targetFormat) {
    // translateRequest asks an OpenAI target for stream usage and speaks Mistral's dialect to a Mistral one.
    const translated = translateRequest(route.clientFormat, targetFormat, req.body, { clientModel, upstreamModel: target.model, targetKind: kind });
    // Object literals, not spreads: a spread literal that adds keys takes V8's slow path (0.5 µs
    // per object in a micro-benchmark, against 0.02 for a bare spread or one that only overrides).
    return {
      op: targetFormat === 'anthropic-messages' ? 'messages' : 'chat',
      stream: req.stream,
      body: Buffer.from(JSON.stringify(translated.body)),
      hideUsageChunk: false,
      translation: {
        from: route.clientFormat,
        to: targetFormat,
        ctx: {
          clientModel,
          upstreamModel: target.model,
          targetKind: kind,
          includeUsage: translated.includeUsage === true,
          estimatedInputTokens: req.stream ? estimateInputTokens(route.clientFormat, req.body) : 0,
        },
      },
      usageShape: kind === 'anthropic' ? 'anthropic' : 'openai-chat',
      warnings: translated.warnings,
    };
  }

  let body = req.body;
  // Fields only added (absent from the raw bytes) are spliced into the client's bytes; anything
  // else re-serialises the body. Coding agents send 10-100 KB bodies: the splice saves a
  // JSON.stringify of all of it on most streamed and clamped requests.
  let rewritten = req.edited;
  let added = req.addedFields;
  if (body.model !== target.model) {
    body = { ...body, model: target.model };
    rewritten = true;
  }
  let hideUsageChunk = false;
  const warnings: string[] = [];
  if (route.op === 'chat' && kind === 'openai' && req.stream && !wantsUsage(body)) {
    if (body.stream_options === undefined) added = [...added, 'stream_options'];
    else rewritten = true;
    // Copies, then the field set: a spread literal that adds a key takes V8's slow path.
    const streamOptions: Record<string, unknown> = { ...asRecord(body.stream_options) };
    streamOptions.include_usage = true;
    body = { ...body };
    body.stream_options = streamOptions;
    hideUsageChunk = true;
  }
  if (route.op === 'chat' && kind === 'mistral') {
    const m = convertToMistralDialect(body);
    if (m.body !== body) rewritten = true;
    body = m.body;
    warnings.push(...m.warnings);
  }
  return {
    op: route.op,
    stream: req.stream,
    body: rewritten
      ? Buffer.from(JSON.stringify(body))
      : added.length > 0
        ? prependJsonFields(req.raw, added.map((key) => [key, body[key]] as const))
        : req.raw,
    translation: null,
    hideUsageChunk,
    usageShape: usageShapeOf(route.op, kind),
    warnings,
  };
}

const OPEN_BRACE = 0x7b;
const CLOSE_BRACE = 0x7d;

function isJsonWhitespace(byte: number | undefined): boolean {
  return byte === 0x20 || byte === 0x0a || byte === 0x0d || byte === 0x09;
}

/**
 * `raw`, the bytes of a JSON object, with `fields` written as its first members and every other
 * byte kept. The keys must be absent from `raw` (a duplicate key would be ambiguous).
 */
export function prependJsonFields(raw: Buffer, fields: readonly (readonly [string, unknown])[]): Buffer {
  let open = 0;
  while (isJsonWhitespace(raw[open])) open++;
  if (raw[open] !== OPEN_BRACE) throw new TypeError('prependJsonFields: the body is not a JSON object');
  let next = open + 1;
  while (isJsonWhitespace(raw[next])) next++;
  const insertBytes = encodedInsert(fields, raw[next] !== CLOSE_BRACE);
  // One allocation and whole-array copies (no views, as Buffer#copy of a range makes): this runs on
  // every clamped or usage-requesting request. The client's bytes go in shifted by the insert's
  // length; the few bytes up to `{` are then put back in front, and the insert over the gap.
  const head = open + 1;
  const out = Buffer.allocUnsafe(raw.length + insertBytes.length);
  out.set(raw, insertBytes.length);
  for (let i = 0; i < head; i++) out[i] = raw[i]!;
  out.set(insertBytes, head);
  return out;
}

/**
 * The members to insert, as bytes, with a trailing comma when the object has members of its own.
 * A profile's clamp inserts the same field and value into every request that sets no limit: one
 * such field is remembered, encoded, from the call before (a fifth of the call's cost, measured).
 */
let last: { key: string; value: unknown; comma: boolean; bytes: Buffer } | null = null;
function encodedInsert(fields: readonly (readonly [string, unknown])[], comma: boolean): Buffer {
  const [only] = fields;
  const primitive = fields.length === 1 && only !== undefined && (typeof only[1] === 'number' || typeof only[1] === 'string');
  if (primitive && last !== null && last.key === only[0] && last.value === only[1] && last.comma === comma) return last.bytes;
  let insert = '';
  for (const [key, value] of fields) insert += `${insert === '' ? '' : ','}${JSON.stringify(key)}:${JSON.stringify(value)}`;
  const bytes = Buffer.from(comma ? `${insert},` : insert);
  if (primitive) last = { key: only[0], value: only[1], comma, bytes };
  return bytes;
}

function usageShapeOf(op: UpstreamOperation, kind: ProviderKind): UsageShape {
  switch (op) {
    case 'responses':
      return 'openai-responses';
    case 'messages':
      return 'anthropic';
    case 'count_tokens':
    case 'models':
      return 'none';
    case 'chat':
    case 'fim':
    case 'embeddings':
      return kind === 'anthropic' ? 'anthropic' : 'openai-chat';
    default: {
      const never: never = op;
      throw new Error(`unknown operation ${String(never)}`);
    }
  }
}

function wantsUsage(body: Record<string, unknown>): boolean {
  return asRecord(body.stream_options).include_usage === true;
}
