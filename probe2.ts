import { prepareUpstreamRequest } from './src/core/proxy/prepare-upstream-request.js';
import { MODEL_ROUTES } from './src/core/proxy/route-spec.js';
const body = { model: 'gpt-4.1-mini', messages: [{ role: 'user', content: 'hello' }], stream: false };
const raw = Buffer.from(JSON.stringify(body));
const target = { provider: { id: 'openai', kind: 'openai' as const, baseUrl: 'http://x/v1' }, model: 'gpt-4.1-mini' };
const route = MODEL_ROUTES[0]!;
for (let r = 0; r < 5; r++) {
const t = performance.now();
for (let i = 0; i < 200000; i++) prepareUpstreamRequest(route, { raw, body, edited: false, stream: false }, target, 'gpt-4.1-mini');
console.log('prepare µs', ((performance.now() - t) / 200000 * 1000).toFixed(3));
}
