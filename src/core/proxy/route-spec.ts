import type { ProviderKind } from '../../shared/policy-schema.js';
import type { RouteId, WireFormat } from '../../shared/wire-format.js';
import type { UpstreamOperation } from '../providers/provider-transport.js';

/** A client-facing model route: what it is called, which operation, which wire format it speaks. */
export interface ModelRouteSpec {
  id: RouteId;
  path: string;
  op: UpstreamOperation;
  /** Chat-like routes that can be translated to another provider's format. */
  clientFormat: WireFormat | null;
  /** Provider kinds that can serve it (natively or through translation). */
  servedBy: readonly ProviderKind[];
}

export const MODEL_ROUTES: readonly ModelRouteSpec[] = [
  { id: 'openai.chat', path: '/v1/chat/completions', op: 'chat', clientFormat: 'openai-chat', servedBy: ['openai', 'mistral', 'anthropic'] },
  { id: 'openai.embeddings', path: '/v1/embeddings', op: 'embeddings', clientFormat: null, servedBy: ['openai', 'mistral'] },
  { id: 'openai.responses', path: '/v1/responses', op: 'responses', clientFormat: null, servedBy: ['openai'] },
  { id: 'anthropic.messages', path: '/v1/messages', op: 'messages', clientFormat: 'anthropic-messages', servedBy: ['anthropic', 'openai', 'mistral'] },
  { id: 'anthropic.count_tokens', path: '/v1/messages/count_tokens', op: 'count_tokens', clientFormat: 'anthropic-messages', servedBy: ['anthropic', 'openai', 'mistral'] },
  { id: 'mistral.fim', path: '/v1/fim/completions', op: 'fim', clientFormat: null, servedBy: ['mistral'] },
];

/** The wire format a provider kind speaks for chat. */
export function chatFormatOf(kind: ProviderKind): WireFormat {
  return kind === 'anthropic' ? 'anthropic-messages' : 'openai-chat';
}
