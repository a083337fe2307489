/** The API shapes the gateway speaks, on the client side and towards providers. */
export type WireFormat = 'openai-chat' | 'anthropic-messages';

/** Client-facing routes; each renders its errors in its own API's format. */
export type RouteId =
  | 'openai.chat'
  | 'openai.embeddings'
  | 'openai.responses'
  | 'openai.models'
  | 'anthropic.messages'
  | 'anthropic.count_tokens'
  | 'mistral.fim'
  | 'gateway';

export type ErrorDialect = 'openai' | 'anthropic';

export function errorDialectOf(route: RouteId): ErrorDialect {
  return route === 'anthropic.messages' || route === 'anthropic.count_tokens' ? 'anthropic' : 'openai';
}
