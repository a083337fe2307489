import type { PolicyDocument } from '../../shared/policy-schema.js';

/**
 * The embedded default: one personal profile with the three public providers, nothing else
 * enforced beyond the guardrails' own defaults (secrets blocked).
 */
export const DEFAULT_POLICY: PolicyDocument = {
  active: 'personal',
  profiles: [
    {
      tenant: 'personal',
      version: 0,
      providers: [
        { id: 'openai', kind: 'openai', baseUrl: 'https://api.openai.com/v1', region: 'us' },
        { id: 'anthropic', kind: 'anthropic', baseUrl: 'https://api.anthropic.com', region: 'us' },
        { id: 'mistral', kind: 'mistral', baseUrl: 'https://api.mistral.ai', region: 'eu' },
      ],
    },
  ],
};
