import { GatewayError } from '../gateway-error.js';
import type { ProviderKind } from '../../shared/policy-schema.js';
import { asArray, asNumber, asString, isRecord, type JsonObject } from './json-guards.js';

/**
 * Anthropic Messages request → OpenAI Chat Completions request (OpenAI or Mistral target; the
 * Mistral dialect is applied afterwards by convertToMistralDialect).
 * @see https://docs.anthropic.com/en/api/messages
 * @see https://platform.openai.com/docs/api-reference/chat/create
 */

/** OpenAI rejects more than four stop sequences. @see https://platform.openai.com/docs/api-reference/chat/create#chat-create-stop */
const OPENAI_MAX_STOP_SEQUENCES = 4;

const HANDLED = new Set([
  'model', 'messages', 'system', 'max_tokens', 'temperature', 'top_p', 'top_k', 'stop_sequences', 'stream',
  'tools', 'tool_choice', 'metadata', 'thinking', 'mcp_servers', 'container',
]);

function unsupported(field: string, target: ProviderKind, why = ''): GatewayError {
  return new GatewayError(
    'unsupported_field',
    `field ${field} is not supported when the request is served by a ${target === 'mistral' ? 'Mistral' : 'OpenAI'} model${why ? `: ${why}` : ''}`,
  );
}

export function convertToOpenAiRequest(body: JsonObject, upstreamModel: string, target: ProviderKind): { body: JsonObject; warnings: string[] } {
  const warnings: string[] = [];
  const warnOnce = (w: string): void => {
    if (!warnings.includes(w)) warnings.push(w);
  };
  const out: JsonObject = { model: upstreamModel };

  for (const key of Object.keys(body)) {
    if (HANDLED.has(key) || body[key] === undefined || body[key] === null) continue;
    warnings.push(`dropped ${key}: no ${target === 'mistral' ? 'Mistral' : 'OpenAI'} equivalent`);
  }
  if (Array.isArray(body.mcp_servers) && body.mcp_servers.length > 0) throw unsupported('mcp_servers', target);
  if (body.container !== undefined && body.container !== null) throw unsupported('container', target);

  const messages: JsonObject[] = [];
  const system = convertSystem(body.system, warnOnce);
  if (system !== undefined) messages.push({ role: 'system', content: system });
  asArray(body.messages).forEach((raw, i) => {
    if (!isRecord(raw)) throw new GatewayError('invalid_request', `messages[${i}] must be an object`);
    if (raw.role === 'user') messages.push(...convertUserMessage(raw.content, i, target, warnOnce));
    else if (raw.role === 'assistant') {
      const msg = convertAssistantMessage(raw.content, i, target, warnOnce);
      if (msg !== undefined) messages.push(msg);
    } else throw new GatewayError('invalid_request', `messages[${i}].role must be user or assistant`);
  });
  out.messages = messages;

  const maxTokens = asNumber(body.max_tokens);
  // `max_tokens` is deprecated on OpenAI and refused by reasoning models; the Mistral dialect renames it back.
  if (maxTokens !== undefined) out.max_completion_tokens = maxTokens;
  const temperature = asNumber(body.temperature);
  if (temperature !== undefined) out.temperature = temperature;
  const topP = asNumber(body.top_p);
  if (topP !== undefined) out.top_p = topP;
  if (body.top_k !== undefined && body.top_k !== null) warnings.push('dropped top_k: no OpenAI equivalent');

  const stops = asArray(body.stop_sequences).filter((s): s is string => typeof s === 'string');
  if (stops.length > OPENAI_MAX_STOP_SEQUENCES && target === 'openai') {
    throw unsupported('stop_sequences', target, `at most ${OPENAI_MAX_STOP_SEQUENCES} stop sequences`);
  }
  if (stops.length > 0) out.stop = stops;

  if (body.stream === true) {
    out.stream = true;
    // Without this OpenAI sends no usage at all in a stream.
    out.stream_options = { include_usage: true };
  }

  const metadata = isRecord(body.metadata) ? body.metadata : {};
  const userId = asString(metadata.user_id);
  if (userId !== undefined) out.user = userId;

  if (isRecord(body.thinking) && body.thinking.type === 'enabled') {
    warnings.push('dropped thinking: extended thinking has no Chat Completions equivalent');
  }

  const tools = asArray(body.tools);
  if (tools.length > 0) out.tools = tools.map((t, i) => convertToOpenAiTool(t, i, target, warnOnce));
  const choice = body.tool_choice;
  if (isRecord(choice)) {
    switch (choice.type) {
      case 'auto':
        out.tool_choice = 'auto';
        break;
      case 'any':
        out.tool_choice = 'required';
        break;
      case 'none':
        out.tool_choice = 'none';
        break;
      case 'tool':
        out.tool_choice = { type: 'function', function: { name: asString(choice.name) ?? '' } };
        break;
      default:
        throw unsupported(`tool_choice.type=${String(choice.type)}`, target);
    }
    // OpenAI refuses parallel_tool_calls without tools.
    if (choice.disable_parallel_tool_use === true && tools.length > 0) out.parallel_tool_calls = false;
  }
  return { body: out, warnings };
}

function convertSystem(system: unknown, warn: (w: string) => void): string | JsonObject[] | undefined {
  if (typeof system === 'string') return system.length > 0 ? system : undefined;
  const blocks = asArray(system);
  if (blocks.length === 0) return undefined;
  const parts = blocks.map((b, i) => {
    if (!isRecord(b) || b.type !== 'text' || typeof b.text !== 'string') {
      throw new GatewayError('invalid_request', `system[${i}] must be a text block`);
    }
    if (b.cache_control !== undefined) warn('dropped cache_control: OpenAI-compatible APIs cache prompts on their own');
    return { type: 'text', text: b.text };
  });
  const only = parts[0];
  return parts.length === 1 && only !== undefined ? only.text : parts;
}

