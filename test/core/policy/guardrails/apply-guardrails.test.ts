import { describe, expect, it } from 'vitest';
import { applyGuardrails, compileGuardrails, isGatewayErrorLike } from './helpers.js';

const AWS = 'AKIA' + 'IOSFODNN7EXAMPLE';
const piiRedact = compileGuardrails({ pii: 'redact', secrets: 'redact' });

describe('applyGuardrails: defaults', () => {
  it('secrets are blocked by default', () => {
    const body = { model: 'gpt-4.1', messages: [{ role: 'user', content: `my key is ${AWS}` }] };
    const r = applyGuardrails('openai-chat', body, compileGuardrails(undefined));
    expect(r.blocked?.code).toBe('guardrail_blocked');
    expect(r.blocked?.status).toBe(403);
    expect(r.body).toBe(body);
    expect(r.decisions).toContainEqual({ rule: 'guardrails.secrets', outcome: 'deny', detail: 'AWS_ACCESS_KEY×1' });
  });

  it('PII is off by default', () => {
    const body = { messages: [{ role: 'user', content: 'mail jane@example.com' }] };
    const r = applyGuardrails('openai-chat', body, compileGuardrails(undefined));
    expect(r.blocked).toBeUndefined();
    expect(r.changed).toBe(false);
    expect(r.body).toBe(body);
    expect(r.findings).toEqual([]);
  });

  it('a clean request comes back as the same object with no decisions', () => {
    const body = { model: 'gpt-4.1', messages: [{ role: 'user', content: 'refactor this loop please' }] };
    const r = applyGuardrails('openai-chat', body, piiRedact);
    expect(r).toEqual({ body, changed: false, decisions: [], findings: [], inputChars: 'refactor this loop please'.length });
    expect(r.body).toBe(body);
  });
});

