import {
  IBAN_LENGTHS,
  charClassCount,
  isIbanChecksumValid,
  isJwtHeader,
  isLikelySecretValue,
  isLuhnValid,
  isValidSsn,
  shannonEntropy,
} from './validators.js';

/**
 * Detectors for PII and secrets in one string. Each detector is one regex pass that finds
 * candidate shapes (with a cheap pre-check that skips the pass when the text cannot match), and a
 * validator that confirms the candidate (Luhn, mod-97, SSA rules, JWT header, entropy).
 * Overlapping findings are resolved by priority (a key inside an assignment is the key, a card is
 * not also a phone number).
 */

export type PiiKind = 'EMAIL' | 'PHONE' | 'CARD' | 'IBAN' | 'SSN' | 'IPV4';
export type SecretKind =
  | 'PRIVATE_KEY'
  | 'AWS_ACCESS_KEY'
  | 'AWS_SECRET_KEY'
  | 'GITHUB_TOKEN'
  | 'ANTHROPIC_KEY'
  | 'OPENAI_KEY'
  | 'MISTRAL_KEY'
  | 'SLACK_TOKEN'
  | 'STRIPE_KEY'
  | 'JWT'
  | 'SECRET';
export type FindingKind = PiiKind | SecretKind;
export type FindingCategory = 'pii' | 'secrets';

export interface Finding {
  start: number;
  end: number;
  kind: FindingKind;
  category: FindingCategory;
  /** The identity of the value for placeholder numbering (e.g. an email lower-cased, a card's digits). */
  key: string;
}

const PRIORITY: Readonly<Record<FindingKind, number>> = {
  PRIVATE_KEY: 100,
  AWS_ACCESS_KEY: 90,
  GITHUB_TOKEN: 90,
  ANTHROPIC_KEY: 90,
  OPENAI_KEY: 90,
  SLACK_TOKEN: 90,
  STRIPE_KEY: 90,
  AWS_SECRET_KEY: 85,
  MISTRAL_KEY: 85,
  JWT: 80,
  SECRET: 70,
  CARD: 60,
  IBAN: 55,
  SSN: 50,
  EMAIL: 45,
  PHONE: 40,
  IPV4: 35,
};

function isWordChar(text: string, i: number): boolean {
  const c = text.charCodeAt(i); // NaN out of range
  return (c >= 48 && c <= 57) || (c >= 65 && c <= 90) || (c >= 97 && c <= 122) || c === 95;
}
function isDigitAt(text: string, i: number): boolean {
  const c = text.charCodeAt(i);
  return c >= 48 && c <= 57;
}
function digitsOf(s: string): string {
  return s.replace(/\D/g, '');
}

// ---------------------------------------------------------------- PII

/**
 * Cards: 13–19 digits, optionally grouped by single spaces or dashes (one separator style; groups
 * of four, or Amex/Diners 4-6-5 / 4-6-4), first digit 2–6 (the networks' IIN ranges), Luhn-valid,
 * not all one digit.
 */
const CARD_RE = /\b\d(?:[ -]?\d){12,18}\b/g;
function isCardShape(raw: string): boolean {
  const digits = digitsOf(raw);
  if (digits.length < 13 || digits.length > 19) return false;
  const first = digits.charCodeAt(0) - 48;
  if (first < 2 || first > 6) return false;
  if (/^(\d)\1+$/.test(digits)) return false;
  const hasSpace = raw.includes(' ');
  const hasDash = raw.includes('-');
  if (hasSpace && hasDash) return false;
  if (hasSpace || hasDash) {
    const groups = raw.split(hasSpace ? ' ' : '-').map((g) => g.length);
    const fours = groups.slice(0, -1).every((g) => g === 4) && (groups.at(-1) ?? 0) <= 4;
    const amex = groups.length === 3 && groups[0] === 4 && groups[1] === 6 && (groups[2] === 5 || groups[2] === 4);
    if (!fours && !amex) return false;
  }
  return isLuhnValid(digits);
}

/** SSN: 3-2-4 digits with dashes (or spaces), valid per SSA rules. Nine bare digits are not flagged. */
const SSN_RE = /\b(\d{3})([- ])(\d{2})\2(\d{4})\b/g;

