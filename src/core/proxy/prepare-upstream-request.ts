import type { ProviderKind } from '../../shared/policy-schema.js';
import type { WireFormat } from '../../shared/wire-format.js';
import type { UpstreamOperation } from '../providers/provider-transport.js';
import type { RouteTarget } from '../routing/resolve-targets.js';
import { convertToMistralDialect, estimateInputTokens, translateRequest, type TranslationContext } from '../translate/index.js';
import { chatFormatOf, type ModelRouteSpec } from './route-spec.js';
import type { UsageShape } from './usage.js';

export interface ClientRequest {
  /** The body as the client sent it, forwarded byte for byte when nothing needs changing. */
  raw: Buffer;
  body: Record<string, unknown>;
  /** Whether policy edits (redaction, clamps) changed `body` after parsing. */
  edited: boolean;
  stream: boolean;
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
  translation: { from: WireFormat; to: WireFormat; ctx: TranslationContext; estimatedInputTokens: number } | null;
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
    const ctx: TranslationContext = { clientModel, upstreamModel: target.model, targetKind: kind };
    const translated = translateRequest(route.clientFormat, targetFormat, req.body, ctx);
    let body = translated.body;
    // translateRequest already speaks Mistral's dialect for a Mistral target.
    if (kind === 'openai' && req.stream) body = { ...body, stream_options: { include_usage: true } };
    // Object literals, not spreads: a spread with overridden keys takes V8's slow path (µs per call).
    return {
      op: targetFormat === 'anthropic-messages' ? 'messages' : 'chat',
      stream: req.stream,
      body: Buffer.from(JSON.stringify(body)),
      hideUsageChunk: false,
      translation: {
        from: route.clientFormat,
        to: targetFormat,
        ctx: { ...ctx, includeUsage: translated.includeUsage === true },
        estimatedInputTokens: req.stream ? estimateInputTokens(route.clientFormat, req.body) : 0,
      },
      usageShape: kind === 'anthropic' ? 'anthropic' : 'openai-chat',
      warnings: translated.warnings,
    };
  }

  let body = req.body;
  let changed = req.edited;
  if (body.model !== target.model) {
    body = { ...body, model: target.model };
    changed = true;
  }
  let hideUsageChunk = false;
  const warnings: string[] = [];
  if (route.op === 'chat' && kind === 'openai' && req.stream && !wantsUsage(body)) {
    body = { ...body, stream_options: { ...(asObject(body.stream_options) ?? {}), include_usage: true } };
    hideUsageChunk = true;
    changed = true;
  }
  if (route.op === 'chat' && kind === 'mistral') {
    const m = convertToMistralDialect(body);
    if (m.body !== body) changed = true;
    body = m.body;
    warnings.push(...m.warnings);
  }
  return {
    op: route.op,
    stream: req.stream,
    body: changed ? Buffer.from(JSON.stringify(body)) : req.raw,
    translation: null,
    hideUsageChunk,
    usageShape: usageShapeOf(route.op, kind),
    warnings,
  };
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
  return asObject(body.stream_options)?.include_usage === true;
}

function asObject(v: unknown): Record<string, unknown> | undefined {
  return v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>) : undefined;
}