describe('applyGuardrails: redaction', () => {
  it('the same email gets the same placeholder within a request, across messages', () => {
    const body = {
      model: 'gpt-4.1',
      messages: [
        { role: 'system', content: 'Escalate to ops@acme.io.' },
        { role: 'user', content: 'Ask jane@example.com, then JANE@example.com again, cc ops@acme.io' },
      ],
    };
    const r = applyGuardrails('openai-chat', body, piiRedact);
    const msgs = r.body.messages as { content: string }[];
    expect(msgs[0]?.content).toBe('Escalate to [EMAIL_1].');
    expect(msgs[1]?.content).toBe('Ask [EMAIL_2], then [EMAIL_2] again, cc [EMAIL_1]');
    expect(r.findings).toEqual([{ kind: 'EMAIL', count: 4 }]);
    expect(r.decisions).toEqual([{ rule: 'guardrails.pii', outcome: 'redact', detail: 'EMAIL×4' }]);
  });

  it('the same phone number written two ways gets the same placeholder', () => {
    const body = { messages: [{ role: 'user', content: 'call +44 20 7946 0958 or +442079460958' }] };
    const r = applyGuardrails('openai-chat', body, piiRedact);
    expect((r.body.messages as { content: string }[])[0]?.content).toBe('call [PHONE_1] or [PHONE_1]');
  });

  it('secrets can be redacted instead of blocked, typed by kind', () => {
    const g = compileGuardrails({ secrets: 'redact' });
    const r = applyGuardrails('anthropic-messages', { max_tokens: 10, messages: [{ role: 'user', content: `AWS_SECRET_ACCESS_KEY=${'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY'}` }] }, g);
    expect((r.body.messages as { content: string }[])[0]?.content).toBe('AWS_SECRET_ACCESS_KEY=[AWS_SECRET_KEY_1]');
    expect(r.decisions).toEqual([{ rule: 'guardrails.secrets', outcome: 'redact', detail: 'AWS_SECRET_KEY×1' }]);
  });

  it('placeholders are typed by kind and numbered per kind', () => {
    const body = { messages: [{ role: 'user', content: `call +44 20 7946 0958, card 4111 1111 1111 1111, key ${AWS}` }] };
    const r = applyGuardrails('openai-chat', body, piiRedact);
    expect((r.body.messages as { content: string }[])[0]?.content).toBe('call [PHONE_1], card [CARD_1], key [AWS_ACCESS_KEY_1]');
  });

  it('redaction never mutates the request and copies only the changed path', () => {
    const untouched = { role: 'assistant', content: 'fine' };
    const body = { model: 'gpt-4.1', messages: [untouched, { role: 'user', content: 'jane@example.com' }], tools: [] };
    const before = JSON.stringify(body);
    const r = applyGuardrails('openai-chat', body, piiRedact);
    expect(JSON.stringify(body)).toBe(before);
    expect(r.changed).toBe(true);
    expect(r.body).not.toBe(body);
    expect((r.body.messages as unknown[])[0]).toBe(untouched);
    expect(r.body.tools).toBe(body.tools);
  });

  it('OpenAI chat: text parts, tool call arguments, tool results and tool schemas are scanned; images are not', () => {
    const image = { type: 'image_url', image_url: { url: 'https://cdn.example.com/a@b.com/x.png' } };
    const body = {
      messages: [
        { role: 'user', content: [{ type: 'text', text: 'to a@example.com' }, image] },
        { role: 'assistant', tool_calls: [{ id: 'call_a@example.com', type: 'function', function: { name: 'send', arguments: '{"to":"a@example.com"}' } }] },
        { role: 'tool', tool_call_id: 'call_1', content: 'sent to b@example.com' },
      ],
      tools: [
        { type: 'function', function: { name: 'send', description: 'Mail c@example.com', parameters: { type: 'object', properties: { to: { type: 'string', description: 'like d@example.com' } } } } },
      ],
    };
    const r = applyGuardrails('openai-chat', body, piiRedact);
    const out = JSON.stringify(r.body);
    for (const text of ['to [EMAIL_1]', 'sent to [EMAIL_2]', 'Mail [EMAIL_3]', 'like [EMAIL_4]']) expect(out).toContain(text);
    expect(out).toContain('"arguments":"{\\"to\\":\\"[EMAIL_1]\\"}"');
    expect(out).toContain('https://cdn.example.com/a@b.com/x.png');
    expect(out).toContain('"id":"call_a@example.com"');
    expect(r.findings).toEqual([{ kind: 'EMAIL', count: 5 }]);
  });

  it('Anthropic: system blocks, tool_use input, tool_result content and tool descriptions are scanned; thinking and images are not', () => {
    const body = {
      model: 'claude-sonnet-4-5',
      max_tokens: 1024,
      system: [{ type: 'text', text: 'Owner: a@example.com' }],
      messages: [
        {
          role: 'assistant',
          content: [
            { type: 'thinking', thinking: 'b@example.com', signature: 'sig' },
            { type: 'tool_use', id: 'tu_1', name: 'lookup', input: { who: 'c@example.com', nested: [{ n: 'c@example.com' }] } },
          ],
        },
        {
          role: 'user',
          content: [
            { type: 'tool_result', tool_use_id: 'tu_1', content: [{ type: 'text', text: 'found d@example.com' }] },
            { type: 'image', source: { type: 'base64', media_type: 'image/png', data: 'iVBORw0KGgo+e@example.com' } },
          ],
        },
      ],
      tools: [{ name: 'lookup', description: 'Find e@example.com', input_schema: { type: 'object', properties: { who: { type: 'string', description: 'f@example.com' } } } }],
    };
    const r = applyGuardrails('anthropic-messages', body, piiRedact);
    const out = JSON.stringify(r.body);
    for (const addr of ['a', 'c', 'd', 'f']) expect(out).not.toContain(`${addr}@example.com`);
    expect(out).toContain('"thinking":"b@example.com"');
    expect(out).toContain('iVBORw0KGgo+e@example.com');
    expect(out).toContain('"who":"[EMAIL_2]","nested":[{"n":"[EMAIL_2]"}]');
    expect(out).not.toContain('Find e@example.com');
  });

  it('embeddings input, Responses input and instructions, and FIM prompt and suffix are scanned', () => {
    const emb = applyGuardrails('openai-embeddings', { model: 'text-embedding-3-small', input: ['a@example.com', 'plain'] }, piiRedact);
    expect(emb.body.input).toEqual(['[EMAIL_1]', 'plain']);
    const single = applyGuardrails('openai-embeddings', { input: 'a@example.com' }, piiRedact);
    expect(single.body.input).toBe('[EMAIL_1]');

    const resp = applyGuardrails(
      'openai-responses',
      {
        instructions: 'Owner a@example.com',
        input: [
          { role: 'user', content: [{ type: 'input_text', text: 'b@example.com' }, { type: 'input_image', image_url: 'https://x/c@example.com.png' }] },
          { type: 'function_call', call_id: 'c1', name: 'f', arguments: '{"x":"a@example.com"}' },
          { type: 'function_call_output', call_id: 'c1', output: 'ok b@example.com' },
        ],
      },
      piiRedact,
    );
    const out = JSON.stringify(resp.body);
    expect(out).toContain('"instructions":"Owner [EMAIL_1]"');
    expect(out).toContain('"text":"[EMAIL_2]"');
    expect(out).toContain('https://x/c@example.com.png');
    expect(out).toContain('ok [EMAIL_2]');

    const fim = applyGuardrails('mistral-fim', { model: 'codestral-latest', prompt: 'a@example.com', suffix: '// b@example.com' }, piiRedact);
    expect(fim.body).toMatchObject({ prompt: '[EMAIL_1]', suffix: '// [EMAIL_2]' });
  });
});

