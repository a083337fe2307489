/**
 * What is measured: targets (where requests go) and scenarios (what is sent). A scenario is plain
 * data {name, target, path, body, headers, ...}; the runner (run.ts) executes every scenario of a
 * group against each of its targets in rotated order and compares targets by `key`.
 *
 * Sections (a)–(c) run on the targets of kind stub/floor/asc; (d) runs only on kind 'asc-policy' (ASC
 * children started with other profiles: `asc-empty` and `asc-full`), so adding those does not multiply
 * the (a)–(c) runtime.
 */

export type ApiFormat = 'openai' | 'anthropic';

export interface Target {
  /** 'direct' (the stub itself), 'floor', 'asc', 'asc-empty', 'asc-full', 'asc-empty-2'. */
  id: string;
  label: string;
  /** 'asc-policy': an ASC child with a non-default profile, measured in section (d) only. */
  kind: 'stub' | 'floor' | 'asc' | 'asc-policy';
  /** http://127.0.0.1:PORT */
  origin: string;
  /** The process whose CPU and memory are measured (undefined for 'direct'). */
  pid?: number;
  /** Where each client API lives on this target (the floor has no routing: it uses the stub's paths). */
  routes: { openaiChat: string; anthropicMessages: string };
  /** Can route a request of one API format to a provider of the other. */
  translates: boolean;
  available: boolean;
  /** One line: why the target is not available. */
  note?: string;
  /** Longer diagnostics (e.g. the child's output), shown once in the report. */
  detail?: string;
}

export type Section = 'a' | 'b' | 'c' | 'd';
export type Mode = 'load' | 'seq';

export interface Scenario {
  /** Unique, e.g. "load openai stream 20ms @ asc". */
  name: string;
  /** Same for every target compared with each other, e.g. "openai stream 20ms". */
  key: string;
  section: Section;
  mode: Mode;
  target: string;
  method: 'POST';
  path: string;
  headers: Record<string, string>;
  /** The body sent; chosen by the preflight among `bodies` (first one that works). */
  body: string;
  bodies: string[];
  /** When set, each request sends the next of these bodies in turn (load and sequential runs); `body` is the first. */
  bodyCycle?: readonly string[];
  stream: boolean;
  client: ApiFormat;
  upstream: ApiFormat;
  delayMs: number;
  available: boolean;
  note?: string;
}

export const TRANSLATION_NA = 'translation: not available';
export const OPENAI_MODEL = 'gpt-4.1-mini';
export const ANTHROPIC_MODEL = 'claude-haiku-4-5';
const MESSAGES = [{ role: 'user', content: 'hello' }];

export function headersFor(client: ApiFormat, key: string): Record<string, string> {
  return client === 'openai'
    ? { 'content-type': 'application/json', authorization: `Bearer ${key}` }
    : { 'content-type': 'application/json', 'x-api-key': key, 'anthropic-version': '2023-06-01' };
}

export function bodyFor(client: ApiFormat, model: string, stream: boolean): string {
  if (client === 'openai') {
    return JSON.stringify(
      stream
        ? { model, messages: MESSAGES, stream: true, stream_options: { include_usage: true } }
        : { model, messages: MESSAGES, stream: false },
    );
  }
  return JSON.stringify({ model, max_tokens: 256, messages: MESSAGES, stream });
}

/** Model names tried in order for a client→upstream pair (bare name first, then `provider/model`). */
function modelCandidates(upstream: ApiFormat): string[] {
  return upstream === 'openai' ? [OPENAI_MODEL, `openai/${OPENAI_MODEL}`] : [ANTHROPIC_MODEL, `anthropic/${ANTHROPIC_MODEL}`];
}

function make(
  t: Target,
  section: Section,
  mode: Mode,
  key: string,
  client: ApiFormat,
  upstream: ApiFormat,
  stream: boolean,
  delayMs: number,
  localKey: string,
  bodyOverride?: string,
  bodyCycle?: readonly string[],
): Scenario {
  const bodies = bodyOverride
    ? [bodyOverride]
    : (client === upstream ? [modelCandidates(upstream)[0] as string] : modelCandidates(upstream)).map((m) => bodyFor(client, m, stream));
  return {
    name: `${mode} ${key} @ ${t.id}`,
    key,
    section,
    mode,
    target: t.id,
    method: 'POST',
    path: client === 'openai' ? t.routes.openaiChat : t.routes.anthropicMessages,
    headers: headersFor(client, localKey),
    body: bodies[0] as string,
    bodies,
    ...(bodyCycle ? { bodyCycle } : {}),
    stream,
    client,
    upstream,
    delayMs,
    available: t.available,
    ...(t.available ? {} : { note: t.note === TRANSLATION_NA ? TRANSLATION_NA : `${t.label} not available` }),
  };
}

export const fmtPair = (c: ApiFormat, u: ApiFormat): string => (c === u ? c : `${c}→${u}`);

export interface BuildOpts {
  localKey: string;
  delays: number[];
  /** User prompt of the (d) requests (OpenAI chat, JSON): ~1 KB of code and prose, nothing to redact or block. */
  policyPrompt?: string;
  /** Prompts like it, each different: the (d) requests that bring a new prompt every time. */
  newPolicyPrompts?: readonly string[];
}

