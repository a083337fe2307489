import type { ProviderKind } from '../../shared/policy-schema.js';

/**
 * Which provider kind serves a bare model name, by its family prefix. Ordered; first match wins.
 */
const FAMILY_RULES: ReadonlyArray<readonly [RegExp, ProviderKind]> = [
  [/^(gpt-|chatgpt-|text-embedding-|o1|o3|o4|codex-|omni-moderation|davinci-|babbage-)/, 'openai'],
  [/^claude-/, 'anthropic'],
  [/^(mistral-|codestral-|magistral-|devstral-|pixtral-|ministral-|open-mistral-|open-mixtral-|voxtral-)/, 'mistral'],
];

export function providerKindForModel(model: string): ProviderKind | null {
  for (const [pattern, kind] of FAMILY_RULES) {
    if (pattern.test(model)) return kind;
  }
  return null;
}
