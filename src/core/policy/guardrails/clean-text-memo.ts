/**
 * Texts one profile's guardrails have already scanned and found clean: no PII, no secret, no deny
 * rule. Coding agents resend the whole conversation on every turn (system prompt, tool
 * definitions, every earlier message), so without this a session rescans the same text on each
 * request, and the cost of a turn grows with the length of the conversation.
 *
 * Only clean texts are remembered: the memo never holds a value a detector found, and a text with
 * findings is scanned afresh each time, because redaction needs its findings anyway. It lives in
 * memory only, bounded, and belongs to one compiled profile (a new profile version starts empty).
 *
 * Long texts are looked up by length, then compared by content. A `Set` of strings would hash every
 * character of a fresh string on each lookup (about 1.4 ns per character here, a third of what the
 * scan itself costs); comparing two strings of the same length stops at their first difference and
 * otherwise runs at memory-compare speed. Short texts (a system prompt, a tool's description) are
 * kept in a `Set`: hashing a few hundred characters is cheap, and in a busy gateway their scan is
 * not. Each of the dozen regular-expression passes over a short text pays a fixed cost in cache
 * misses that a scan in isolation never shows (measured under load: remembering a 52-character
 * system prompt saved about 3 µs of CPU per request, 2 %, where a micro-benchmark scans it in 0.25 µs).
 *
 * Eviction is by generation: texts go into the current generation; when it holds half the character
 * budget, the older generation is dropped and the current one takes its place. A text found in the
 * older generation moves to the current one, so the text a session keeps resending stays.
 */
export class CleanTextMemo {
  private current: Generation;
  private previous: Generation;

  constructor(private readonly limits: CleanTextMemoLimits = DEFAULT_CLEAN_TEXT_MEMO_LIMITS) {
    this.current = new Generation(limits);
    this.previous = new Generation(limits);
  }

  has(text: string): boolean {
    if (this.current.has(text)) return true;
    if (!this.previous.has(text)) return false;
    this.add(text);
    return true;
  }

  /** Call only for a text the guardrails found clean. Huge texts are not kept. */
  add(text: string): void {
    const n = text.length;
    if (n === 0 || n > this.limits.maxTextLength) return;
    const charge = chargeOf(text, this.limits);
    if (this.current.chars + charge > this.limits.maxChars / 2) {
      this.previous = this.current;
      this.current = new Generation(this.limits);
    }
    this.current.add(text);
  }

  /**
   * Characters charged, both generations (a short text counts as at least `minCharge`): an upper
   * bound on what the memo holds, at 1–2 bytes each.
   */
  get chars(): number {
    return this.current.chars + this.previous.chars;
  }

  /** Texts held, both generations. */
  get size(): number {
    return this.current.size + this.previous.size;
  }
}

export interface CleanTextMemoLimits {
  /** Texts shorter than this are kept in a `Set` (hashed on lookup); longer ones by length. */
  readonly hashedBelow: number;
  /**
   * Characters a kept text is charged at least: a short text costs its entry and its string's
   * header too, so a flood of one-word texts cannot hold more than `maxChars / minCharge` entries.
   */
  readonly minCharge: number;
  /** Above this a text would take a large part of the budget by itself. */
  readonly maxTextLength: number;
  /** Characters held at most, both generations together. */
  readonly maxChars: number;
  /**
   * Texts of one length kept at most per generation: bounds the comparisons of a lookup (two texts
   * of one length that share a long opening compare up to where they differ).
   */
  readonly maxPerLength: number;
}

/** About 2–4 MB at most: a long agent conversation's history, in a process that idles near 75 MB. */
export const DEFAULT_CLEAN_TEXT_MEMO_LIMITS: CleanTextMemoLimits = {
  hashedBelow: 256,
  minCharge: 64,
  maxTextLength: 256 * 1024,
  maxChars: 2 * 1024 * 1024,
  maxPerLength: 8,
};

class Generation {
  private readonly byLength = new Map<number, string[]>();
  private readonly hashed = new Set<string>();
  chars = 0;
  size = 0;

  constructor(private readonly limits: CleanTextMemoLimits) {}

  has(text: string): boolean {
    if (text.length < this.limits.hashedBelow) return this.hashed.has(text);
    const sameLength = this.byLength.get(text.length);
    if (sameLength === undefined) return false;
    for (let i = 0; i < sameLength.length; i++) if (sameLength[i] === text) return true;
    return false;
  }

  add(text: string): void {
    if (text.length < this.limits.hashedBelow) {
      if (this.hashed.has(text)) return;
      this.hashed.add(text);
      this.chars += chargeOf(text, this.limits);
      this.size++;
      return;
    }
    let sameLength = this.byLength.get(text.length);
    if (sameLength === undefined) {
      sameLength = [];
      this.byLength.set(text.length, sameLength);
    } else if (this.has(text)) {
      return;
    } else if (sameLength.length >= this.limits.maxPerLength) {
      this.chars -= chargeOf(sameLength.shift()!, this.limits);
      this.size--;
    }
    sameLength.push(text);
    this.chars += chargeOf(text, this.limits);
    this.size++;
  }
}

/** What a kept text counts against the character budget: its length, at least `minCharge`. */
function chargeOf(text: string, limits: CleanTextMemoLimits): number {
  return Math.max(text.length, limits.minCharge);
}