/**
 * (d)'s A/A control: a second gateway with the empty profile, given the same loads as the other
 * two, in the same rounds and rotation (so its history matches theirs: a gateway that sat idle
 * while the others worked measured up to 5 % slower). Its ratio to `asc-empty` is what two
 * identical gateways differ by in this run: the noise any (d) ratio has to be read against. It has
 * no unloaded rows.
 */
export const AA_CONTROL_ID = 'asc-empty-2';

/** The (d) keys: the same prompt on every request (a conversation resent), or a new one each time. */
export const POLICY_KEYS = {
  resent: { load: 'openai json 0ms', seq: 'openai json' },
  fresh: { load: 'openai json 0ms, new prompt each request', seq: 'openai json, new prompt each request' },
} as const;

/** The (d) request body: a system prompt and a realistic user prompt, non-streaming. */
export function policyBody(prompt: string, model = OPENAI_MODEL): string {
  return JSON.stringify({
    model,
    messages: [
      { role: 'system', content: 'You are a careful senior engineer. Answer concisely.' },
      { role: 'user', content: prompt },
    ],
    stream: false,
  });
}

/** The scenario list. Order within a key = the order targets are listed; the runner rotates it per round. */
export function buildScenarios(targets: Target[], opts: BuildOpts): Scenario[] {
  const out: Scenario[] = [];
  const proxies = targets.filter((t) => t.kind === 'floor' || t.kind === 'asc');
  const ascs = targets.filter((t) => t.kind === 'asc');
  const withDirect = targets.filter((t) => t.kind !== 'asc-policy');
  const policyTargets = targets.filter((t) => t.kind === 'asc-policy');

  // (a) under load: floor vs ASC, OpenAI JSON and stream, each upstream delay.
  for (const d of opts.delays) {
    for (const stream of [false, true]) {
      const key = `openai ${stream ? 'stream' : 'json'} ${d}ms`;
      for (const t of proxies) out.push(make(t, 'a', 'load', key, 'openai', 'openai', stream, d, opts.localKey));
    }
  }
  // (b) unloaded sequential: direct-to-stub vs floor vs ASC.
  for (const [client, stream] of [
    ['openai', false],
    ['openai', true],
    ['anthropic', true],
  ] as const) {
    const key = `${client} ${stream ? 'stream' : 'json'}`;
    for (const t of withDirect) out.push(make(t, 'b', 'seq', key, client, client, stream, 0, opts.localKey));
  }
  // (c) translated vs passthrough, ASC only (the passthrough baselines are the (a)/(b) rows plus an
  // Anthropic passthrough load row).
  for (const t of ascs) {
    const down: Target = t.available ? t : { ...t, note: `${t.label} not available` };
    out.push(make(down, 'c', 'load', 'anthropic stream 0ms', 'anthropic', 'anthropic', true, 0, opts.localKey));
    // The passthrough baseline for Anthropic client → OpenAI upstream: (a) has it when 0 ms is among the delays.
    if (!opts.delays.includes(0)) out.push(make(down, 'c', 'load', 'openai stream 0ms', 'openai', 'openai', true, 0, opts.localKey));
    for (const [client, upstream] of [
      ['openai', 'anthropic'],
      ['anthropic', 'openai'],
    ] as const) {
      const pair = fmtPair(client, upstream);
      const tr: Target = !t.available
        ? { ...t, note: `${t.label} not available` }
        : t.translates
          ? t
          : { ...t, available: false, note: TRANSLATION_NA };
      out.push(make(tr, 'c', 'load', `${pair} stream 0ms`, client, upstream, true, 0, opts.localKey));
      out.push(make(tr, 'c', 'seq', `${pair} stream`, client, upstream, true, 0, opts.localKey));
    }
  }
  // (d) full policy pipeline vs empty profile: the 'asc-policy' targets only. The same ~1 KB prompt
  // on every request (what guardrails have seen before, as when an agent resends its conversation),
  // and a different one on every request (nothing seen before: every text is scanned).
  const pb = policyBody(opts.policyPrompt ?? 'hello');
  const fresh = opts.newPolicyPrompts?.map((p) => policyBody(p));
  for (const t of policyTargets) {
    const unloaded = t.id !== AA_CONTROL_ID;
    out.push(make(t, 'd', 'load', POLICY_KEYS.resent.load, 'openai', 'openai', false, 0, opts.localKey, pb));
    if (unloaded) out.push(make(t, 'd', 'seq', POLICY_KEYS.resent.seq, 'openai', 'openai', false, 0, opts.localKey, pb));
    if (fresh && fresh.length > 0) {
      out.push(make(t, 'd', 'load', POLICY_KEYS.fresh.load, 'openai', 'openai', false, 0, opts.localKey, fresh[0], fresh));
      if (unloaded) out.push(make(t, 'd', 'seq', POLICY_KEYS.fresh.seq, 'openai', 'openai', false, 0, opts.localKey, fresh[0], fresh));
    }
  }
  return out;
}