/**
 * IPv4: four decimal octets 0–255 without leading zeros, not part of a longer dotted number
 * (versions, OIDs) and not preceded by `v`. Loopback (127/8), 0.0.0.0 and 255.255.255.255 are
 * not flagged: they identify no one. Private ranges are flagged (they map internal networks).
 */
const OCTET = '(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)';
const IPV4_RE = new RegExp(`\\b${OCTET}(?:\\.${OCTET}){3}\\b`, 'g');
function isReportableIpv4(text: string, start: number, end: number, ip: string): boolean {
  const before = text[start - 1];
  if (before === '.' || before === 'v' || before === 'V') return false;
  if (text[end] === '.' && isDigitAt(text, end + 1)) return false;
  return !(ip.startsWith('127.') || ip === '0.0.0.0' || ip === '255.255.255.255');
}

/**
 * Phones. Shapes, each needing separators so plain numbers, ids and timestamps are not phones:
 *  - international: `+` country code then groups (E.164 up to 15 digits), e.g. +44 20 7946 0958, +14155552671
 *  - US: (555) 123-4567, 555-123-4567, 555.123.4567
 *  - national trunk-prefix forms (UK, FR, DE, …): 020 7946 0958, 06 12 34 56 78, 030 12345678, 089/1234567
 * Then: 8–15 digits for `+` forms, 10–12 for national ones; dates (01.02.2024) rejected.
 */
const PHONE_RE =
  /(?:\+\d{1,3}[ .-]?(?:\(\d{1,4}\)[ .-]?)?\d{1,4}(?:[ .-]?\d{2,4}){1,5}|\(\d{3}\) ?\d{3}[-. ]\d{4}|\b\d{3}[-.]\d{3}[-.]\d{4}|\b0\d{1,4}(?:[ ./-]\d{2,8}){1,4})(?!\d|\.\d)/g;
const DATE_LIKE = /^\d{1,4}[./-]\d{1,2}[./-]\d{1,4}$/;
function isPhoneShape(text: string, start: number, raw: string): boolean {
  const before = text[start - 1];
  if (before !== undefined && (isDigitAt(text, start - 1) || before === '.' || /[A-Za-z_]/.test(before))) return false;
  const digits = digitsOf(raw);
  if (raw.startsWith('+')) return digits.length >= 8 && digits.length <= 15;
  if (raw.startsWith('(') || raw.charCodeAt(0) !== 48) return digits.length === 10;
  if (DATE_LIKE.test(raw)) return false;
  return digits.length >= 10 && digits.length <= 12;
}

