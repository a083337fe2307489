import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { translateRequest } from '../../../src/core/translate/index.js';
import { CTX } from './stream-assembly.js';

/**
 * Request A→B→A keeps its meaning. The meaning-preserving normal form compared is a flat list of
 * conversation items in order:
 *   system text · user text · user image (as a URL or data URL) · tool result (id, text) ·
 *   assistant text (consecutive texts concatenated) · assistant tool call (id, name, parsed args)
 * plus tools (name, description, schema), tool_choice and the sampling fields. Message boundaries
 * are not part of it: Anthropic merges consecutive same-role turns.
 */

type J = Record<string, any>;
type Item =
  | { kind: 'system'; text: string }
  | { kind: 'user-text'; text: string }
  | { kind: 'user-image'; url: string }
  | { kind: 'tool-result'; id: string; text: string }
  | { kind: 'assistant-text'; text: string }
  | { kind: 'tool-call'; id: string; name: string; args: unknown };

function pushAssistantText(items: Item[], text: string): void {
  if (text === '') return;
  const last = items[items.length - 1];
  if (last?.kind === 'assistant-text') last.text += text;
  else items.push({ kind: 'assistant-text', text });
}

function normalOpenAi(body: J): J {
  const items: Item[] = [];
  for (const m of body.messages as J[]) {
    const parts: J[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : (m.content ?? []);
    switch (m.role) {
      case 'system':
        for (const p of parts) items.push({ kind: 'system', text: p.text });
        break;
      case 'user':
        for (const p of parts) {
          if (p.type === 'text' && p.text !== '') items.push({ kind: 'user-text', text: p.text });
          if (p.type === 'image_url') items.push({ kind: 'user-image', url: p.image_url.url });
        }
        break;
      case 'tool':
        items.push({ kind: 'tool-result', id: m.tool_call_id, text: m.content });
        break;
      case 'assistant':
        for (const p of parts) pushAssistantText(items, p.text);
        for (const c of m.tool_calls ?? []) items.push({ kind: 'tool-call', id: c.id, name: c.function.name, args: JSON.parse(c.function.arguments) });
        break;
    }
  }
  const tc = body.tool_choice;
  return {
    items,
    tools: (body.tools ?? []).map((t: J) => ({ name: t.function.name, description: t.function.description, schema: t.function.parameters })),
    toolChoice: tc === undefined ? 'auto' : typeof tc === 'string' ? tc : `tool:${tc.function.name}`,
    max: body.max_completion_tokens ?? body.max_tokens,
    temperature: body.temperature,
    stop: body.stop ?? [],
  };
}

function normalAnthropic(body: J): J {
  const items: Item[] = [];
  const system = body.system === undefined ? [] : typeof body.system === 'string' ? [{ text: body.system }] : body.system;
  for (const b of system as J[]) items.push({ kind: 'system', text: b.text });
  for (const m of body.messages as J[]) {
    const blocks: J[] = typeof m.content === 'string' ? [{ type: 'text', text: m.content }] : m.content;
    for (const b of blocks) {
      if (m.role === 'user') {
        if (b.type === 'text' && b.text !== '') items.push({ kind: 'user-text', text: b.text });
        if (b.type === 'image') items.push({ kind: 'user-image', url: b.source.type === 'url' ? b.source.url : `data:${b.source.media_type};base64,${b.source.data}` });
        if (b.type === 'tool_result') items.push({ kind: 'tool-result', id: b.tool_use_id, text: typeof b.content === 'string' ? b.content : b.content.map((x: J) => x.text).join('') });
      } else {
        if (b.type === 'text') pushAssistantText(items, b.text);
        if (b.type === 'tool_use') items.push({ kind: 'tool-call', id: b.id, name: b.name, args: b.input });
      }
    }
  }
  const tc = body.tool_choice;
  const choice = tc === undefined ? 'auto' : ({ auto: 'auto', any: 'required', none: 'none' } as J)[tc.type] ?? `tool:${tc.name}`;
  return {
    items,
    tools: (body.tools ?? []).map((t: J) => ({ name: t.name, description: t.description, schema: t.input_schema })),
    toolChoice: choice,
    max: body.max_tokens,
    temperature: body.temperature,
    stop: body.stop_sequences ?? [],
  };
}

// ---- generators: one abstract conversation, rendered in either format ----

const text = fc.string({ minLength: 1, maxLength: 30 });
const name = fc.stringMatching(/^[a-z_]{1,10}$/);
const args = fc.dictionary(fc.stringMatching(/^[a-z]{1,6}$/), fc.oneof(fc.string({ maxLength: 10 }), fc.integer(), fc.boolean(), fc.constant(null)), { maxKeys: 3 });
const image = fc.oneof(
  fc.constantFrom('https://example.com/a.png', 'http://img.example.org/b.jpg').map((url) => ({ url })),
  fc.base64String({ minLength: 4, maxLength: 16 }).map((data) => ({ url: `data:image/png;base64,${data}` })),
);
const userPart = fc.oneof({ weight: 3, arbitrary: text.map((t) => ({ text: t })) }, { weight: 1, arbitrary: image });

interface Exchange {
  user: ({ text: string } | { url: string })[];
  assistant: { text: string | undefined; calls: { name: string; args: Record<string, unknown> }[]; results: string[] };
}

const exchange: fc.Arbitrary<Exchange> = fc.record({
  user: fc.array(userPart, { minLength: 1, maxLength: 3 }),
  assistant: fc
    .record({ text: fc.option(text, { nil: undefined }), calls: fc.array(fc.record({ name, args }), { maxLength: 3 }) })
    .filter((a) => a.text !== undefined || a.calls.length > 0)
    .chain((a) => fc.array(fc.string({ maxLength: 20 }), { minLength: a.calls.length, maxLength: a.calls.length }).map((results) => ({ ...a, results }))),
});

const conversation = fc.record({
  system: fc.option(text, { nil: undefined }),
  exchanges: fc.array(exchange, { minLength: 1, maxLength: 4 }),
  tools: fc.uniqueArray(fc.record({ name, description: text, schema: fc.constant({ type: 'object', properties: { q: { type: 'string' } } }) }), { selector: (t) => t.name, maxLength: 3 }),
  choice: fc.constantFrom('auto', 'required', 'none', 'tool'),
  max: fc.integer({ min: 1, max: 4096 }),
  temperature: fc.option(fc.double({ min: 0, max: 1, noNaN: true }), { nil: undefined }),
  stop: fc.array(fc.string({ minLength: 1, maxLength: 5 }), { maxLength: 4 }),
});

type Conversation = typeof conversation extends fc.Arbitrary<infer T> ? T : never;

const callId = (i: number, j: number) => `call_${i}x${j}`;

function toolChoiceFor(c: Conversation, format: 'openai' | 'anthropic'): unknown {
  const first = c.tools[0];
  if (first === undefined) return undefined;
  if (c.choice === 'tool') return format === 'openai' ? { type: 'function', function: { name: first.name } } : { type: 'tool', name: first.name };
  return format === 'openai' ? c.choice : { type: c.choice === 'required' ? 'any' : c.choice };
}

function renderOpenAi(c: Conversation): J {
  const messages: J[] = [];
  if (c.system !== undefined) messages.push({ role: 'system', content: c.system });
  c.exchanges.forEach((ex, i) => {
    const prev = c.exchanges[i - 1];
    prev?.assistant.calls.forEach((_, j) => messages.push({ role: 'tool', tool_call_id: callId(i - 1, j), content: prev.assistant.results[j] }));
    messages.push({ role: 'user', content: ex.user.map((p) => ('text' in p ? { type: 'text', text: p.text } : { type: 'image_url', image_url: { url: p.url } })) });
    const msg: J = { role: 'assistant', content: ex.assistant.text ?? null };
    if (ex.assistant.calls.length > 0) msg.tool_calls = ex.assistant.calls.map((call, j) => ({ id: callId(i, j), type: 'function', function: { name: call.name, arguments: JSON.stringify(call.args) } }));
    messages.push(msg);
  });
  const body: J = { model: 'gpt', messages, max_completion_tokens: c.max };
  if (c.tools.length > 0) {
    body.tools = c.tools.map((t) => ({ type: 'function', function: { name: t.name, description: t.description, parameters: t.schema } }));
    body.tool_choice = toolChoiceFor(c, 'openai');
  }
  if (c.temperature !== undefined) body.temperature = c.temperature;
  if (c.stop.length > 0) body.stop = c.stop;
  return body;
}

function renderAnthropic(c: Conversation): J {
  const messages: J[] = [];
  c.exchanges.forEach((ex, i) => {
    const prev = c.exchanges[i - 1];
    const results = (prev?.assistant.calls ?? []).map((_, j) => ({ type: 'tool_result', tool_use_id: callId(i - 1, j), content: prev!.assistant.results[j] }));
    const parts = ex.user.map((p) => {
      if ('text' in p) return { type: 'text', text: p.text };
      return p.url.startsWith('data:')
        ? { type: 'image', source: { type: 'base64', media_type: 'image/png', data: p.url.slice('data:image/png;base64,'.length) } }
        : { type: 'image', source: { type: 'url', url: p.url } };
    });
    messages.push({ role: 'user', content: [...results, ...parts] });
    const blocks: J[] = ex.assistant.text !== undefined ? [{ type: 'text', text: ex.assistant.text }] : [];
    ex.assistant.calls.forEach((call, j) => blocks.push({ type: 'tool_use', id: callId(i, j), name: call.name, input: call.args }));
    messages.push({ role: 'assistant', content: blocks });
  });
  const body: J = { model: 'claude', messages, max_tokens: c.max };
  if (c.system !== undefined) body.system = c.system;
  if (c.tools.length > 0) {
    body.tools = c.tools.map((t) => ({ name: t.name, description: t.description, input_schema: t.schema }));
    body.tool_choice = toolChoiceFor(c, 'anthropic');
  }
  if (c.temperature !== undefined) body.temperature = c.temperature;
  if (c.stop.length > 0) body.stop_sequences = c.stop;
  return body;
}

const toAnthropic = (b: J) => translateRequest('openai-chat', 'anthropic-messages', b, CTX).body as J;
const toOpenAi = (b: J) => translateRequest('anthropic-messages', 'openai-chat', b, { ...CTX, targetKind: 'openai' }).body as J;

describe('request round trips keep their meaning', () => {
  it('OpenAI → Anthropic → OpenAI', () => {
    fc.assert(
      fc.property(conversation, (c) => {
        const a = renderOpenAi(c);
        const b = toAnthropic(a);
        expect(normalAnthropic(b)).toEqual(normalOpenAi(a));
        expect(normalOpenAi(toOpenAi(b))).toEqual(normalOpenAi(a));
      }),
      { numRuns: 300 },
    );
  });

  it('Anthropic → OpenAI → Anthropic', () => {
    fc.assert(
      fc.property(conversation, (c) => {
        const a = renderAnthropic(c);
        const b = toOpenAi(a);
        expect(normalOpenAi(b)).toEqual(normalAnthropic(a));
        expect(normalAnthropic(toAnthropic(b))).toEqual(normalAnthropic(a));
      }),
      { numRuns: 300 },
    );
  });
});
