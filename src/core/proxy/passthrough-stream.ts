import { createSseParser, serializeSseEvent, type SseEvent } from '../sse/sse-parser.js';
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
 * What makes an event worth parsing once content flows, per usage shape: one pass over each
 * complete-events region. A regular expression over the region's one-byte (latin1) copy is several
 * times cheaper than `Buffer#indexOf` per needle here: needles that start with `"` stop the
 * byte search at almost every byte of JSON. Latin1 keeps string offsets equal to byte offsets.
 */
const MARKERS: Record<UsageShape, RegExp | null> = {
  // Every include_usage chunk says `"usage":null`; only the last one carries an object. Compact
  // and spaced (`"usage": {`) JSON alike.
  'openai-chat': /"usage":\s*\{|"error"/g,
  anthropic: /"usage"|error/g,
  'openai-responses': /"usage"|error/g,
  none: null,
};

export function createPassthroughStream(tap: StreamTap, shape: UsageShape, opts: { dropUsageOnlyChunk: boolean }): PassthroughStream {
  const marker = MARKERS[shape];
  const drop = opts.dropUsageOnlyChunk;
  /** Bytes after the last complete event: the start of an event still arriving. */
  let carry: Buffer = EMPTY;
  let sawContent = false;
  /** A provider framing events with CR or CRLF: every event is parsed and re-serialised. */
  let crFraming = false;
  const fullParser = createSseParser();

  /** Full-parser path (CR framing) only. */
  function observe(events: SseEvent[]): SseEvent[] {
    for (const ev of events) if (tap.observe(ev)) sawContent = true;
    return events;
  }

  /** [start, end) of each event in `bytes` from `from` on (complete events) that holds a marker, in stream order. */
  function markedRanges(bytes: Buffer, from: number): [number, number][] {
    const ranges: [number, number][] = [];
    if (marker === null) return ranges;
    const text = bytes.toString('latin1', from);
    marker.lastIndex = 0;
    for (let hit = marker.exec(text); hit !== null; hit = marker.exec(text)) {
      const prev = text.lastIndexOf('\n\n', hit.index);
      const start = prev === -1 ? 0 : prev + 2;
      const endAt = text.indexOf('\n\n', hit.index);
      const end = endAt === -1 ? text.length : endAt + 2;
      ranges.push([from + start, from + end]);
      // One read per event, however many markers it holds.
      marker.lastIndex = end;
    }
    return ranges;
  }

  /**
   * Complete events (`bytes` starts and ends on an event boundary): observed when worth it,
   * forwarded raw, with the usage-only event cut out by its byte range when it must go. Before
   * the first content event, events are read one at a time so that a burst of a whole stream is
   * not parsed past its first token.
   */
  function completeEvents(bytes: Buffer): Buffer {
    let cuts: [number, number][] | null = null;
    const read = (start: number, end: number): void => {
      for (const ev of parseText(bytes.toString('utf8', start, end))) {
        if (tap.observe(ev)) sawContent = true;
        if (drop && isOpenAiUsageOnlyChunk(ev)) (cuts ??= []).push([start, end]);
      }
    };
    let pos = 0;
    while (!sawContent && pos < bytes.length) {
      const end = bytes.indexOf(EVENT_END, pos);
      const cut = end === -1 ? bytes.length : end + 2;
      read(pos, cut);
      pos = cut;
    }
    if (pos < bytes.length) for (const [start, end] of markedRanges(bytes, pos)) read(start, end);
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
    return [...parser.push(text), ...parser.end()];
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
      if (!crFraming && chunk.includes(CR)) {
        // Held-back bytes were never observed (nor, when dropping, sent): the full parser takes them.
        crFraming = true;
        const held = carry;
        carry = EMPTY;
        const events = observe(fullParser.push(held.length === 0 ? chunk : Buffer.concat([held, chunk])));
        return drop ? withoutUsageChunk(events) : chunk;
      }
      if (crFraming) {
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
      if (crFraming) {
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