/** IBAN: country code + check digits + BBAN (optionally in groups of 4), length per country, mod-97. */
const IBAN_RE = /\b[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?\b/g;
function matchIban(raw: string): { length: number; compact: string } | undefined {
  const expected = IBAN_LENGTHS[raw.slice(0, 2)];
  if (expected === undefined) return undefined;
  let compact = '';
  let i = 0;
  for (; i < raw.length && compact.length < expected; i++) {
    const ch = raw[i];
    if (ch !== ' ') compact += ch;
  }
  if (compact.length !== expected || !isIbanChecksumValid(compact)) return undefined;
  return { length: i, compact };
}

/**
 * Emails: found from each `@` outward (no backtracking regex over the whole text). The domain
 * needs a dot and an alphabetic TLD; file-like TLDs (`icon@2x.png`) and SSH remotes (`git@host`)
 * are not addresses.
 */
function charTable(chars: string): Uint8Array {
  const t = new Uint8Array(128);
  for (let i = 0; i < chars.length; i++) t[chars.charCodeAt(i)] = 1;
  return t;
}
const ALNUM = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789';
const LOCAL_CHARS = charTable(`${ALNUM}._%+-`);
const DOMAIN_CHARS = charTable(`${ALNUM}.-`);
const isIn = (table: Uint8Array, code: number): boolean => code < 128 && table[code] === 1;
const FILE_TLDS = new Set(['png', 'jpg', 'jpeg', 'gif', 'svg', 'webp', 'js', 'ts', 'css', 'json', 'md', 'py', 'txt', 'html']);
function findEmails(text: string, out: Finding[]): void {
  for (let at = text.indexOf('@'); at !== -1; at = text.indexOf('@', at + 1)) {
    let s = at;
    while (s > 0 && isIn(LOCAL_CHARS, text.charCodeAt(s - 1))) s--;
    let e = at + 1;
    while (e < text.length && isIn(DOMAIN_CHARS, text.charCodeAt(e))) e++;
    while (s < at && text[s] === '.') s++;
    while (e > at + 1 && (text[e - 1] === '.' || text[e - 1] === '-')) e--;
    if (s === at || e === at + 1) continue;
    const local = text.slice(s, at);
    const domain = text.slice(at + 1, e);
    const dot = domain.lastIndexOf('.');
    if (dot <= 0) continue;
    const tld = domain.slice(dot + 1);
    if (!/^[A-Za-z]{2,24}$/.test(tld) || FILE_TLDS.has(tld.toLowerCase())) continue;
    if (local === 'git' || local.endsWith('.')) continue;
    out.push({ start: s, end: e, kind: 'EMAIL', category: 'pii', key: `${local}@${domain}`.toLowerCase() });
  }
}

const NO_MATCHES: readonly RegExpExecArray[] = [];

/**
 * Every match of a global `re` in `text`, as `text.matchAll(re)` gives them, without the copy of
 * the regular expression `matchAll` makes on each call (measured: about a fifth of a scan's cost
 * on a 1 KB prompt, where most scans find nothing).
 */
function allMatches(re: RegExp, text: string): readonly RegExpExecArray[] {
  re.lastIndex = 0;
  let m = re.exec(text);
  if (m === null) return NO_MATCHES;
  const out: RegExpExecArray[] = [];
  for (; m !== null; m = re.exec(text)) {
    out.push(m);
    if (m[0].length === 0) re.lastIndex++;
  }
  return out;
}

/**
 * Every card, SSN and phone number has at least eight digits, each at most two separator
 * characters (` ./()-`) from the next. Text without eight such digits in a row holds none of
 * them, and most prompts (prose, code with short numbers, versions) have none: one cheap pass
 * then stands in for three. Written out eight digits long rather than as `(?:…){7}`: the same
 * language, but irregexp can then skip ahead instead of trying every position (measured 5× faster
 * on a 1 KB prompt).
 */
const DIGIT_RUN = new RegExp(`\\d${'[ ./()-]{0,2}\\d'.repeat(7)}`);

export function findPii(text: string, out: Finding[]): void {
  if (text.includes('@')) findEmails(text, out);
  // No "any digit at all?" pre-check: finding the first digit costs more than the IPv4 and IBAN
  // passes it would save, and the digit-run check below is cheaper still.
  const hasDigitRun = DIGIT_RUN.test(text);

  if (hasDigitRun) {
    for (const m of allMatches(CARD_RE, text)) {
      if (isCardShape(m[0])) out.push({ start: m.index, end: m.index + m[0].length, kind: 'CARD', category: 'pii', key: digitsOf(m[0]) });
    }
  }
  if (hasDigitRun && (text.includes('-') || text.includes(' '))) {
    for (const m of allMatches(SSN_RE, text)) {
      if (isValidSsn(m[1] ?? '', m[3] ?? '', m[4] ?? '')) {
        out.push({ start: m.index, end: m.index + m[0].length, kind: 'SSN', category: 'pii', key: digitsOf(m[0]) });
      }
    }
  }
  if (text.includes('.')) {
    for (const m of allMatches(IPV4_RE, text)) {
      const end = m.index + m[0].length;
      if (isReportableIpv4(text, m.index, end, m[0])) out.push({ start: m.index, end, kind: 'IPV4', category: 'pii', key: m[0] });
    }
  }
  if (hasDigitRun) {
    for (const m of allMatches(PHONE_RE, text)) {
      if (isPhoneShape(text, m.index, m[0])) {
        out.push({ start: m.index, end: m.index + m[0].length, kind: 'PHONE', category: 'pii', key: digitsOf(m[0]) });
      }
    }
  }
  for (const m of allMatches(IBAN_RE, text)) {
    const iban = matchIban(m[0]);
    if (iban) out.push({ start: m.index, end: m.index + iban.length, kind: 'IBAN', category: 'pii', key: iban.compact });
  }
}

// ---------------------------------------------------------------- secrets

/**
 * Prefixed credentials. Boundaries are checked in code rather than with a per-position lookbehind:
 * the character before a match must not be a word character (`task-…` is not an `sk-` key).
 *
 * One alternation of all prefixes, split in two regexes: GitHub's `gh…_` next to the others stops
 * irregexp from skipping ahead. On a 1 KB prompt the other prefixes' pass costs under a third of
 * the single one, both passes about half (measured; `indexOf` per prefix and a sticky regex were
 * slower still, `s`, `g`, `e` being common letters). Text without a GitHub prefix skips their
 * pass (`mayHoldGithubToken`), which code full of `snake_case` would otherwise run every time.
 * `prefixedSecretMatches` merges the two into exactly the matches the single alternation gives:
 * the groups never match at the same index (their first letters differ).
 */
export const PREFIXED_SECRET_GROUPS: readonly [RegExp, RegExp] = [
  /(?:AKIA|ASIA)[A-Z0-9]{16}(?![A-Za-z0-9])|sk-ant-[A-Za-z0-9_-]{32,}|sk-(?:proj-|svcacct-|admin-)?[A-Za-z0-9_-]{20,}|xox[abprs]-[A-Za-z0-9-]{10,}|[rs]k_(?:live|test)_[A-Za-z0-9]{16,}|eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}/g,
  /gh[pousr]_[A-Za-z0-9]{36,251}|github_pat_[A-Za-z0-9_]{22,244}/g,
];

