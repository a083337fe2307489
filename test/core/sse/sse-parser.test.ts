import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { createSseParser, serializeSseEvent, type SseEvent } from '../../../src/core/sse/sse-parser.js';

const line = fc.string({ unit: fc.oneof(fc.constant('é'), fc.constant('東'), fc.constant('😀'), fc.constant(':'), fc.constant(' '), fc.string({ minLength: 1, maxLength: 1, unit: 'grapheme-ascii' })), maxLength: 12 })
  .filter((s) => !s.includes('\n') && !s.includes('\r'));
const event: fc.Arbitrary<SseEvent> = fc.record(
  { event: fc.stringMatching(/^[a-z_]{1,12}$/), data: fc.array(line, { minLength: 1, maxLength: 3 }).map((ls) => ls.join('\n')) },
  { requiredKeys: ['data'] },
);

function parseWhole(bytes: Uint8Array): SseEvent[] {
  const p = createSseParser();
  return [...p.push(bytes), ...p.end()];
}

function parseCut(bytes: Uint8Array, cuts: number[]): SseEvent[] {
  const p = createSseParser();
  const points = [...new Set(cuts.map((c) => Math.floor(c * bytes.length)))].sort((a, b) => a - b);
  const out: SseEvent[] = [];
  let prev = 0;
  for (const point of [...points, bytes.length]) {
    out.push(...p.push(bytes.subarray(prev, point)));
    prev = point;
  }
  return [...out, ...p.end()];
}

describe('createSseParser', () => {
  it('parses input cut at arbitrary byte boundaries (inside UTF-8 characters and CRLF too) identically', () => {
    fc.assert(
      fc.property(fc.array(event, { maxLength: 6 }), fc.array(fc.double({ min: 0, max: 1, noNaN: true }), { maxLength: 12 }), fc.boolean(), (events, cuts, crlf) => {
        let text = events.map(serializeSseEvent).join('');
        if (crlf) text = text.replace(/\n/g, '\r\n');
        const bytes = new TextEncoder().encode(text);
        const whole = parseWhole(bytes);
        expect(whole).toEqual(events);
        expect(parseCut(bytes, cuts)).toEqual(whole);
      }),
      { numRuns: 500 },
    );
  });

  it('follows the field rules: comments, a field without a colon, one optional space, id, retry, unknown fields', () => {
    const text = [
      ': a comment',
      'data',
      'data:x',
      'data:  two spaces',
      'event:name',
      'id: 7',
      'retry: 3000',
      'retry: soon',
      'dat: short',
      'datax: long',
      'foo: bar',
      '',
      'event',
      'id: a\u0000b',
      'data: y',
      '',
      '',
    ].join('\n');
    const expected = [
      { data: '\nx\n two spaces', event: 'name', id: '7', retry: 3000 },
      // The last event id stays until another valid one; an id with NUL is ignored.
      { data: 'y', event: '', id: '7' },
    ];
    expect(parseWhole(new TextEncoder().encode(text))).toEqual(expected);
    expect(parseWhole(new TextEncoder().encode(text.replace(/\n/g, '\r')))).toEqual(expected);
  });

  it('stays linear in a chunk of many lines without a colon (each line must not rescan the rest)', () => {
    // 600 000 colon-less lines before the only colon: searching from each line start would scan
    // ~5·10¹¹ characters (seconds even at memchr speed); read once, it is 1.8 MB.
    const text = `${'xx\n'.repeat(600_000)}data: end\n\n`;
    const t0 = performance.now();
    expect(parseWhole(new TextEncoder().encode(text))).toEqual([{ data: 'end' }]);
    expect(performance.now() - t0).toBeLessThan(2_000);
  });

  it('cuts every byte position of a multi-byte sample', () => {
    const bytes = new TextEncoder().encode('event: x\ndata: 東京😀é\n\ndata: [DONE]\n\n');
    const expected = [{ event: 'x', data: '東京😀é' }, { data: '[DONE]' }];
    for (let i = 0; i <= bytes.length; i++) expect(parseCut(bytes, [i / bytes.length])).toEqual(expected);
  });

  it('drops a leading byte-order mark, even when it arrives cut, and only at the start of the stream', () => {
    const bytes = new Uint8Array([0xef, 0xbb, 0xbf, ...new TextEncoder().encode('data: a\n\ndata: \ufeffb\n\n')]);
    const expected = [{ data: 'a' }, { data: '\ufeffb' }];
    for (let i = 0; i <= 4; i++) expect(parseCut(bytes, [i / bytes.length])).toEqual(expected);
  });

  it('ends a stream cut inside a multi-byte character with a replacement character, not an exception', () => {
    const bytes = new TextEncoder().encode('data: 東');
    expect(parseWhole(bytes.subarray(0, bytes.length - 1))).toEqual([{ data: '\ufffd' }]);
  });
});
