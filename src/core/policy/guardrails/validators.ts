/**
 * Checksums and validity rules that turn regex candidates into findings. Regexes find shapes;
 * these decide whether a shape is really a card, an IBAN, an SSN, a JWT or a random secret.
 */

/** Luhn (mod 10) over a digit string. */
export function isLuhnValid(digits: string): boolean {
  let sum = 0;
  let double = false;
  for (let i = digits.length - 1; i >= 0; i--) {
    let d = digits.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return false;
    if (double) {
      d *= 2;
      if (d > 9) d -= 9;
    }
    sum += d;
    double = !double;
  }
  return sum % 10 === 0;
}

/** IBAN lengths by country (SWIFT IBAN registry). Unknown country codes are not IBANs. */
export const IBAN_LENGTHS: Readonly<Record<string, number>> = {
  AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BR: 29, BY: 28, CH: 21,
  CR: 22, CY: 28, CZ: 24, DE: 22, DK: 18, DO: 28, EE: 20, EG: 29, ES: 24, FI: 18, FO: 18, FR: 27,
  GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28, HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26,
  IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28, LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, MC: 27, MD: 24,
  ME: 22, MK: 19, MR: 27, MT: 31, MU: 30, NL: 18, NO: 15, PK: 24, PL: 28, PS: 29, PT: 25, QA: 29,
  RO: 24, RS: 22, SA: 24, SC: 31, SE: 24, SI: 19, SK: 24, SM: 27, ST: 25, SV: 28, TL: 23, TN: 24,
  TR: 26, UA: 29, VA: 22, VG: 24, XK: 20,
};

/** ISO 13616 mod-97 check over a compact (no spaces) upper-case IBAN. */
export function isIbanChecksumValid(iban: string): boolean {
  const rearranged = iban.slice(4) + iban.slice(0, 4);
  let rem = 0;
  for (let i = 0; i < rearranged.length; i++) {
    const c = rearranged.charCodeAt(i);
    if (c >= 48 && c <= 57) {
      rem = (rem * 10 + (c - 48)) % 97;
    } else if (c >= 65 && c <= 90) {
      rem = (rem * 100 + (c - 55)) % 97;
    } else {
      return false;
    }
  }
  return rem === 1;
}

/**
 * US SSN validity (SSA rules): area not 000, 666 or 900–999; group not 00; serial not 0000; and
 * not one of the numbers famously printed in advertising.
 */
export function isValidSsn(area: string, group: string, serial: string): boolean {
  const a = Number(area);
  if (a === 0 || a === 666 || a >= 900) return false;
  if (group === '00' || serial === '0000') return false;
  const whole = `${area}${group}${serial}`;
  return whole !== '078051120' && whole !== '219099999';
}

/** Shannon entropy in bits per character over the string's own character frequencies. */
export function shannonEntropy(s: string): number {
  if (s.length === 0) return 0;
  const counts = new Map<number, number>();
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    counts.set(c, (counts.get(c) ?? 0) + 1);
  }
  let h = 0;
  for (const n of counts.values()) {
    const p = n / s.length;
    h -= p * Math.log2(p);
  }
  return h;
}

/** How many of lower, upper, digit, other the string uses. */
export function charClassCount(s: string): number {
  let lower = 0;
  let upper = 0;
  let digit = 0;
  let other = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 97 && c <= 122) lower = 1;
    else if (c >= 65 && c <= 90) upper = 1;
    else if (c >= 48 && c <= 57) digit = 1;
    else other = 1;
  }
  return lower + upper + digit + other;
}

/** A JWT header segment decodes to a JSON object with a string `alg`. */
export function isJwtHeader(segment: string): boolean {
  const decoded = Buffer.from(segment, 'base64url').toString('utf8');
  // Cheap shape check first: parsing (and throwing) for every `eyJ…` blob is the slow path.
  if (decoded.charCodeAt(0) !== 123 || !decoded.includes('"alg"')) return false;
  try {
    const header: unknown = JSON.parse(decoded);
    return typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string';
  } catch {
    return false;
  }
}

/** Entropy floor for values of `password=` / `api_key:` / `secret:` / `token=` assignments. */
export const ASSIGNMENT_MIN_ENTROPY = 3.0;
/** Letters-only values must be longer and more random (they are usually identifiers). */
export const ASSIGNMENT_LETTERS_ONLY_MIN_LENGTH = 20;
export const ASSIGNMENT_LETTERS_ONLY_MIN_ENTROPY = 4.0;

const PLACEHOLDER_VALUE =
  /^(?:\$|%|<|\{\{|\$\{|process\.env|os\.environ|env\.|getenv|changeme|change_me|example|placeholder|redacted|your[_-]|xxx|\*\*\*|\.\.\.|null$|none$|undefined$|true$|false$|\[[A-Z_]+_\d+\]$)/i;
const DOTTED_IDENTIFIER = /^[A-Za-z_$][\w$]*(?:\.[A-Za-z_$][\w$]*)+$/;
const LETTERS_ONLY = /^[A-Za-z_]+$/;
const NUMBER_ONLY = /^[\d.,_-]+$/;

/**
 * Whether the value of a secret-looking assignment is a real secret rather than a reference,
 * a placeholder, a type name or an identifier. Threshold: Shannon entropy ≥ 3.0 bits/char over
 * ≥ 8 chars with at least one digit or symbol; letters-only values need ≥ 20 chars and ≥ 4.0 bits.
 */
export function isLikelySecretValue(value: string): boolean {
  if (value.length < 8) return false;
  if (PLACEHOLDER_VALUE.test(value) || DOTTED_IDENTIFIER.test(value) || NUMBER_ONLY.test(value)) return false;
  const h = shannonEntropy(value);
  if (LETTERS_ONLY.test(value)) {
    return value.length >= ASSIGNMENT_LETTERS_ONLY_MIN_LENGTH && h >= ASSIGNMENT_LETTERS_ONLY_MIN_ENTROPY;
  }
  return h >= ASSIGNMENT_MIN_ENTROPY && charClassCount(value) >= 2;
}