export function prefixedSecretMatches(text: string): readonly RegExpExecArray[] {
  const [common, github] = PREFIXED_SECRET_GROUPS;
  if (!mayHoldGithubToken(text)) return allMatches(common, text);
  return leftmostMatches(common, github, text);
}

/**
 * Whether `text` has a GitHub token's prefix (every match of the GitHub group starts with one):
 * `gh` + one of `pousr` + `_`, or `github_pat_`. Text without a `_` is ruled out by one fast
 * search; otherwise each `gh` is looked at, which is rare in code (measured on 1 KB of Python full
 * of `snake_case`: 0.15 µs, where the GitHub pass costs 0.35 µs).
 */
export function mayHoldGithubToken(text: string): boolean {
  if (!text.includes('_')) return false;
  // `gh` cannot start again at i + 1, where the `h` is.
  for (let i = text.indexOf('gh'); i !== -1; i = text.indexOf('gh', i + 2)) {
    if (text.charCodeAt(i + 3) !== 95 /* _ */) continue;
    const kind = text.charCodeAt(i + 2);
    if (kind === 112 /* p */ || kind === 111 /* o */ || kind === 117 /* u */ || kind === 115 /* s */ || kind === 114 /* r */) return true;
  }
  return text.includes('github_pat_');
}

/**
 * The matches of `a|b` from separate global regexes `a` and `b` that never match (non-empty) at
 * the same index: scanning on from the end of each match taken, as the single regex would, so a
 * match of one that starts inside a match of the other is not reported.
 */
function leftmostMatches(a: RegExp, b: RegExp, text: string): readonly RegExpExecArray[] {
  a.lastIndex = 0;
  b.lastIndex = 0;
  let nextA = a.exec(text);
  let nextB = b.exec(text);
  const out: RegExpExecArray[] = [];
  while (nextA !== null || nextB !== null) {
    const m = nextB === null || (nextA !== null && nextA.index < nextB.index) ? (nextA as RegExpExecArray) : nextB;
    out.push(m);
    const end = m.index + m[0].length;
    if (nextA !== null && nextA.index < end) {
      a.lastIndex = end;
      nextA = a.exec(text);
    }
    if (nextB !== null && nextB.index < end) {
      b.lastIndex = end;
      nextB = b.exec(text);
    }
  }
  return out;
}

