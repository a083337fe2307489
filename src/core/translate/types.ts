import type { ProviderKind } from '../../shared/policy-schema.js';

export interface TranslationContext {
  /** Model name the client asked for (returned to the client in responses, e.g. `model` fields). */
  clientModel: string;
  /** Model name sent upstream. */
  upstreamModel: string;
  /** Provider kind of the target. */
  targetKind: ProviderKind;
  /**
   * OpenAI clients only: the client sent `stream_options.include_usage: true`, so the translated
   * stream ends with a usage chunk (`choices: []`). `translateRequest` reports it as
   * `TranslatedRequest.includeUsage`; pass that value here.
   */
  includeUsage?: boolean;
  /** Unix seconds for OpenAI `created` fields; defaults to the current time. */
  created?: number;
}

/** What a stream translator needs: the request's context and, for Anthropic clients, the input tokens to announce in `message_start`. */
export interface StreamTranslationContext extends TranslationContext {
  /** Anthropic clients read input tokens at the start of the stream, before OpenAI's usage arrives at its end. */
  estimatedInputTokens: number;
}

export interface TranslatedRequest {
  body: Record<string, unknown>;
  /** Harmless drops and adjustments, for the trace. */
  warnings: string[];
  /** The OpenAI client asked for a final usage chunk (`stream_options.include_usage`). */
  includeUsage?: boolean;
}
