import { describe, expect, it } from 'vitest';
import { resolveUpstreamTarget, supportsOperation } from '../../../src/core/providers/provider-transport.js';
import type { ProviderConfig } from '../../../src/shared/policy-schema.js';

const provider = (p: Partial<ProviderConfig> & Pick<ProviderConfig, 'kind' | 'baseUrl'>): ProviderConfig => ({ id: p.kind, region: 'us', ...p }) as ProviderConfig;

describe('upstream targets', () => {
  it('puts each operation under the base URL the official SDK takes (OpenAI with /v1, Anthropic and Mistral without)', () => {
    expect(resolveUpstreamTarget(provider({ kind: 'openai', baseUrl: 'https://api.openai.com/v1' }), 'chat')).toEqual({
      origin: 'https://api.openai.com',
      path: '/v1/chat/completions',
    });
    expect(resolveUpstreamTarget(provider({ kind: 'anthropic', baseUrl: 'https://api.anthropic.com/' }), 'messages')).toEqual({
      origin: 'https://api.anthropic.com',
      path: '/v1/messages',
    });
    expect(resolveUpstreamTarget(provider({ kind: 'mistral', baseUrl: 'http://127.0.0.1:8080/proxy/mistral' }), 'fim')).toEqual({
      origin: 'http://127.0.0.1:8080',
      path: '/proxy/mistral/v1/fim/completions',
    });
  });

  it('has no target for an operation the provider does not offer', () => {
    const anthropic = provider({ kind: 'anthropic', baseUrl: 'https://api.anthropic.com' });
    expect(supportsOperation('anthropic', 'embeddings')).toBe(false);
    expect(resolveUpstreamTarget(anthropic, 'embeddings')).toBeNull();
    expect(resolveUpstreamTarget(anthropic, 'embeddings')).toBeNull();
  });

  it('parses a provider config once, and a new config object (a new profile version) anew', () => {
    const v1 = provider({ kind: 'openai', baseUrl: 'https://eu.example.com/v1' });
    const first = resolveUpstreamTarget(v1, 'chat');
    expect(resolveUpstreamTarget(v1, 'chat')).toBe(first);
    const v2 = provider({ kind: 'openai', baseUrl: 'https://us.example.com/v1' });
    expect(resolveUpstreamTarget(v2, 'chat')).toEqual({ origin: 'https://us.example.com', path: '/v1/chat/completions' });
    expect(resolveUpstreamTarget(v1, 'chat')).toBe(first);
  });
});