function classifyPrefixed(raw: string): SecretKind | undefined {
  switch (raw.charCodeAt(0)) {
    case 65 /* A */:
      return 'AWS_ACCESS_KEY';
    case 103 /* g */:
      return 'GITHUB_TOKEN';
    case 120 /* x */:
      return 'SLACK_TOKEN';
    case 114 /* r */:
      return 'STRIPE_KEY';
    case 101 /* e */: {
      const header = raw.slice(0, raw.indexOf('.'));
      return isJwtHeader(header) ? 'JWT' : undefined;
    }
    case 115 /* s */: {
      if (raw[2] === '_') return 'STRIPE_KEY';
      if (raw.startsWith('sk-ant-')) return charClassCount(raw.slice(7)) >= 3 ? 'ANTHROPIC_KEY' : undefined;
      // Real keys mix cases and digits; `sk-this-is-a-long-slug` is not one.
      return charClassCount(raw.slice(3).replace(/[-_]/g, '')) >= 3 ? 'OPENAI_KEY' : undefined;
    }
    default:
      return undefined;
  }
}

const PRIVATE_KEY_RE =
  /-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----[\s\S]*?(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY(?: BLOCK)?-----|$)/g;

/**
 * The secret-sounding names alone: ASSIGNMENT_RE is built on them, and its pre-check looks for
 * them. Grouped by first letter (`p(?:ass…|wd|rivate…)`): the same names, but irregexp then rejects
 * a position sooner (measured 8 % faster on a 1 KB prompt, 15 % on 20 KB of code).
 */
const SECRET_NAME_RE = /p(?:ass(?:word|wd|phrase)|wd|rivate[_-]?key)|secret|token|a(?:pi[_-]?key|ccess[_-]?key)|credentials?/i;
/**
 * `password=…`, `api_key: …`, `"secret": "…"`, `DB_PASSWORD=…`, `token => …` (also inside
 * JSON-escaped strings). The value is flagged only if `isLikelySecretValue` (entropy) agrees.
 */
export const ASSIGNMENT_RE = new RegExp(
  `(?:${SECRET_NAME_RE.source})[\\w.-]{0,40}\\\\?["']?\\s*(?:=>|:=|[:=])\\s*\\\\?["']?([^\\s"'\`,;(){}[\\]<>\\\\]{8,512})`,
  'gi',
);
/** How far before the operator a name may start: the 40 characters `[\w.-]{0,40}` allows after it, plus the longest name. */
const SECRET_NAME_REACH = 40 + 'credentials'.length;

