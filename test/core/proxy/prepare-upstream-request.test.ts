import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { ProviderConfig } from '../../../src/shared/policy-schema.js';
import {
  applyPolicyEdits,
  prepareUpstreamRequest,
  prependJsonFields,
  type ClientRequest,
} from '../../../src/core/proxy/prepare-upstream-request.js';
import { MODEL_ROUTES } from '../../../src/core/proxy/route-spec.js';

const chatRoute = MODEL_ROUTES.find((r) => r.id === 'openai.chat')!;
const openai = { id: 'openai', kind: 'openai', baseUrl: 'http://127.0.0.1:1/v1' } as ProviderConfig;
const mistral = { id: 'mistral', kind: 'mistral', baseUrl: 'http://127.0.0.1:1/v1' } as ProviderConfig;

function clientRequest(text: string): ClientRequest {
  const body = JSON.parse(text) as Record<string, unknown>;
  return { raw: Buffer.from(text), body, edited: false, addedFields: [], stream: body.stream === true };
}

describe('prependJsonFields', () => {
  it('writes the fields first and keeps every other byte', () => {
    const raw = Buffer.from(' \n{ "model":"gpt-4o",  "x_unknown": [1, 2.50, "é"] }');
    const out = prependJsonFields(raw, [['max_completion_tokens', 4096], ['stream_options', { include_usage: true }]]);
    expect(out.toString()).toBe(' \n{"max_completion_tokens":4096,"stream_options":{"include_usage":true}, "model":"gpt-4o",  "x_unknown": [1, 2.50, "é"] }');
    expect(JSON.parse(out.toString())).toEqual({ max_completion_tokens: 4096, stream_options: { include_usage: true }, model: 'gpt-4o', x_unknown: [1, 2.5, 'é'] });
  });

  it('handles an empty object without a trailing comma', () => {
    expect(prependJsonFields(Buffer.from('{ }'), [['a', 1]]).toString()).toBe('{"a":1 }');
  });

  it('any object, spaced any way, parses to the fields then the object, and keeps its bytes after the brace', () => {
    const space = fc.constantFrom('', ' ', '\n', '\t ', '\r\n', ' '.repeat(40));
    fc.assert(
      fc.property(
        fc.dictionary(fc.string({ maxLength: 6, unit: 'grapheme' }), fc.jsonValue({ maxDepth: 2 }), { maxKeys: 5 }),
        fc.uniqueArray(fc.tuple(fc.string({ minLength: 1, maxLength: 8, unit: 'grapheme' }).map((k) => `added_${k}`), fc.oneof(fc.string({ unit: 'grapheme' }), fc.jsonValue({ maxDepth: 2 }))), {
          minLength: 1,
          maxLength: 3,
          selector: ([k]) => k,
        }),
        space,
        space,
        (obj, fields, before, inside) => {
          const compact = JSON.stringify(obj);
          const text = `${before}{${inside}${compact.slice(1)}`;
          const raw = Buffer.from(text);
          const out = prependJsonFields(raw, fields);
          const members = fields.map(([k, v]) => `${JSON.stringify(k)}:${JSON.stringify(v)}`).join(',');
          expect(out.toString()).toBe(`${before}{${members}${compact === '{}' ? '' : ','}${inside}${compact.slice(1)}`);
          expect(JSON.parse(out.toString())).toEqual(JSON.parse(JSON.stringify({ ...Object.fromEntries(fields), ...obj })));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('the same field inserted request after request (a profile clamp) gives the bytes a first insert gives', () => {
    // Few keys and values, so calls repeat the one before as a clamp does, and also differ from it
    // in just the value, its type, or whether the object has members of its own.
    const call = fc.record({
      key: fc.constantFrom('max_tokens', 'max_completion_tokens'),
      value: fc.constantFrom<unknown>(4096, 40, '4096', true, { n: 1 }),
      body: fc.constantFrom('{}', '{ }', '{"model":"m"}', ' {\n"a":[1]}'),
    });
    fc.assert(
      fc.property(fc.array(call, { minLength: 1, maxLength: 12 }), (calls) => {
        for (const { key, value, body } of calls) {
          const out = prependJsonFields(Buffer.from(body), [[key, value]]).toString();
          const brace = body.indexOf('{');
          const rest = body.slice(brace + 1);
          const member = `${JSON.stringify(key)}:${JSON.stringify(value)}`;
          expect(out).toBe(`${body.slice(0, brace + 1)}${member}${rest.trim() === '}' ? '' : ','}${rest}`);
        }
      }),
      { numRuns: 300 },
    );
  });

  it('refuses bytes that are not an object', () => {
    expect(() => prependJsonFields(Buffer.from('[1]'), [['a', 1]])).toThrow(TypeError);
  });
});

describe('prepareUpstreamRequest body bytes', () => {
  const text = '{"model":"gpt-4o-mini","messages":[{"role":"user","content":"hi"}],"zz_new_field":{"keep":"order"}}';

  it('forwards an unchanged request byte for byte', () => {
    const req = clientRequest(text);
    const prepared = prepareUpstreamRequest(chatRoute, req, { provider: openai, model: 'gpt-4o-mini' }, 'gpt-4o-mini');
    expect(prepared.body).toBe(req.raw);
  });

  it('splices include_usage into the client bytes of a stream that did not ask for it', () => {
    const req = clientRequest(text.replace('{', '{"stream":true,'));
    const prepared = prepareUpstreamRequest(chatRoute, req, { provider: openai, model: 'gpt-4o-mini' }, 'gpt-4o-mini');
    expect(prepared.hideUsageChunk).toBe(true);
    expect(prepared.body.toString()).toBe(`{"stream_options":{"include_usage":true},${req.raw.toString().slice(1)}`);
  });

  it('splices an output limit the policy added, and re-serialises when it rewrote a field', () => {
    const added = clientRequest(text);
    applyPolicyEdits(added, { ...added.body, max_completion_tokens: 4096 });
    expect(added).toMatchObject({ edited: false, addedFields: ['max_completion_tokens'] });
    const spliced = prepareUpstreamRequest(chatRoute, added, { provider: openai, model: 'gpt-4o-mini' }, 'gpt-4o-mini').body.toString();
    expect(spliced).toBe(`{"max_completion_tokens":4096,${text.slice(1)}`);

    const redacted = clientRequest(text);
    applyPolicyEdits(redacted, { ...redacted.body, messages: [{ role: 'user', content: '[EMAIL_1]' }] });
    expect(redacted.edited).toBe(true);
    const rewritten = prepareUpstreamRequest(chatRoute, redacted, { provider: openai, model: 'gpt-4o-mini' }, 'gpt-4o-mini').body;
    expect(JSON.parse(rewritten.toString())).toEqual({ ...JSON.parse(text), messages: [{ role: 'user', content: '[EMAIL_1]' }] });
  });

  it('re-serialises for a renamed model and for a stream_options the client already sent', () => {
    const alias = prepareUpstreamRequest(chatRoute, clientRequest(text), { provider: openai, model: 'gpt-4.1-mini' }, 'gpt-4o-mini');
    expect(JSON.parse(alias.body.toString())).toEqual({ ...JSON.parse(text), model: 'gpt-4.1-mini' });

    const own = clientRequest(text.replace('{', '{"stream":true,"stream_options":{"include_obfuscation":false},'));
    const prepared = prepareUpstreamRequest(chatRoute, own, { provider: openai, model: 'gpt-4o-mini' }, 'gpt-4o-mini');
    expect(JSON.parse(prepared.body.toString()).stream_options).toEqual({ include_obfuscation: false, include_usage: true });
  });

  it('asks an OpenAI target for usage on a stream translated from an Anthropic client, and no Mistral target', () => {
    const messagesRoute = MODEL_ROUTES.find((r) => r.id === 'anthropic.messages')!;
    const req = clientRequest('{"model":"gpt-4o-mini","max_tokens":64,"stream":true,"messages":[{"role":"user","content":"hi"}]}');
    const toOpenAi = prepareUpstreamRequest(messagesRoute, req, { provider: openai, model: 'gpt-4o-mini' }, 'gpt-4o-mini');
    expect(toOpenAi.translation).toMatchObject({ from: 'anthropic-messages', to: 'openai-chat' });
    expect(JSON.parse(toOpenAi.body.toString())).toMatchObject({ stream: true, stream_options: { include_usage: true } });
    const toMistral = prepareUpstreamRequest(messagesRoute, req, { provider: mistral, model: 'mistral-small-latest' }, 'mistral-small-latest');
    expect(JSON.parse(toMistral.body.toString()).stream_options).toBeUndefined();
  });

  it('speaks Mistral dialect after a splice-able edit by re-serialising', () => {
    const req = clientRequest('{"model":"mistral-small-latest","seed":7,"messages":[{"role":"user","content":"hi"}]}');
    applyPolicyEdits(req, { ...req.body, max_tokens: 100 });
    const prepared = prepareUpstreamRequest(chatRoute, req, { provider: mistral, model: 'mistral-small-latest' }, 'mistral-small-latest');
    expect(JSON.parse(prepared.body.toString())).toMatchObject({ random_seed: 7, max_tokens: 100 });
  });
});
