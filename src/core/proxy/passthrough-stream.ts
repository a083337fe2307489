import { createSseParser, serializeSseEvent, type SseEvent, type SseParser } from '../sse/sse-parser.js';
import { isOpenAiUsageOnlyChunk, type StreamTap } from './stream-tap.js';
import type { UsageShape } from './usage.js';

/**
 * A same-format stream on its way to the client. Bytes are forwarded as the provider sent them;
 * the tap still sees every event it needs (usage, errors, the first content for TTFT) without
 * the gateway parsing every event of every stream: once content has started, an upstream chunk
 * is parsed only if it holds a byte pattern the tap cares about.
 *
 * With `dropUsageOnlyChunk` (an OpenAI stream whose usage the gateway asked for on the client's
 * behalf), bytes are forwarded up to the last complete event, so that the usage-only event can
 * be cut out whole.
 */
export interface PassthroughStream {
  /** What to send the client for this upstream chunk (possibly empty). */
  push(chunk: Buffer): Buffer | string;
  /** What is left at the end of the upstream stream. */
  end(): Buffer | string;
  /** Whether generated content has been seen (time to first token). */
  readonly sawContent: boolean;
}

const EVENT_END = Buffer.from('\n\n');
const CR = 13;
const EMPTY = Buffer.alloc(0);

/**
 * Which events are worth parsing, per usage shape: one regular-expression pass over each
 * complete-events region finds them. A regular expression over the region's one-byte (latin1) copy
 * is several times cheaper than `Buffer#indexOf` per needle here: needles that start with `"` stop
 * the byte search at almost every byte of JSON. Latin1 keeps string offsets equal to byte offsets,
 * and the markers are ASCII, which no byte of a multi-byte UTF-8 character can imitate.
 *
 * Each pattern matches at least every event its tap acts on (`createStreamTap`): usage, errors
 * and, until content has started, the events that can carry content. An event's JSON cannot hold
 * a raw newline inside a token, so a pattern found in the event's data is found in its bytes too.
 */
interface EventMarkers {
  beforeContent: RegExp;
  afterContent: RegExp;
}

const MARKERS: Record<UsageShape, EventMarkers | null> = {
  // Every include_usage chunk says `"usage":null`; only the last one carries an object. Compact
  // and spaced (`"usage": {`) JSON alike. Content is a non-empty `content` string or tool calls.
  'openai-chat': { beforeContent: /"usage":\s*\{|"error"|"tool_calls":\[|"content":"(?!")/g, afterContent: /"usage":\s*\{|"error"/g },
  anthropic: { beforeContent: /"usage"|error|content_block_delta/g, afterContent: /"usage"|error/g },
  'openai-responses': { beforeContent: /"usage"|error|\.delta/g, afterContent: /"usage"|error/g },
  none: null,
};

export function createPassthroughStream(tap: StreamTap, shape: UsageShape, opts: { dropUsageOnlyChunk: boolean }): PassthroughStream {
  const markers = MARKERS[shape];
  const drop = opts.dropUsageOnlyChunk;
  /** Bytes after the last complete event: the start of an event still arriving. */
  let carry: Buffer = EMPTY;
  let sawContent = false;
  /** Set once a provider frames events with CR or CRLF: from then on every event is parsed and re-serialised. */
  let fullParser: SseParser | null = null;

  /** Full-parser path (CR framing) only. */
  function observe(events: SseEvent[]): SseEvent[] {
    for (const ev of events) if (tap.observe(ev)) sawContent = true;
    return events;
  }

  /**
   * Complete events (`bytes` starts and ends on an event boundary): the marked ones observed, in
   * stream order, all forwarded raw, with the usage-only event cut out by its byte range when it
   * must go. Until content starts, events that may carry it are read too, one at a time, so that a
   * burst of a whole stream is read up to its first token and then only where a marker is.
   */
  function completeEvents(bytes: Buffer): Buffer {
    if (markers === null) return bytes;
    let cuts: [number, number][] | null = null;
    const text = bytes.toString('latin1');
    let marker = sawContent ? markers.afterContent : markers.beforeContent;
    marker.lastIndex = 0;
    for (let hit = marker.exec(text); hit !== null; hit = marker.exec(text)) {
      const prev = text.lastIndexOf('\n\n', hit.index);
      const start = prev === -1 ? 0 : prev + 2;
      const endAt = text.indexOf('\n\n', hit.index);
      const end = endAt === -1 ? text.length : endAt + 2;
      for (const ev of parseText(bytes.toString('utf8', start, end))) {
        if (tap.observe(ev)) sawContent = true;
        if (drop && isOpenAiUsageOnlyChunk(ev)) (cuts ??= []).push([start, end]);
      }
      // One read per event, however many markers it holds.
      marker = sawContent ? markers.afterContent : markers.beforeContent;
      marker.lastIndex = end;
    }
    if (cuts === null) return bytes;
    const kept: Buffer[] = [];
    let at = 0;
    for (const [start, end] of cuts as [number, number][]) {
      if (start > at) kept.push(bytes.subarray(at, start));
      at = end;
    }
    if (at < bytes.length) kept.push(bytes.subarray(at));
    return Buffer.concat(kept);
  }

  /** Complete events held as text: no streaming decoder needed. */
  function parseText(text: string): SseEvent[] {
    const parser = createSseParser();
    const events = parser.push(text);
    const last = parser.end();
    return last.length === 0 ? events : events.concat(last);
  }

  function withoutUsageChunk(events: SseEvent[]): string {
    let out = '';
    for (const ev of events) if (!isOpenAiUsageOnlyChunk(ev)) out += serializeSseEvent(ev);
    return out;
  }

  return {
    get sawContent() {
      return sawContent;
    },
    push(chunk) {
      if (fullParser === null && chunk.includes(CR)) {
        // Held-back bytes were never observed (nor, when dropping, sent): the full parser takes them.
        const held = carry;
        carry = EMPTY;
        fullParser = createSseParser();
        const events = observe(fullParser.push(held.length === 0 ? chunk : Buffer.concat([held, chunk])));
        return drop ? withoutUsageChunk(events) : chunk;
      }
      if (fullParser !== null) {
        const events = observe(fullParser.push(chunk));
        return drop ? withoutUsageChunk(events) : chunk;
      }
      const data = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
      const boundary = data.lastIndexOf(EVENT_END);
      if (boundary === -1) {
        carry = data;
        return drop ? EMPTY : chunk;
      }
      const complete = data.subarray(0, boundary + 2);
      carry = data.subarray(boundary + 2);
      const out = completeEvents(complete);
      return drop ? out : chunk;
    },
    end() {
      if (fullParser !== null) {
        const events = observe(fullParser.end());
        return drop ? withoutUsageChunk(events) : EMPTY;
      }
      const rest = carry;
      carry = EMPTY;
      if (rest.length === 0) return EMPTY;
      const out = completeEvents(rest);
      return drop ? out : EMPTY;
    },
  };
}
