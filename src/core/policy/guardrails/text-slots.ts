import type { WireFormat } from '../../../shared/wire-format.js';

/**
 * Where the text sent upstream lives in each request body. A slot is a path to one string;
 * guardrails scan every slot and write redactions back by path. Ids, roles, model names, base64
 * image/file data, image URLs and signed thinking blocks are never slots.
 *
 * @see https://platform.openai.com/docs/api-reference/chat/create
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://platform.openai.com/docs/api-reference/responses/create
 * @see https://docs.mistral.ai/api/#tag/fim
 */

export type GuardedFormat = WireFormat | 'openai-embeddings' | 'openai-responses' | 'mistral-fim';

export type PathKey = string | number;

export interface TextSlot {
  readonly path: readonly PathKey[];
  readonly text: string;
}

type Obj = Record<string, unknown>;

const MAX_DEPTH = 64;

function isObj(v: unknown): v is Obj {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

class SlotCollector {
  readonly slots: TextSlot[] = [];

  str(container: unknown, key: PathKey, path: readonly PathKey[]): void {
    const v = (container as Record<PathKey, unknown> | undefined)?.[key];
    if (typeof v === 'string' && v.length > 0) this.slots.push({ path: [...path, key], text: v });
  }

  /** Every string value under `node` (tool-call inputs are arbitrary JSON). Keys are not scanned. */
  allStrings(node: unknown, path: PathKey[], depth = 0): void {
    if (depth > MAX_DEPTH) return;
    if (typeof node === 'string') {
      if (node.length > 0) this.slots.push({ path, text: node });
    } else if (Array.isArray(node)) {
      node.forEach((v, i) => this.allStrings(v, [...path, i], depth + 1));
    } else if (isObj(node)) {
      for (const k of Object.keys(node)) this.allStrings(node[k], [...path, k], depth + 1);
    }
  }

  /** `description` and `title` strings anywhere in a JSON schema. */
  schemaDescriptions(node: unknown, path: PathKey[], depth = 0): void {
    if (depth > MAX_DEPTH) return;
    if (Array.isArray(node)) {
      node.forEach((v, i) => this.schemaDescriptions(v, [...path, i], depth + 1));
    } else if (isObj(node)) {
      for (const k of Object.keys(node)) {
        const v = node[k];
        if ((k === 'description' || k === 'title') && typeof v === 'string') {
          if (v.length > 0) this.slots.push({ path: [...path, k], text: v });
        } else if (typeof v === 'object' && v !== null) {
          this.schemaDescriptions(v, [...path, k], depth + 1);
        }
      }
    }
  }

  /** A string, or an array of strings (embeddings input; token arrays are skipped). */
  stringOrStrings(container: Obj, key: string, path: PathKey[]): void {
    const v = container[key];
    if (typeof v === 'string') this.str(container, key, path);
    else if (Array.isArray(v)) v.forEach((item, i) => typeof item === 'string' && this.str(v, i, [...path, key]));
  }
}

// ------------------------------------------------------------- OpenAI chat

function openAiChatParts(c: SlotCollector, parts: unknown[], path: PathKey[]): void {
  parts.forEach((p, i) => {
    if (isObj(p) && (p.type === 'text' || p.type === undefined)) c.str(p, 'text', [...path, i]);
  });
}

function openAiTools(c: SlotCollector, tools: unknown, path: PathKey[]): void {
  if (!Array.isArray(tools)) return;
  tools.forEach((t, i) => {
    if (!isObj(t)) return;
    const fn = isObj(t.function) ? t.function : t; // chat: {type, function}; legacy `functions` and Responses: flat
    const fnPath = fn === t ? [...path, i] : [...path, i, 'function'];
    c.str(fn, 'description', fnPath);
    if (isObj(fn.parameters)) c.schemaDescriptions(fn.parameters, [...fnPath, 'parameters']);
  });
}

function collectOpenAiChat(c: SlotCollector, body: Obj): void {
  const messages = body.messages;
  if (Array.isArray(messages)) {
    messages.forEach((m, i) => {
      if (!isObj(m)) return;
      const path: PathKey[] = ['messages', i];
      if (typeof m.content === 'string') c.str(m, 'content', path);
      else if (Array.isArray(m.content)) openAiChatParts(c, m.content, [...path, 'content']);
      if (Array.isArray(m.tool_calls)) {
        m.tool_calls.forEach((tc, j) => {
          if (isObj(tc) && isObj(tc.function)) c.str(tc.function, 'arguments', [...path, 'tool_calls', j, 'function']);
        });
      }
      if (isObj(m.function_call)) c.str(m.function_call, 'arguments', [...path, 'function_call']);
    });
  }
  openAiTools(c, body.tools, ['tools']);
  openAiTools(c, body.functions, ['functions']);
}

// ------------------------------------------------------------- Anthropic messages

function anthropicBlocks(c: SlotCollector, blocks: unknown[], path: PathKey[], depth = 0): void {
  blocks.forEach((b, i) => {
    if (!isObj(b)) return;
    const bp = [...path, i];
    switch (b.type) {
      case 'text':
        c.str(b, 'text', bp);
        break;
      case 'tool_use':
      case 'server_tool_use':
        if (b.input !== undefined) c.allStrings(b.input, [...bp, 'input']);
        break;
      case 'tool_result':
        if (typeof b.content === 'string') c.str(b, 'content', bp);
        else if (Array.isArray(b.content) && depth < 2) anthropicBlocks(c, b.content, [...bp, 'content'], depth + 1);
        break;
      case 'document':
        // Plain-text documents carry their text inline; base64 PDFs and URLs are not text.
        if (isObj(b.source)) {
          if (b.source.type === 'text') c.str(b.source, 'data', [...bp, 'source']);
          else if (b.source.type === 'content' && Array.isArray(b.source.content) && depth < 2) {
            anthropicBlocks(c, b.source.content, [...bp, 'source', 'content'], depth + 1);
          }
        }
        c.str(b, 'context', bp);
        break;
      default:
        // image, thinking / redacted_thinking (signed: editing them fails the request), search results…
        break;
    }
  });
}

function collectAnthropic(c: SlotCollector, body: Obj): void {
  if (typeof body.system === 'string') c.str(body, 'system', []);
  else if (Array.isArray(body.system)) anthropicBlocks(c, body.system, ['system']);
  const messages = body.messages;
  if (Array.isArray(messages)) {
    messages.forEach((m, i) => {
      if (!isObj(m)) return;
      if (typeof m.content === 'string') c.str(m, 'content', ['messages', i]);
      else if (Array.isArray(m.content)) anthropicBlocks(c, m.content, ['messages', i, 'content']);
    });
  }
  if (Array.isArray(body.tools)) {
    body.tools.forEach((t, i) => {
      if (!isObj(t)) return;
      c.str(t, 'description', ['tools', i]);
      if (isObj(t.input_schema)) c.schemaDescriptions(t.input_schema, ['tools', i, 'input_schema']);
    });
  }
}

// ------------------------------------------------------------- OpenAI Responses

const RESPONSES_TEXT_PARTS = new Set(['input_text', 'output_text', 'text']);

function responsesContent(c: SlotCollector, item: Obj, path: PathKey[]): void {
  if (typeof item.content === 'string') c.str(item, 'content', path);
  else if (Array.isArray(item.content)) {
    item.content.forEach((p, j) => {
      if (isObj(p) && typeof p.type === 'string' && RESPONSES_TEXT_PARTS.has(p.type)) c.str(p, 'text', [...path, 'content', j]);
    });
  }
}

function collectResponses(c: SlotCollector, body: Obj): void {
  c.str(body, 'instructions', []);
  if (typeof body.input === 'string') c.str(body, 'input', []);
  else if (Array.isArray(body.input)) {
    body.input.forEach((item, i) => {
      if (!isObj(item)) return;
      const path: PathKey[] = ['input', i];
      switch (item.type) {
        case undefined:
        case 'message':
          responsesContent(c, item, path);
          break;
        case 'function_call':
          c.str(item, 'arguments', path);
          break;
        case 'custom_tool_call':
          c.str(item, 'input', path);
          break;
        case 'function_call_output':
        case 'custom_tool_call_output':
          if (typeof item.output === 'string') c.str(item, 'output', path);
          else if (Array.isArray(item.output)) {
            item.output.forEach((p, j) => {
              if (isObj(p) && p.type === 'input_text') c.str(p, 'text', [...path, 'output', j]);
            });
          }
          break;
        default:
          break; // reasoning (encrypted), images, files, item references
      }
    });
  }
  openAiTools(c, body.tools, ['tools']);
}

/** All text slots of a request body, in document order. */
export function collectTextSlots(format: GuardedFormat, body: Obj): TextSlot[] {
  const c = new SlotCollector();
  switch (format) {
    case 'openai-chat':
      collectOpenAiChat(c, body);
      break;
    case 'anthropic-messages':
      collectAnthropic(c, body);
      break;
    case 'openai-responses':
      collectResponses(c, body);
      break;
    case 'openai-embeddings':
      c.stringOrStrings(body, 'input', []);
      break;
    case 'mistral-fim':
      c.str(body, 'prompt', []);
      c.str(body, 'suffix', []);
      break;
    default: {
      const never: never = format;
      throw new Error(`unknown format ${String(never)}`);
    }
  }
  return c.slots;
}

/**
 * Writes `value` at each path, copying only the containers on the way (copy-on-write): the
 * original body is never mutated and untouched subtrees are shared.
 */
export function writeSlots(body: Obj, writes: readonly { path: readonly PathKey[]; value: string }[]): Obj {
  const copies = new Set<unknown>();
  const root: Obj = { ...body };
  copies.add(root);
  for (const { path, value } of writes) {
    let node = root as Record<PathKey, unknown>;
    for (let i = 0; i < path.length - 1; i++) {
      const key = path[i] as PathKey;
      let child = node[key];
      if (!copies.has(child)) {
        child = Array.isArray(child) ? child.slice() : { ...(child as Obj) };
        copies.add(child);
        node[key] = child;
      }
      node = child as Record<PathKey, unknown>;
    }
    node[path[path.length - 1] as PathKey] = value;
  }
  return root;
}
