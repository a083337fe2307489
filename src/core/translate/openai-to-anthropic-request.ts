import { GatewayError } from '../gateway-error.js';
import { rejectOpenAiOnlyFields } from './openai-only-fields.js';
import { defaultMaxOutputTokens } from './model-limits.js';
import { asArray, asNumber, asString, isRecord, tryParseJson, type JsonObject } from './json-guards.js';

/**
 * OpenAI Chat Completions request → Anthropic Messages request.
 * @see https://platform.openai.com/docs/api-reference/chat/create
 * @see https://docs.anthropic.com/en/api/messages
 */

const SERVED_BY = 'when the request is served by an Anthropic model';

function unsupported(field: string, why = ''): GatewayError {
  return new GatewayError('unsupported_field', `field ${field} is not supported ${SERVED_BY}${why ? `: ${why}` : ''}`);
}

/** Request fields dropped with a warning: they tune cost, storage or sampling but not the answer's meaning. */
const DROPPED_WITH_WARNING = new Set([
  'seed',
  'frequency_penalty',
  'presence_penalty',
  'store',
  'metadata',
  'service_tier',
  'prediction',
  'reasoning_effort',
  'verbosity',
  'prompt_cache_key',
  'safety_identifier',
]);

/** Fields handled explicitly below. */
const HANDLED = new Set([
  'model', 'messages', 'max_tokens', 'max_completion_tokens', 'temperature', 'top_p', 'stop', 'stream',
  'stream_options', 'tools', 'tool_choice', 'parallel_tool_calls', 'user', 'n', 'logit_bias', 'logprobs',
  'top_logprobs', 'response_format', 'modalities', 'audio', 'web_search_options', 'functions', 'function_call',
]);

/** Anthropic accepts these image media types. @see https://docs.anthropic.com/en/docs/build-with-claude/vision */
const ANTHROPIC_IMAGE_TYPES = new Set(['image/jpeg', 'image/png', 'image/gif', 'image/webp']);

export interface OpenAiToAnthropicResult {
  body: JsonObject;
  warnings: string[];
  includeUsage: boolean;
}

export function convertToAnthropicRequest(body: JsonObject, upstreamModel: string): OpenAiToAnthropicResult {
  const warnings: string[] = [];
  const out: JsonObject = { model: upstreamModel };

  for (const key of Object.keys(body)) {
    if (HANDLED.has(key) || body[key] === undefined || body[key] === null) continue;
    if (DROPPED_WITH_WARNING.has(key)) warnings.push(`dropped ${key}: not supported by Anthropic`);
    else warnings.push(`dropped unknown field ${key}`);
  }

  rejectUnsupported(body);

  const { system, messages } = convertToAnthropicMessages(asArray(body.messages), warnings);
  if (system.length > 0) out.system = system;
  out.messages = messages;

  const maxTokens = asNumber(body.max_completion_tokens) ?? asNumber(body.max_tokens);
  out.max_tokens = maxTokens ?? defaultMaxOutputTokens(upstreamModel);

  const temperature = asNumber(body.temperature);
  if (temperature !== undefined) {
    // OpenAI allows 0–2, Anthropic 0–1.
    if (temperature > 1) warnings.push(`temperature ${temperature} clamped to 1 (Anthropic maximum)`);
    out.temperature = Math.min(temperature, 1);
  }
  const topP = asNumber(body.top_p);
  if (topP !== undefined) out.top_p = topP;

  if (typeof body.stop === 'string') out.stop_sequences = [body.stop];
  else if (Array.isArray(body.stop) && body.stop.length > 0) out.stop_sequences = body.stop.filter((s) => typeof s === 'string');

  if (body.stream === true) out.stream = true;

  const user = asString(body.user);
  if (user !== undefined) out.metadata = { user_id: user };

  const tools = asArray(body.tools);
  if (tools.length > 0) out.tools = tools.map(convertToAnthropicTool);

  const toolChoice = convertToAnthropicToolChoice(body.tool_choice, body.parallel_tool_calls, tools.length > 0, warnings);
  if (toolChoice !== undefined) out.tool_choice = toolChoice;

  if (isRecord(body.response_format) && body.response_format.type === 'json_object') {
    warnings.push('dropped response_format json_object: Anthropic has no JSON mode, the prompt must ask for JSON');
  }

  const streamOptions = isRecord(body.stream_options) ? body.stream_options : {};
  return { body: out, warnings, includeUsage: body.stream === true && streamOptions.include_usage === true };
}

function rejectUnsupported(body: JsonObject): void {
  const n = asNumber(body.n);
  if (n !== undefined && n !== 1) throw unsupported('n', 'Anthropic returns one choice per request');
  rejectOpenAiOnlyFields(body, 'an Anthropic model');
  if (isRecord(body.response_format)) {
    const type = body.response_format.type;
    // Dropping a JSON schema would hand back free text to a client that parses it: refuse.
    if (type === 'json_schema') throw unsupported('response_format.type=json_schema');
  }
}

