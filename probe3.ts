import { createPolicyGuard } from './src/core/proxy/policy-guard.js';
import { loadPricingTable } from './src/core/gateway.js';
import { MODEL_ROUTES } from './src/core/proxy/route-spec.js';
import { prepareUpstreamRequest } from './src/core/proxy/prepare-upstream-request.js';
const pricing = await loadPricingTable();
const guard = createPolicyGuard({ pricing });
const providers = [{ id: 'openai', kind: 'openai' as const, baseUrl: 'http://x/v1', region: 'us' }];
const full = { tenant: 'full', version: 1, providers, models: { allow: ['gpt-4.1*', 'gpt-4o*', 'o4-mini*', 'claude-*-4-5*'] }, residency: { regions: ['us', 'eu'] }, guardrails: { pii: 'redact' as const, secrets: 'block' as const, deny: ['\\bproject\\s+nightingale\\b', 'internal[- ]only', 'do\\s+not\\s+distribute'], maxOutputTokens: 4096, maxInputTokens: 100000 }, rateLimits: { rpm: 10_000_000, tpm: 10_000_000_000 }, budgets: [{ window: 'day' as const, usd: 1e9, action: 'block' as const }] };
const empty = { tenant: 'empty', version: 1, providers, guardrails: { pii: 'off' as const, secrets: 'off' as const } };
const prompt = ('Could you review the function below and suggest a safer approach? We also need error messages to be clear. ' + 'export async function fetchWithRetry(url: string, attempts = 3) { for (let i = 0; i < attempts; i++) { const r = await fetch(url); if (r.ok) return r; } throw new Error("failed"); } ').repeat(4).slice(0, 1024);
const body = { model: 'gpt-4.1-mini', messages: [{ role: 'system', content: 'You are a careful reviewer.' }, { role: 'user', content: prompt }] };
const raw = Buffer.from(JSON.stringify(body));
const route = MODEL_ROUTES[0]!;
const target = { provider: providers[0]!, model: 'gpt-4.1-mini' };
for (const [name, profile] of [['empty', empty], ['full', full], ['empty', empty], ['full', full]] as const) {
  const N = 20000;
  const t0 = process.cpuUsage();
  for (let i = 0; i < N; i++) {
    const a = guard.admit({ profile, route, body, targets: [target], nowMs: Date.now() });
    if (!a.ok) throw a.error;
    const p = prepareUpstreamRequest(route, { raw, body: a.body, edited: a.body !== body, stream: false }, target, 'gpt-4.1-mini');
    a.settle({ target, usage: { inputTokens: 300, outputTokens: 20, cachedInputTokens: 0, cacheWriteTokens: null }, costUsd: 0.0001 });
    void p;
  }
  const c = process.cpuUsage(t0);
  console.log(name, ((c.user + c.system) / N).toFixed(1), 'µs per request');
}