describe('applyGuardrails: blocking', () => {
  it('a PII block names the kinds found and never the values', () => {
    const r = applyGuardrails('openai-chat', { messages: [{ role: 'user', content: 'ssn 123-45-6789, jane@example.com' }] }, compileGuardrails({ pii: 'block' }));
    expect(r.blocked?.code).toBe('guardrail_blocked');
    expect(r.blocked?.message).toContain('SSN');
    expect(r.blocked?.message).toContain('EMAIL');
    expect(r.blocked?.message).not.toContain('123-45-6789');
    expect(r.blocked?.message).not.toContain('jane');
  });

  it('a blocked secret blocks the request even when PII is only redacted, and nothing is edited', () => {
    const body = { messages: [{ role: 'user', content: `jane@example.com ${AWS}` }] };
    const r = applyGuardrails('openai-chat', body, compileGuardrails({ pii: 'redact' }));
    expect(r.blocked?.code).toBe('guardrail_blocked');
    expect(r.body).toBe(body);
    expect(r.changed).toBe(false);
    expect(r.findings).toEqual(expect.arrayContaining([{ kind: 'EMAIL', count: 1 }, { kind: 'AWS_ACCESS_KEY', count: 1 }]));
  });

  it('secrets off lets a key through untouched', () => {
    const body = { messages: [{ role: 'user', content: AWS }] };
    const r = applyGuardrails('openai-chat', body, compileGuardrails({ secrets: 'off' }));
    expect(r.blocked).toBeUndefined();
    expect(r.body).toBe(body);
  });

  it('a secret block never echoes the secret', () => {
    const r = applyGuardrails('openai-chat', { messages: [{ role: 'user', content: `DB_PASSWORD=Zx8k2LqP9vRt4Wm7Yb3N` }] }, compileGuardrails({}));
    expect(r.blocked?.message).toContain('SECRET');
    expect(r.blocked?.message).not.toContain('Zx8k2LqP9vRt4Wm7Yb3N');
    expect(JSON.stringify(r.decisions)).not.toContain('Zx8k2LqP9vRt4Wm7Yb3N');
  });

  it('deny wins over redaction, and names the rule, not the matched text', () => {
    const g = compileGuardrails({ pii: 'redact', secrets: 'redact', deny: ['internal[-_ ]only', 'project\\s+nightingale'] });
    const r = applyGuardrails('openai-chat', { messages: [{ role: 'user', content: 'Project  NIGHTINGALE roadmap, mail jane@example.com' }] }, g);
    expect(isGatewayErrorLike(r.blocked)).toBe(true);
    expect(r.blocked?.code).toBe('guardrail_blocked');
    expect(r.blocked?.message).toContain('#1');
    expect(r.blocked?.message).toContain('project\\s+nightingale');
    expect(r.blocked?.message).not.toContain('NIGHTINGALE roadmap');
    expect(r.changed).toBe(false);
    expect(r.decisions).toContainEqual({ rule: 'guardrails.deny', outcome: 'deny', detail: 'deny[1] /project\\s+nightingale/' });
  });

  it('rules that cannot be joined into one pattern (numbered backreferences, a group name used twice) are still enforced one by one', () => {
    const backreference = compileGuardrails({ deny: ['(ab)\\1', 'zzz'] });
    expect(backreference.anyDeny).toBeNull();
    expect(applyGuardrails('openai-chat', { messages: [{ role: 'user', content: 'xababx' }] }, backreference).blocked?.message).toContain('#0');
    const sameName = compileGuardrails({ deny: ['(?<v>q)', '(?<v>w)'] });
    expect(sameName.anyDeny).toBeNull();
    expect(applyGuardrails('openai-chat', { messages: [{ role: 'user', content: 'w' }] }, sameName).blocked?.message).toContain('#1');
  });

  it('a deny pattern that does not compile fails the profile at compile time', () => {
    expect(() => compileGuardrails({ deny: ['ok', '(unclosed'] })).toThrow(/deny\[1\]/);
  });

  it('input over maxInputTokens is input_too_large (≈ 4 characters per token)', () => {
    const g = compileGuardrails({ maxInputTokens: 10 });
    const ok = applyGuardrails('openai-chat', { messages: [{ role: 'user', content: 'x'.repeat(40) }] }, g);
    expect(ok.blocked).toBeUndefined();
    const big = applyGuardrails('openai-chat', { messages: [{ role: 'user', content: 'x'.repeat(41) }] }, g);
    expect(big.blocked?.code).toBe('input_too_large');
    expect(big.blocked?.status).toBe(413);
  });
});