/** AWS secret access keys: 40 base64 chars in an assignment whose name mentions aws … secret. */
export const AWS_SECRET_RE = /aws[\w .-]{0,24}?secret[\w.-]{0,24}\\?["']?\s*(?:=>|[:=])\s*\\?["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi;

/**
 * Mistral keys have no prefix: 32 alphanumerics. Flagged only in a Mistral context (the word
 * `mistral` at most 24 characters before the `:`/`=`, e.g. `MISTRAL_API_KEY=…`, `"mistral key": "…"`)
 * and only with digits and letters mixed and entropy ≥ 3.0 bits/char.
 */
export const MISTRAL_KEY_RE = /mistral[\w .-]{0,24}?\\?["']?\s*(?:=>|[:=])\s*\\?["']?([A-Za-z0-9]{32})(?![A-Za-z0-9])/gi;
/** One pass to learn that neither context word is there (the rule), two only when one is. */
const HAS_AWS_OR_MISTRAL = /aws|mistral/i;
const HAS_AWS = /aws/i;
const HAS_MISTRAL = /mistral/i;

/** `assignmentShapes` bits: ASSIGNMENT_RE may match; AWS_SECRET_RE or MISTRAL_KEY_RE may match. A bit unset rules its patterns out. */
export const NAMED_ASSIGNMENT = 1;
export const LONG_ASSIGNED_VALUE = 2;
/**
 * Looking at an operator costs what the passes cost on some 20-40 characters (measured: 25-50 ns
 * against ~1.3 ns per character), and code often names tokens or passwords near an operator, so
 * that the passes run anyway. Text with 16 operators in under 1 KB (code, JSON) is therefore
 * handed to the passes as soon as that shows; prose has a few per KB.
 */
const DENSITY_CHECK_EVERY = 16;
const DENSE_SPAN = 1024;

/**
 * Which assignment patterns could match `text`. Every one needs an operator (`=`, `:`, `=>`,
 * `:=`) followed, past the spaces, backslash and quote the patterns allow, by a run of value
 * characters: 8 for a named assignment, 32 for an AWS or Mistral key. A named assignment also
 * needs a secret's name in the word just before the operator. Prose and most code have neither:
 * their operators come before short values (`url: string`, `attempts = 3`) or after words that
 * name no secret (`Summary: deployment`). Finding that out with `indexOf` and a look at each
 * operator costs a third of the passes it spares on a 1 KB prompt (measured 0.3-0.5 µs against
 * 1.3 µs; more under load, where each regex pass starts cold).
 * Never says no where a pattern matches (a property test holds it to the three regexes).
 */
export function assignmentShapes(text: string): number {
  let longValue = false;
  let spanStart = 0;
  let eq = text.indexOf('=');
  let colon = text.indexOf(':');
  while (eq !== -1 || colon !== -1) {
    // The next operators by position alone, so that dense text is handed over before any is looked at.
    let count = 0;
    while (count < DENSITY_CHECK_EVERY && (eq !== -1 || colon !== -1)) {
      if (colon === -1 || (eq !== -1 && eq < colon)) {
        operatorScratch[count++] = eq;
        eq = text.indexOf('=', eq + 1);
      } else {
        operatorScratch[count++] = colon;
        colon = text.indexOf(':', colon + 1);
      }
    }
    if (count === DENSITY_CHECK_EVERY) {
      const last = operatorScratch[count - 1]!;
      if (last - spanStart < DENSE_SPAN) return NAMED_ASSIGNMENT | LONG_ASSIGNED_VALUE;
      spanStart = last;
    }
    for (let k = 0; k < count; k++) {
      const op = operatorScratch[k]!;
      // Only as far as a shape still unknown needs.
      const need = longValue ? SHORTEST_ASSIGNED_VALUE : LONG_VALUE_RUN;
      // `=>` and `:=` may also be the operator: the value may start after either character.
      const second = text.charCodeAt(op + 1);
      const twoChars = (second === 62 /* > */ && text.charCodeAt(op) === 61) || (second === 61 /* = */ && text.charCodeAt(op) === 58);
      const run = Math.max(valueRunAfter(text, op + 1, need), twoChars ? valueRunAfter(text, op + 2, need) : 0);
      // Once the named pass runs, the AWS and Mistral one (a quarter of its cost) is not worth sparing.
      if (run >= SHORTEST_ASSIGNED_VALUE && secretNameBefore(text, op)) return NAMED_ASSIGNMENT | LONG_ASSIGNED_VALUE;
      if (run >= LONG_VALUE_RUN) longValue = true;
    }
  }
  return longValue ? LONG_ASSIGNED_VALUE : 0;
}
/** Positions of the operators being looked at; the scan is synchronous, so one buffer serves every call. */
const operatorScratch = new Int32Array(DENSITY_CHECK_EVERY);

/** The shortest value ASSIGNMENT_RE takes (`{8,512}`), and the shortest AWS_SECRET_RE (40) or MISTRAL_KEY_RE (32) takes. */
const SHORTEST_ASSIGNED_VALUE = 8;
const LONG_VALUE_RUN = 32;

/** The patterns' character classes over ASCII, read from the classes themselves; above ASCII only `\s` is excluded. */
const ASCII_VALUE_CHAR = asciiTable(/[^\s"'`,;(){}[\]<>\\]/);
const ASCII_NAME_CHAR = asciiTable(/[\w.-]/i);
function asciiTable(charClass: RegExp): Uint8Array {
  const table = new Uint8Array(128);
  for (let c = 0; c < 128; c++) table[c] = charClass.test(String.fromCharCode(c)) ? 1 : 0;
  return table;
}

/** Value characters from `at`, past `\s*\\?["']?`, counted up to `need`. */
function valueRunAfter(text: string, at: number, need: number): number {
  let i = at;
  let c = text.charCodeAt(i);
  while (isRegexSpace(c)) c = text.charCodeAt(++i);
  if (c === 92 /* \ */) c = text.charCodeAt(++i);
  if (c === 34 /* " */ || c === 39 /* ' */) i++;
  const start = i;
  const end = Math.min(text.length, start + need);
  for (; i < end; i++) {
    c = text.charCodeAt(i);
    if (c < 128 ? ASCII_VALUE_CHAR[c] === 0 : isRegexSpace(c)) break;
  }
  return i - start;
}

/**
 * Whether a secret's name ends at most 40 characters before the operator at `op`, in the word
 * (`[\w.-]`) that ends there past `\\?["']?\s*`, as ASSIGNMENT_RE reads it: the name and what
 * follows it are all word characters, so they lie in that word's last SECRET_NAME_REACH characters.
 */
function secretNameBefore(text: string, op: number): boolean {
  let j = op - 1;
  while (j >= 0 && isRegexSpace(text.charCodeAt(j))) j--;
  let c = text.charCodeAt(j);
  if (c === 34 /* " */ || c === 39 /* ' */) c = text.charCodeAt(--j);
  if (c === 92 /* \ */) j--;
  const lowest = Math.max(0, j + 1 - SECRET_NAME_REACH);
  let start = j + 1;
  while (start > lowest) {
    c = text.charCodeAt(start - 1);
    if (c >= 128 || ASCII_NAME_CHAR[c] === 0) break;
    start--;
  }
  return start <= j && SECRET_NAME_RE.test(text.slice(start, j + 1));
}

/** `\s` as JavaScript regexes read it: WhiteSpace and LineTerminator. */
function isRegexSpace(c: number): boolean {
  if (c < 0xa0) return c === 32 || (c >= 9 && c <= 13);
  return c === 0xa0 || c === 0x1680 || (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f || c === 0x205f || c === 0x3000 || c === 0xfeff;
}

function pushValue(out: Finding[], m: RegExpMatchArray & { index: number }, kind: SecretKind): void {
  const value = m[1] ?? '';
  const end = m.index + m[0].length;
  out.push({ start: end - value.length, end, kind, category: 'secrets', key: value });
}

export function findSecrets(text: string, out: Finding[]): void {
  for (const m of prefixedSecretMatches(text)) {
    if (isWordChar(text, m.index - 1)) continue;
    const kind = classifyPrefixed(m[0]);
    if (kind) out.push({ start: m.index, end: m.index + m[0].length, kind, category: 'secrets', key: m[0] });
  }
  if (text.includes('PRIVATE KEY-----')) {
    for (const m of allMatches(PRIVATE_KEY_RE, text)) {
      out.push({ start: m.index, end: m.index + m[0].length, kind: 'PRIVATE_KEY', category: 'secrets', key: m[0] });
    }
  }
  const shape = assignmentShapes(text);
  if ((shape & NAMED_ASSIGNMENT) !== 0) {
    for (const m of allMatches(ASSIGNMENT_RE, text)) {
      if (isLikelySecretValue(m[1] ?? '')) pushValue(out, m, 'SECRET');
    }
  }
  if ((shape & LONG_ASSIGNED_VALUE) === 0 || !HAS_AWS_OR_MISTRAL.test(text)) return;
  if (HAS_AWS.test(text)) {
    for (const m of allMatches(AWS_SECRET_RE, text)) pushValue(out, m, 'AWS_SECRET_KEY');
  }
  if (HAS_MISTRAL.test(text)) {
    for (const m of allMatches(MISTRAL_KEY_RE, text)) {
      const v = m[1] ?? '';
      if (/\d/.test(v) && /[A-Za-z]/.test(v) && shannonEntropy(v) >= 3.0) pushValue(out, m, 'MISTRAL_KEY');
    }
  }
}

/**
 * Resolves overlapping findings in one sweep by position: of two overlapping findings the one with
 * the higher priority (then the longer one) wins. Linear after the sort, so a pasted mailing list
 * with thousands of addresses stays cheap.
 */
export function resolveOverlaps(findings: Finding[]): Finding[] {
  if (findings.length <= 1) return findings;
  const sorted = [...findings].sort((a, b) => a.start - b.start || PRIORITY[b.kind] - PRIORITY[a.kind] || b.end - a.end);
  const kept: Finding[] = [];
  for (const f of sorted) {
    const last = kept[kept.length - 1];
    if (!last || f.start >= last.end) {
      kept.push(f);
    } else if (PRIORITY[f.kind] > PRIORITY[last.kind] || (PRIORITY[f.kind] === PRIORITY[last.kind] && f.end - f.start > last.end - last.start)) {
      kept[kept.length - 1] = f;
    }
  }
  return kept;
}