/** System/developer messages become `system`; tool messages become `tool_result` blocks in user turns. */
function convertToAnthropicMessages(input: unknown[], warnings: string[]): { system: JsonObject[]; messages: JsonObject[] } {
  const system: JsonObject[] = [];
  const messages: { role: 'user' | 'assistant'; content: JsonObject[] }[] = [];
  let seenConversation = false;
  let warnedLateSystem = false;

  const append = (role: 'user' | 'assistant', blocks: JsonObject[]): void => {
    if (blocks.length === 0) return;
    const last = messages[messages.length - 1];
    // Anthropic wants user/assistant turns to alternate: merge consecutive same-role messages.
    if (last !== undefined && last.role === role) last.content.push(...blocks);
    else messages.push({ role, content: blocks });
  };

  input.forEach((raw, i) => {
    if (!isRecord(raw)) throw new GatewayError('invalid_request', `messages[${i}] must be an object`);
    const role = raw.role;
    switch (role) {
      case 'system':
      case 'developer': {
        if (seenConversation && !warnedLateSystem) {
          warnedLateSystem = true;
          warnings.push('system message after the first turn moved into the Anthropic system prompt');
        }
        for (const text of textParts(raw.content, `messages[${i}].content`)) {
          if (text.length > 0) system.push({ type: 'text', text });
        }
        break;
      }
      case 'user':
        seenConversation = true;
        append('user', convertUserContent(raw.content, i));
        break;
      case 'assistant':
        seenConversation = true;
        append('assistant', convertAssistantMessage(raw, i));
        break;
      case 'tool': {
        seenConversation = true;
        const id = asString(raw.tool_call_id);
        if (id === undefined) throw new GatewayError('invalid_request', `messages[${i}].tool_call_id is required`);
        const block: JsonObject = { type: 'tool_result', tool_use_id: id, content: textParts(raw.content, `messages[${i}].content`).join('') };
        const last = messages[messages.length - 1];
        if (last !== undefined && last.role === 'user') {
          // tool_result blocks must come first in a user turn.
          const firstNonResult = last.content.findIndex((b) => b.type !== 'tool_result');
          if (firstNonResult === -1) last.content.push(block);
          else last.content.splice(firstNonResult, 0, block);
        } else {
          messages.push({ role: 'user', content: [block] });
        }
        break;
      }
      case 'function':
        throw unsupported(`messages[${i}].role=function`, 'use tool messages');
      default:
        throw new GatewayError('invalid_request', `messages[${i}].role ${JSON.stringify(role)} is not a chat role`);
    }
  });
  return { system, messages };
}

/** Text of a system/developer/tool message: a string or an array of text parts. */
function textParts(content: unknown, where: string): string[] {
  if (typeof content === 'string') return [content];
  if (content === null || content === undefined) return [];
  if (!Array.isArray(content)) throw new GatewayError('invalid_request', `${where} must be a string or an array of parts`);
  return content.map((part, j) => {
    if (isRecord(part) && part.type === 'text' && typeof part.text === 'string') return part.text;
    throw unsupported(`${where}[${j}].type=${isRecord(part) ? String(part.type) : typeof part}`, 'only text parts are allowed here');
  });
}

function convertUserContent(content: unknown, i: number): JsonObject[] {
  if (typeof content === 'string') return content.length > 0 ? [{ type: 'text', text: content }] : [];
  if (!Array.isArray(content)) throw new GatewayError('invalid_request', `messages[${i}].content must be a string or an array of parts`);
  const blocks: JsonObject[] = [];
  content.forEach((part, j) => {
    const where = `messages[${i}].content[${j}]`;
    if (!isRecord(part)) throw new GatewayError('invalid_request', `${where} must be an object`);
    switch (part.type) {
      case 'text':
        if (typeof part.text === 'string' && part.text.length > 0) blocks.push({ type: 'text', text: part.text });
        break;
      case 'image_url':
        blocks.push(convertToAnthropicImage(part.image_url, where));
        break;
      default:
        throw unsupported(`${where}.type=${String(part.type)}`);
    }
  });
  return blocks;
}

