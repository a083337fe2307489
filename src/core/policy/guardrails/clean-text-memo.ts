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
 * Looked up by length, then compared by content. A `Map` keyed by the string would hash every
 * character of a fresh string on each lookup (about 1.4 ns per character here, a third of what the
 * scan itself costs); comparing two strings of the same length stops at their first difference and
 * otherwise runs at memory-compare speed.
 *
 * Eviction is by generation: texts go into the current generation; when it holds half the character
 * budget, the older generation is dropped and the current one takes its place. A text found in the
 * older generation moves to the current one, so the text a session keeps resending stays.
 */
export class CleanTextMemo {
  private current = new Generation();
  private previous = new Generation();

  constructor(private readonly limits: CleanTextMemoLimits = DEFAULT_CLEAN_TEXT_MEMO_LIMITS) {}

  has(text: string): boolean {
    if (text.length < this.limits.minLength) return false;
    if (this.current.has(text)) return true;
    if (!this.previous.has(text)) return false;
    this.add(text);
    return true;
  }

  /** Call only for a text the guardrails found clean. Short and huge texts are not kept. */
  add(text: string): void {
    const n = text.length;
    if (n < this.limits.minLength || n > this.limits.maxTextLength) return;
    if (this.current.chars + n > this.limits.maxChars / 2) {
      this.previous = this.current;
      this.current = new Generation();
    }
    this.current.add(text, this.limits.maxPerLength);
  }

  /** Characters held, both generations: what the memo costs in memory (1–2 bytes each). */
  get chars(): number {
    return this.current.chars + this.previous.chars;
  }
}

export interface CleanTextMemoLimits {
  /** Below this a scan costs about as much as a lookup. */
  readonly minLength: number;
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
  minLength: 256,
  maxTextLength: 256 * 1024,
  maxChars: 2 * 1024 * 1024,
  maxPerLength: 8,
};

class Generation {
  private readonly byLength = new Map<number, string[]>();
  chars = 0;

  has(text: string): boolean {
    const sameLength = this.byLength.get(text.length);
    if (sameLength === undefined) return false;
    for (let i = 0; i < sameLength.length; i++) if (sameLength[i] === text) return true;
    return false;
  }

  add(text: string, maxPerLength: number): void {
    let sameLength = this.byLength.get(text.length);
    if (sameLength === undefined) {
      sameLength = [];
      this.byLength.set(text.length, sameLength);
    } else if (this.has(text)) {
      return;
    } else if (sameLength.length >= maxPerLength) {
      this.chars -= sameLength.shift()!.length;
    }
    sameLength.push(text);
    this.chars += text.length;
  }
}