/** A `data:` URL, the only way OpenAI takes inline images. */
function convertImage(block: JsonObject, where: string, target: ProviderKind): JsonObject {
  const source = isRecord(block.source) ? block.source : {};
  let url: string;
  if (source.type === 'base64') url = `data:${asString(source.media_type) ?? 'image/png'};base64,${asString(source.data) ?? ''}`;
  else if (source.type === 'url' && typeof source.url === 'string') url = source.url;
  else throw unsupported(`${where}.source.type=${String(source.type)}`, target);
  return { type: 'image_url', image_url: { url } };
}

/**
 * One Anthropic user turn → OpenAI messages: each `tool_result` becomes a `tool` message (they
 * must directly follow the assistant's tool_calls), the rest one `user` message after them.
 */
function convertUserMessage(content: unknown, i: number, target: ProviderKind, warn: (w: string) => void): JsonObject[] {
  if (typeof content === 'string') return [{ role: 'user', content }];
  if (!Array.isArray(content)) throw new GatewayError('invalid_request', `messages[${i}].content must be a string or an array of blocks`);
  const toolMessages: JsonObject[] = [];
  const parts: JsonObject[] = [];
  content.forEach((block, j) => {
    const where = `messages[${i}].content[${j}]`;
    if (!isRecord(block)) throw new GatewayError('invalid_request', `${where} must be an object`);
    if (block.cache_control !== undefined) warn('dropped cache_control: OpenAI-compatible APIs cache prompts on their own');
    switch (block.type) {
      case 'text':
        parts.push({ type: 'text', text: asString(block.text) ?? '' });
        break;
      case 'image':
        parts.push(convertImage(block, where, target));
        break;
      case 'tool_result': {
        const id = asString(block.tool_use_id);
        if (id === undefined) throw new GatewayError('invalid_request', `${where}.tool_use_id is required`);
        const texts: string[] = [];
        const inner = typeof block.content === 'string' ? [{ type: 'text', text: block.content }] : asArray(block.content);
        inner.forEach((b, k) => {
          if (isRecord(b) && b.type === 'text') texts.push(asString(b.text) ?? '');
          else if (isRecord(b) && b.type === 'image') {
            // Tool messages carry text only: the image follows in the next user message.
            warn('moved images from tool_result into the following user message: tool messages are text-only');
            parts.push(convertImage(b, `${where}.content[${k}]`, target));
          } else throw unsupported(`${where}.content[${k}].type=${isRecord(b) ? String(b.type) : typeof b}`, target);
        });
        if (block.is_error === true) warn('dropped tool_result.is_error: tool messages have no error flag (the content is kept)');
        toolMessages.push({ role: 'tool', tool_call_id: id, content: texts.join('') });
        break;
      }
      case 'document':
        throw unsupported(`${where}.type=document`, target);
      default:
        throw unsupported(`${where}.type=${String(block.type)}`, target);
    }
  });
  if (parts.length === 0) return toolMessages;
  const only = parts[0];
  const userContent = parts.length === 1 && only !== undefined && only.type === 'text' ? only.text : parts;
  return [...toolMessages, { role: 'user', content: userContent }];
}

function convertAssistantMessage(content: unknown, i: number, target: ProviderKind, warn: (w: string) => void): JsonObject | undefined {
  if (typeof content === 'string') return { role: 'assistant', content };
  if (!Array.isArray(content)) throw new GatewayError('invalid_request', `messages[${i}].content must be a string or an array of blocks`);
  let text = '';
  let hasText = false;
  const toolCalls: JsonObject[] = [];
  content.forEach((block, j) => {
    const where = `messages[${i}].content[${j}]`;
    if (!isRecord(block)) throw new GatewayError('invalid_request', `${where} must be an object`);
    switch (block.type) {
      case 'text':
        hasText = true;
        text += asString(block.text) ?? '';
        break;
      case 'tool_use':
        toolCalls.push({
          id: asString(block.id) ?? '',
          type: 'function',
          function: { name: asString(block.name) ?? '', arguments: JSON.stringify(isRecord(block.input) ? block.input : {}) },
        });
        break;
      case 'thinking':
      case 'redacted_thinking':
        // Signed Claude reasoning cannot be replayed to another vendor's model; it is not the answer either.
        warn('dropped thinking blocks from the conversation history');
        break;
      default:
        throw unsupported(`${where}.type=${String(block.type)}`, target);
    }
  });
  if (!hasText && toolCalls.length === 0) return undefined;
  const msg: JsonObject = { role: 'assistant', content: hasText ? text : null };
  if (toolCalls.length > 0) msg.tool_calls = toolCalls;
  return msg;
}

function convertToOpenAiTool(tool: unknown, i: number, target: ProviderKind, warn: (w: string) => void): JsonObject {
  if (!isRecord(tool)) throw new GatewayError('invalid_request', `tools[${i}] must be an object`);
  // Anthropic server tools (web_search_…, bash_…, text_editor_…, computer_…) carry a versioned type.
  if (tool.type !== undefined && tool.type !== 'custom' && tool.type !== null) {
    throw unsupported(`tools[${i}].type=${String(tool.type)}`, target, 'only client tools with input_schema');
  }
  if (tool.cache_control !== undefined) warn('dropped cache_control: OpenAI-compatible APIs cache prompts on their own');
  const fn: JsonObject = { name: asString(tool.name) ?? '' };
  const description = asString(tool.description);
  if (description !== undefined) fn.description = description;
  fn.parameters = isRecord(tool.input_schema) ? tool.input_schema : { type: 'object', properties: {} };
  return { type: 'function', function: fn };
}
