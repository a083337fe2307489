import type { ProviderConfig, ProviderKind } from '../../shared/policy-schema.js';

/**
 * Where each operation lives on a provider and how it authenticates. Transport never touches
 * bodies; conversion code never touches URLs or auth.
 */
export type UpstreamOperation = 'chat' | 'embeddings' | 'responses' | 'messages' | 'count_tokens' | 'fim' | 'models';

export interface UpstreamTarget {
  /** `scheme://host:port`, the key of the pooled client. */
  origin: string;
  /** Path (with the base URL's own path prefix) to request on that origin. */
  path: string;
}

/**
 * Paths relative to the base URL each official SDK takes: OpenAI's base URL already ends in
 * `/v1`; Anthropic's and Mistral's do not.
 * @see https://platform.openai.com/docs/api-reference
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://docs.mistral.ai/api/
 */
const OPERATION_PATHS: Record<ProviderKind, Partial<Record<UpstreamOperation, string>>> = {
  openai: {
    chat: '/chat/completions',
    embeddings: '/embeddings',
    responses: '/responses',
    models: '/models',
  },
  anthropic: {
    messages: '/v1/messages',
    count_tokens: '/v1/messages/count_tokens',
    models: '/v1/models',
  },
  mistral: {
    chat: '/v1/chat/completions',
    fim: '/v1/fim/completions',
    embeddings: '/v1/embeddings',
    models: '/v1/models',
  },
};

export function supportsOperation(kind: ProviderKind, op: UpstreamOperation): boolean {
  return OPERATION_PATHS[kind][op] !== undefined;
}

/** Per provider config object (a new profile version brings new ones): URL parsing is not per-request work. */
const targetsByProvider = new WeakMap<ProviderConfig, Partial<Record<UpstreamOperation, UpstreamTarget | null>>>();

/** Where `op` lives on `provider`; null when the provider has no such endpoint. Memoized per config object. */
export function resolveUpstreamTarget(provider: ProviderConfig, op: UpstreamOperation): UpstreamTarget | null {
  let targets = targetsByProvider.get(provider);
  if (targets === undefined) {
    targets = {};
    targetsByProvider.set(provider, targets);
  }
  let target = targets[op];
  if (target === undefined) {
    const rel = OPERATION_PATHS[provider.kind][op];
    if (rel === undefined) {
      target = null;
    } else {
      const url = new URL(provider.baseUrl);
      target = { origin: url.origin, path: url.pathname.replace(/\/+$/, '') + rel };
    }
    targets[op] = target;
  }
  return target;
}

/** Default `anthropic-version` when the client sent none (Anthropic requires the header). */
export const ANTHROPIC_VERSION = '2023-06-01';

/** The provider's own credential header(s); the client's local key never goes upstream. */
export function authHeaders(kind: ProviderKind, secret: string): Record<string, string> {
  switch (kind) {
    case 'openai':
    case 'mistral':
      return { authorization: `Bearer ${secret}` };
    case 'anthropic':
      return { 'x-api-key': secret };
    default: {
      const never: never = kind;
      throw new Error(`unknown provider kind ${String(never)}`);
    }
  }
}

/** Client headers that change what the upstream does, forwarded as they came. */
export const FORWARDED_CLIENT_HEADERS: Record<ProviderKind, readonly string[]> = {
  openai: ['openai-organization', 'openai-project', 'openai-beta'],
  anthropic: ['anthropic-version', 'anthropic-beta'],
  mistral: [],
};

/** Upstream response headers worth handing back to the client (rate limits, request ids). */
export function isForwardableResponseHeader(name: string): boolean {
  return (
    name === 'content-type' ||
    name === 'retry-after' ||
    name === 'retry-after-ms' ||
    name === 'x-request-id' ||
    name === 'request-id' ||
    name === 'openai-processing-ms' ||
    name === 'openai-version' ||
    name.startsWith('x-ratelimit-') ||
    name.startsWith('anthropic-ratelimit-')
  );
}
