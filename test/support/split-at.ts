/**
 * Cuts a string or byte buffer at the given positions (out-of-range and repeated ones ignored),
 * returning the non-empty pieces in order. Stream tests feed the pieces one at a time to prove
 * that where the network splits a stream does not matter (inside multi-byte characters too).
 */
export function splitAt(value: string, points: readonly number[]): string[];
export function splitAt(value: Buffer, points: readonly number[]): Buffer[];
export function splitAt(value: string | Buffer, points: readonly number[]): (string | Buffer)[] {
  const cuts = [...new Set(points)].filter((p) => p > 0 && p < value.length).sort((a, b) => a - b);
  const piece = (from: number, to?: number): string | Buffer => (typeof value === 'string' ? value.slice(from, to) : value.subarray(from, to));
  const out: (string | Buffer)[] = [];
  let prev = 0;
  for (const p of cuts) {
    out.push(piece(prev, p));
    prev = p;
  }
  out.push(piece(prev));
  return out.filter((f) => f.length > 0);
}