/** `image_url.url` is either an http(s) URL or a `data:` URL with base64 payload. */
function convertToAnthropicImage(imageUrl: unknown, where: string): JsonObject {
  const url = isRecord(imageUrl) ? asString(imageUrl.url) : asString(imageUrl);
  if (url === undefined) throw new GatewayError('invalid_request', `${where}.image_url.url is required`);
  if (url.startsWith('data:')) {
    const comma = url.indexOf(',');
    const header = comma === -1 ? '' : url.slice(5, comma);
    const [mediaType = '', ...params] = header.split(';');
    if (!params.includes('base64')) throw unsupported(`${where}.image_url.url`, 'data URLs must be base64-encoded');
    if (!ANTHROPIC_IMAGE_TYPES.has(mediaType)) throw unsupported(`${where}.image_url.url`, `image type ${mediaType || 'unknown'} (Anthropic takes jpeg, png, gif, webp)`);
    return { type: 'image', source: { type: 'base64', media_type: mediaType, data: url.slice(comma + 1) } };
  }
  if (/^https?:\/\//i.test(url)) return { type: 'image', source: { type: 'url', url } };
  throw unsupported(`${where}.image_url.url`, 'only http(s) and base64 data URLs');
}

function convertAssistantMessage(msg: JsonObject, i: number): JsonObject[] {
  const blocks: JsonObject[] = [];
  const content = msg.content;
  if (typeof content === 'string') {
    if (content.length > 0) blocks.push({ type: 'text', text: content });
  } else if (Array.isArray(content)) {
    content.forEach((part, j) => {
      const where = `messages[${i}].content[${j}]`;
      if (!isRecord(part)) throw new GatewayError('invalid_request', `${where} must be an object`);
      const text = part.type === 'text' ? asString(part.text) : part.type === 'refusal' ? asString(part.refusal) : undefined;
      if (text === undefined) throw unsupported(`${where}.type=${String(part.type)}`);
      if (text.length > 0) blocks.push({ type: 'text', text });
    });
  }
  if (msg.audio !== undefined && msg.audio !== null) throw unsupported(`messages[${i}].audio`);
  if (msg.function_call !== undefined && msg.function_call !== null) throw unsupported(`messages[${i}].function_call`, 'use tool_calls');
  asArray(msg.tool_calls).forEach((call, j) => {
    const where = `messages[${i}].tool_calls[${j}]`;
    if (!isRecord(call) || !isRecord(call.function)) throw new GatewayError('invalid_request', `${where} must be a function tool call`);
    if (call.type !== undefined && call.type !== 'function') throw unsupported(`${where}.type=${String(call.type)}`);
    const id = asString(call.id);
    const name = asString(call.function.name);
    if (id === undefined || name === undefined) throw new GatewayError('invalid_request', `${where} needs id and function.name`);
    blocks.push({ type: 'tool_use', id, name, input: parseToolArguments(call.function.arguments, `${where}.function.arguments`) });
  });
  return blocks;
}

/** Anthropic `tool_use.input` is an object; OpenAI `arguments` is its JSON text. */
export function parseToolArguments(args: unknown, where: string): JsonObject {
  if (args === undefined || args === null || args === '') return {};
  if (typeof args !== 'string') throw new GatewayError('invalid_request', `${where} must be a JSON string`);
  const parsed = tryParseJson(args);
  if (!parsed.ok || !isRecord(parsed.value)) {
    throw new GatewayError('invalid_request', `${where} is not a JSON object, which Anthropic requires for tool_use.input`);
  }
  return parsed.value;
}

function convertToAnthropicTool(tool: unknown, i: number): JsonObject {
  if (!isRecord(tool) || tool.type !== 'function' || !isRecord(tool.function)) {
    throw unsupported(`tools[${i}].type=${isRecord(tool) ? String(tool.type) : typeof tool}`, 'only function tools');
  }
  const fn = tool.function;
  const name = asString(fn.name);
  if (name === undefined) throw new GatewayError('invalid_request', `tools[${i}].function.name is required`);
  const out: JsonObject = { name };
  const description = asString(fn.description);
  if (description !== undefined) out.description = description;
  // Anthropic requires an object schema; OpenAI allows omitting parameters for a no-argument function.
  out.input_schema = isRecord(fn.parameters) ? fn.parameters : { type: 'object', properties: {} };
  return out;
}

/**
 * OpenAI `tool_choice` + `parallel_tool_calls` → Anthropic `tool_choice`.
 * @see https://docs.anthropic.com/en/docs/agents-and-tools/tool-use/implement-tool-use#forcing-tool-use
 */
function convertToAnthropicToolChoice(choice: unknown, parallel: unknown, hasTools: boolean, warnings: string[]): JsonObject | undefined {
  const disableParallel = parallel === false;
  let out: JsonObject | undefined;
  if (choice === undefined || choice === null) out = hasTools && disableParallel ? { type: 'auto' } : undefined;
  else if (choice === 'auto') out = { type: 'auto' };
  else if (choice === 'required') out = { type: 'any' };
  else if (choice === 'none') return hasTools ? { type: 'none' } : undefined;
  else if (isRecord(choice) && choice.type === 'function' && isRecord(choice.function) && typeof choice.function.name === 'string') {
    out = { type: 'tool', name: choice.function.name };
  } else {
    throw unsupported(`tool_choice=${JSON.stringify(choice)}`);
  }
  if (out !== undefined && !hasTools) {
    warnings.push('dropped tool_choice: the request has no tools');
    return undefined;
  }
  if (out !== undefined && disableParallel) out.disable_parallel_tool_use = true;
  return out;
}