describe('applyGuardrails: output limit', () => {
  const g = compileGuardrails({ secrets: 'off', maxOutputTokens: 1000 });

  it('an output limit above maxOutputTokens is clamped', () => {
    const r = applyGuardrails('openai-chat', { max_tokens: 5000, max_completion_tokens: 4000, messages: [] }, g);
    expect(r.body).toMatchObject({ max_tokens: 1000, max_completion_tokens: 1000 });
    expect(r.decisions).toEqual([{ rule: 'guardrails.maxOutputTokens', outcome: 'clamp', detail: 'max_completion_tokens 4000 → 1000, max_tokens 5000 → 1000' }]);
  });

  it('an output limit under maxOutputTokens is left alone', () => {
    const body = { max_tokens: 500, messages: [] };
    const r = applyGuardrails('anthropic-messages', body, g);
    expect(r.body).toBe(body);
    expect(r.decisions).toEqual([]);
  });

  it('a missing output limit is set to maxOutputTokens in the format’s field', () => {
    expect(applyGuardrails('openai-chat', { messages: [] }, g).body).toMatchObject({ max_completion_tokens: 1000 });
    expect(applyGuardrails('openai-responses', { input: 'hi' }, g).body).toMatchObject({ max_output_tokens: 1000 });
    expect(applyGuardrails('anthropic-messages', { messages: [] }, g).body).toMatchObject({ max_tokens: 1000 });
    expect(applyGuardrails('mistral-fim', { prompt: 'x' }, g).body).toMatchObject({ max_tokens: 1000 });
    const emb = { input: 'x' };
    expect(applyGuardrails('openai-embeddings', emb, g).body).toBe(emb);
  });

  it('requests without a limit get the cap request after request, each profile its own, never a stale one', () => {
    const other = compileGuardrails({ secrets: 'off', maxOutputTokens: 64 });
    for (let i = 0; i < 3; i++) {
      for (const [profile, cap] of [[g, 1000], [other, 64]] as const) {
        const r = applyGuardrails('anthropic-messages', { messages: [] }, profile);
        expect(r.body).toEqual({ messages: [], max_tokens: cap });
        expect(r.decisions).toEqual([{ rule: 'guardrails.maxOutputTokens', outcome: 'clamp', detail: `max_tokens set to ${cap}` }]);
        // Shared by every such request, so no request can change another's record.
        expect(Object.isFrozen(r.decisions[0])).toBe(true);
      }
      const clamped = applyGuardrails('anthropic-messages', { max_tokens: 5000 + i, messages: [] }, g);
      expect(clamped.decisions).toEqual([{ rule: 'guardrails.maxOutputTokens', outcome: 'clamp', detail: `max_tokens ${5000 + i} → 1000` }]);
    }
  });
});
