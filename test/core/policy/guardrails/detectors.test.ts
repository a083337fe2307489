import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  ASSIGNMENT_RE,
  AWS_SECRET_RE,
  LONG_ASSIGNED_VALUE,
  MISTRAL_KEY_RE,
  NAMED_ASSIGNMENT,
  PREFIXED_SECRET_GROUPS,
  assignmentShapes,
  findPii,
  findSecrets,
  mayHoldGithubToken,
  prefixedSecretMatches,
  resolveOverlaps,
  type Finding,
} from '../../../../src/core/policy/guardrails/detectors.js';
import {
  isIbanChecksumValid,
  isLikelySecretValue,
  isLuhnValid,
  isValidSsn,
  shannonEntropy,
} from '../../../../src/core/policy/guardrails/validators.js';

function pii(text: string): { kind: string; value: string }[] {
  const out: Finding[] = [];
  findPii(text, out);
  return resolveOverlaps(out).map((f) => ({ kind: f.kind, value: text.slice(f.start, f.end) }));
}
function secrets(text: string): { kind: string; value: string }[] {
  const out: Finding[] = [];
  findSecrets(text, out);
  return resolveOverlaps(out).map((f) => ({ kind: f.kind, value: text.slice(f.start, f.end) }));
}
const kinds = (xs: { kind: string }[]): string[] => xs.map((x) => x.kind);

// Fake credentials are assembled at runtime so no secret scanner mistakes this file for a leak.
const rand = (n: number, alphabet = 'aB3xK9mQ7pZ2vL5tR8wY1nC4'): string =>
  Array.from({ length: n }, (_, i) => alphabet[(i * 7 + 3) % alphabet.length]).join('');

describe('validators', () => {
  it('Luhn accepts the standard test card and rejects a one-digit change', () => {
    expect(isLuhnValid('4111111111111111')).toBe(true);
    expect(isLuhnValid('4111111111111112')).toBe(false);
  });
  it('IBAN mod-97 accepts the registry examples and rejects a changed check digit', () => {
    expect(isIbanChecksumValid('GB82WEST12345698765432')).toBe(true);
    expect(isIbanChecksumValid('DE89370400440532013000')).toBe(true);
    expect(isIbanChecksumValid('DE88370400440532013000')).toBe(false);
  });
  it('SSN rules reject area 000, 666 and 9xx, group 00 and serial 0000', () => {
    expect(isValidSsn('123', '45', '6789')).toBe(true);
    for (const [a, g, s] of [['000', '12', '3456'], ['666', '12', '3456'], ['912', '12', '3456'], ['123', '00', '3456'], ['123', '45', '0000']]) {
      expect(isValidSsn(a!, g!, s!)).toBe(false);
    }
  });
  it('entropy of a repeated character is zero and of random text is high', () => {
    expect(shannonEntropy('aaaaaaaa')).toBe(0);
    expect(shannonEntropy('Zx8k2LqP9vRt4Wm7Yb3N')).toBeGreaterThan(4);
  });
  it('references, placeholders, identifiers and numbers are not secret values', () => {
    for (const v of ['process.env.DB_PASSWORD', '${DB_PASSWORD}', 'changeme123', 'config.auth.password', 'PasswordType', '12345678', 'your_api_key_here']) {
      expect(isLikelySecretValue(v), v).toBe(false);
    }
    expect(isLikelySecretValue('Zx8k2LqP9vRt4Wm7Yb3N')).toBe(true);
    expect(isLikelySecretValue('hunter2!Tr0ub4dor')).toBe(true);
  });
});

describe('PII detection', () => {
  it('finds emails and ignores package scopes, retina assets and ssh remotes', () => {
    expect(pii('mail jane.doe+work@example.co.uk today')).toEqual([{ kind: 'EMAIL', value: 'jane.doe+work@example.co.uk' }]);
    expect(pii('npm i @types/node@20.1.0 and icon@2x.png, git@github.com:org/repo.git')).toEqual([]);
  });

  it.each([
    ['E.164', '+14155552671'],
    ['international with spaces', '+44 20 7946 0958'],
    ['FR international', '+33 6 12 34 56 78'],
    ['US with parentheses', '(555) 123-4567'],
    ['US with dashes', '555-123-4567'],
    ['UK national', '020 7946 0958'],
    ['UK mobile', '07700 900123'],
    ['FR national', '06 12 34 56 78'],
    ['DE national', '030 12345678'],
    ['DE with slash', '089/1234567'],
  ])('a %s phone number is a phone', (_label, phone) => {
    expect(pii(`call ${phone} now`)).toEqual([{ kind: 'PHONE', value: phone }]);
  });

  it.each([
    ['a plain number', 'order 4155552671 shipped'],
    ['an ISO date', 'released 2024-01-15 at 12:30'],
    ['a dotted date', 'invoice of 01.02.2024'],
    ['a version', 'upgrade to 10.2.3 or v1.2.3.4'],
    ['a port and count', 'listening on 8080 with 1000 workers'],
  ])('%s is not PII', (_label, text) => {
    expect(pii(text)).toEqual([]);
  });

  it('a Luhn-valid card number is a card, spaced or dashed', () => {
    expect(pii('card 4111 1111 1111 1111 exp')).toEqual([{ kind: 'CARD', value: '4111 1111 1111 1111' }]);
    expect(pii('card 5555-5555-5555-4444.')).toEqual([{ kind: 'CARD', value: '5555-5555-5555-4444' }]);
    expect(pii('amex 378282246310005')).toEqual([{ kind: 'CARD', value: '378282246310005' }]);
  });
  it('a Luhn-invalid 16-digit number is not a card', () => {
    expect(kinds(pii('ref 4111 1111 1111 1112'))).not.toContain('CARD');
    expect(kinds(pii('id 4111111111111112'))).not.toContain('CARD');
  });

  it('an IBAN with a valid checksum is found, compact or grouped, and stops at its country length', () => {
    expect(pii('pay GB82WEST12345698765432 now')).toEqual([{ kind: 'IBAN', value: 'GB82WEST12345698765432' }]);
    expect(pii('IBAN: DE89 3704 0044 0532 0130 00 THEN more')).toEqual([{ kind: 'IBAN', value: 'DE89 3704 0044 0532 0130 00' }]);
  });
  it('an IBAN with a wrong checksum is not an IBAN', () => {
    expect(pii('pay GB83WEST12345698765432 now')).toEqual([]);
  });

  it('a valid SSN is found and an invalid area is not', () => {
    expect(pii('ssn 123-45-6789.')).toEqual([{ kind: 'SSN', value: '123-45-6789' }]);
    expect(pii('ssn 666-45-6789 and 900-12-3456')).toEqual([]);
  });

  it('a public or private IPv4 address is found; loopback, unspecified, versions and OIDs are not', () => {
    expect(pii('server at 10.0.12.7:8080 and 203.0.113.9')).toEqual([
      { kind: 'IPV4', value: '10.0.12.7' },
      { kind: 'IPV4', value: '203.0.113.9' },
    ]);
    expect(pii('bind 127.0.0.1 or 0.0.0.0; oid 1.3.6.1.4.1; v1.2.3.4; 256.1.1.1')).toEqual([]);
  });
});

describe('secret detection', () => {
  const aws = 'AKIA' + 'IOSFODNN7EXAMPLE';
  const awsSecret = 'wJalrXUtnFEMI/K7MDENG/bPxRfiCY' + 'EXAMPLEKEY';
  const gh = 'ghp_' + rand(36);
  const openai = 'sk-proj-' + rand(60, 'aB3xK9mQ7pZ2vL5tR8wY1nC4_-');
  const anthropic = 'sk-ant-api03-' + rand(90, 'aB3xK9mQ7pZ2vL5tR8wY1nC4_-');
  const slack = 'xoxb-' + '123456789012-1234567890123-' + rand(24);
  const stripe = 'sk_' + 'live_' + rand(24);
  const header = Buffer.from(JSON.stringify({ alg: 'HS256', typ: 'JWT' })).toString('base64url');
  const payload = Buffer.from(JSON.stringify({ sub: '1234567890', name: 'Jane' })).toString('base64url');
  const jwt = `${header}.${payload}.${rand(43, 'aB3xK9mQ7pZ2vL5tR8wY1nC4_-')}`;

  it.each([
    ['AWS_ACCESS_KEY', `key id ${aws} here`, aws],
    ['GITHUB_TOKEN', `export GH=${gh}`, gh],
    ['OPENAI_KEY', `client = OpenAI(api_key_from_vault) # ${openai}`, openai],
    ['ANTHROPIC_KEY', `"${anthropic}"`, anthropic],
    ['SLACK_TOKEN', `token ${slack}`, slack],
    ['STRIPE_KEY', `Stripe(${stripe})`, stripe],
    ['JWT', `Authorization: Bearer ${jwt}`, jwt],
  ])('a %s is found by its prefix', (kind, text, value) => {
    expect(secrets(text)).toContainEqual({ kind, value });
  });

  it('an AWS secret access key is found in an aws context', () => {
    expect(secrets(`aws_secret_access_key = ${awsSecret}`)).toEqual([{ kind: 'AWS_SECRET_KEY', value: awsSecret }]);
  });

  it('a 32-character Mistral key is found only in a mistral context', () => {
    const key = rand(32, 'aB3xK9mQ7pZ2vL5tR8wY1nC4');
    expect(secrets(`MISTRAL_API_KEY=${key}`)).toEqual([{ kind: 'MISTRAL_KEY', value: key }]);
    expect(secrets(`build_hash: ${'a'.repeat(32)}`)).toEqual([]);
  });

  it('a private key block is found whole', () => {
    const block = `-----BEGIN RSA PRIVATE KEY-----\nMIIEpAIBAAKCAQEA${rand(40)}\n-----END RSA PRIVATE KEY-----`;
    expect(secrets(`here:\n${block}\nthanks`)).toEqual([{ kind: 'PRIVATE_KEY', value: block }]);
  });

  it('a random value assigned to password, api_key, secret or token is a secret', () => {
    const v = 'Zx8k2LqP9vRt4Wm7Yb3N';
    for (const text of [`DB_PASSWORD=${v}`, `api_key: "${v}"`, `{"client_secret": "${v}"}`, `token => '${v}'`]) {
      expect(secrets(text), text).toEqual([{ kind: 'SECRET', value: v }]);
    }
  });

  it('every secret-sounding name, in any case, with a random value assigned, is a secret', () => {
    const v = 'Zx8k2LqP9vRt4Wm7Yb3N';
    const names = ['password', 'passwd', 'passphrase', 'pwd', 'secret', 'token', 'api_key', 'api-key', 'apikey', 'access_key', 'access-key', 'accesskey', 'private_key', 'private-key', 'privatekey', 'credential', 'credentials'];
    for (const name of names) {
      for (const spelled of [name, name.toUpperCase(), `my_${name[0]!.toUpperCase()}${name.slice(1)}`]) {
        expect(secrets(`${spelled} = ${v}`), spelled).toEqual([{ kind: 'SECRET', value: v }]);
      }
    }
    for (const near of ['pas', 'passw', 'pw', 'secre', 'toke', 'ap_key', 'acces_key', 'privat_key', 'credentia']) {
      expect(secrets(`${near} = ${v}`), near).toEqual([]);
    }
  });

  it('ordinary code around secret-sounding names is not a secret', () => {
    const code = [
      'const tokenizer = AutoTokenizer.from_pretrained(name);',
      'password: PasswordType;',
      'const token = getToken();',
      'secret = os.environ["SECRET"]',
      'max_tokens = 4096',
      "API_KEY=${OPENAI_API_KEY}",
      'task-runner-with-a-very-long-descriptive-name',
      'sk-this-is-just-a-long-slug-in-a-url',
    ].join('\n');
    expect(secrets(code)).toEqual([]);
  });

  it('a known key inside an assignment is reported as that key, once', () => {
    expect(secrets(`OPENAI_API_KEY=${openai}`)).toEqual([{ kind: 'OPENAI_KEY', value: openai }]);
  });

  it('the two prefixed-secret regexes find exactly what their single alternation finds', () => {
    const single = new RegExp(PREFIXED_SECRET_GROUPS.map((re) => re.source).join('|'), 'g');
    const reference = (text: string): [number, string][] => [...text.matchAll(single)].map((m) => [m.index, m[0]]);
    // Prefixes next to runs long enough to complete them, so matches overlap and nest: a `ghp_`
    // token inside a JWT segment, an `sk-` key running into `github_pat_`, and so on.
    const fragment = fc.oneof(
      { arbitrary: fc.constantFrom('AKIA', 'ASIA', 'ghp_', 'gho_', 'github_pat_', 'sk-', 'sk-ant-', 'sk-proj-', 'sk_live_', 'rk_test_', 'xoxb-', 'eyJ'), weight: 3 },
      { arbitrary: fc.constantFrom('.', '_', '-', ' ', 'x'), weight: 1 },
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9]{1,12}$/), weight: 1 },
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9]{36,44}$/), weight: 2 },
    );
    let overlapping = 0;
    fc.assert(
      fc.property(fc.array(fragment, { minLength: 2, maxLength: 16 }).map((parts) => parts.join('')), (text) => {
        const expected = reference(text);
        expect(prefixedSecretMatches(text).map((m) => [m.index, m[0]])).toEqual(expected);
        // A case the merge must get right: the other group has a match inside one taken.
        const [common, github] = PREFIXED_SECRET_GROUPS;
        const ownMatches = [...text.matchAll(new RegExp(common.source, 'g')), ...text.matchAll(new RegExp(github.source, 'g'))].length;
        if (ownMatches > expected.length) overlapping++;
      }),
      { numRuns: 3000 },
    );
    expect(overlapping).toBeGreaterThan(100);
  });

  it('every GitHub token kind is found, in prose and in code full of underscores', () => {
    for (const kind of ['p', 'o', 'u', 's', 'r']) {
      const token = `gh${kind}_${rand(36)}`;
      expect(secrets(`the token ${token} leaked`)).toEqual([{ kind: 'GITHUB_TOKEN', value: token }]);
      expect(secrets(`const retry_count = 3; const gh_token = "${token}"; high_water_mark();`)).toEqual([{ kind: 'GITHUB_TOKEN', value: token }]);
    }
    const pat = `github_pat_${rand(30)}`;
    expect(secrets(`token: ${pat}`)).toEqual([{ kind: 'GITHUB_TOKEN', value: pat }]);
  });

  it('the GitHub prefix check is true wherever the GitHub group matches, and false on near misses', () => {
    const github = new RegExp(PREFIXED_SECRET_GROUPS[1].source);
    const fragment = fc.oneof(
      fc.constantFrom('gh', 'ghp_', 'ghr_', 'ghx_', 'g', 'h', '_', 'github_pat_', 'github_', 'high_', 'night', ' '),
      fc.stringMatching(/^[A-Za-z0-9]{1,40}$/),
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 12 }).map((parts) => parts.join('')), (text) => {
        if (github.test(text)) expect(mayHoldGithubToken(text)).toBe(true);
      }),
      { numRuns: 2000 },
    );
    for (const miss of ['snake_case and high_water_mark', 'ghx_abc', 'github_token', 'gh_p', 'last night']) {
      expect(mayHoldGithubToken(miss)).toBe(false);
    }
    for (const hit of ['ghp_', 'xgho_', 'ghu_', 'ghs_', 'ghr_', 'ghghp_', 'gh_ghs_', 'a github_pat_']) expect(mayHoldGithubToken(hit)).toBe(true);
  });

  it('the assignment pre-check is true wherever an assignment pattern matches', () => {
    const named = new RegExp(ASSIGNMENT_RE.source, 'i');
    const long = [new RegExp(AWS_SECRET_RE.source, 'i'), new RegExp(MISTRAL_KEY_RE.source, 'i')];
    const fragment = fc.oneof(
      { arbitrary: fc.constantFrom('password', 'PassWd', 'pwd', 'private-key', 'SECRET', 'token', 'apikey', 'Access_Key', 'credentials', 'aws', 'mistral', 'aws secret'), weight: 3 },
      { arbitrary: fc.constantFrom('=', ':', '=>', ':=', ' = ', ': ', '"', "'", '\\', '\\"', ' ', '\t', '\n', '\u00a0', '\u2028', '\u3000', '\ufeff', '_', '.', '-', ',', ';', '>', '`'), weight: 3 },
      { arbitrary: fc.stringMatching(/^[A-Za-z0-9/+]{1,44}$/), weight: 2 },
      { arbitrary: fc.string({ maxLength: 6 }), weight: 1 },
    );
    fc.assert(
      fc.property(fc.array(fragment, { maxLength: 14 }).map((parts) => parts.join('')), (text) => {
        const shapes = assignmentShapes(text);
        if (named.test(text)) expect(shapes & NAMED_ASSIGNMENT).toBe(NAMED_ASSIGNMENT);
        if (long.some((re) => re.test(text))) expect(shapes & LONG_ASSIGNED_VALUE).toBe(LONG_ASSIGNED_VALUE);
      }),
      { numRuns: 4000 },
    );
  });

  it('the assignment pre-check reads each character before and after the operator as the pattern does', () => {
    // Every UTF-16 code unit, once just before the operator and once just after it: spaces (all of
    // them, Unicode ones too), quotes and backslashes are skipped, name and value characters count.
    const named = new RegExp(ASSIGNMENT_RE.source, 'i');
    const value = 'Zx8k2LqP9vRt';
    for (let code = 0; code < 0x10000; code++) {
      const ch = String.fromCharCode(code);
      for (const text of [`password${ch}= ${value}`, `password =${ch}${value}`, `password = ${ch}${value.slice(0, 7)}`]) {
        expect((assignmentShapes(text) & NAMED_ASSIGNMENT) !== 0, `U+${code.toString(16)} in ${JSON.stringify(text)}`).toBe(named.test(text));
      }
    }
  });

  it('the assignment pre-check rules out prose and code without secret assignments', () => {
    const clean = [
      'Summary: the deployment failed again last night; see https://example.com/runbooks/deploys.',
      'export async function fetchWithRetry(url: string, attempts = 3): Promise<Response> {',
      'const tokens = count(text); max_tokens = 4096; password: string;',
      'Ticket 5: The retry loop opened a new socket for every attempt',
    ];
    for (const text of clean) expect(assignmentShapes(text), text).toBe(0);
    // What the pattern matches and the entropy check then rejects is still looked at.
    expect(assignmentShapes('password: PasswordType;') & NAMED_ASSIGNMENT).toBe(NAMED_ASSIGNMENT);
    // A named assignment runs both passes; a long value alone, the AWS and Mistral one.
    expect(assignmentShapes('DB_PASSWORD="Zx8k2LqP9v"')).toBe(NAMED_ASSIGNMENT | LONG_ASSIGNED_VALUE);
    expect(assignmentShapes(`{\\"api_key\\": \\"Zx8k2LqP9v\\"}`)).toBe(NAMED_ASSIGNMENT | LONG_ASSIGNED_VALUE);
    expect(assignmentShapes(`checksum: ${'ab'.repeat(16)}, size: 1`)).toBe(LONG_ASSIGNED_VALUE);
    // A name may end 40 characters before the operator, no further.
    expect(assignmentShapes(`credentials${'x'.repeat(40)}=Zx8k2LqP9v`) & NAMED_ASSIGNMENT).toBe(NAMED_ASSIGNMENT);
    expect(assignmentShapes(`credentials${'x'.repeat(52)}=Zx8k2LqP9v`)).toBe(0);
    // Code dense with operators is not looked at one by one: the passes run. Prose with as many
    // operators, further apart, still is.
    expect(assignmentShapes('a = 1; '.repeat(15))).toBe(0);
    expect(assignmentShapes('a = 1; '.repeat(16))).toBe(NAMED_ASSIGNMENT | LONG_ASSIGNED_VALUE);
    expect(assignmentShapes(`${'a = 1; '.repeat(15)}${' '.repeat(1024)}${'a = 1; '.repeat(15)}`)).toBe(0);
    expect(assignmentShapes(`${' '.repeat(2048)}${'a = 1; '.repeat(32)}`)).toBe(NAMED_ASSIGNMENT | LONG_ASSIGNED_VALUE);
    const prose = 'Note: the retry loop opened a new socket for every attempt and never released the old one. ';
    expect(assignmentShapes(prose.repeat(200))).toBe(0);
  });

  it('an eyJ… string whose header is not JSON with alg is not a JWT', () => {
    const fake = `eyJ${rand(20)}.${rand(20)}.${rand(20)}`;
    expect(kinds(secrets(fake))).not.toContain('JWT');
  });

  it('the eight-digit pre-check never hides a card, SSN or phone number', () => {
    // A far-away run of sixteen digits (no card: it starts with 1; no phone: no separators) makes
    // the pre-check pass whatever the text is: findings in the text itself must then be the same
    // as when the text alone decides whether to look.
    const forcePrecheck = '\nx\n1234567890123456';
    const piece = fc.oneof(
      fc.stringMatching(/^\d{1,5}$/),
      fc.constantFrom(' ', '-', '.', '/', '(', ')', '+', ') ', ' (', '+1 ', 'x', 'ab', '\n', '0', '4111', '555'),
    );
    const digits = (min: number, max: number) => fc.stringMatching(new RegExp(`^\\d{${min},${max}}$`));
    const sep = fc.constantFrom('', ' ', '.', '-');
    // International shapes as the phone pattern reads them: country code, an optional (area), groups.
    const phoneLike = fc
      .tuple(digits(1, 3), sep, fc.option(fc.tuple(digits(1, 4), sep)), digits(1, 4), fc.array(fc.tuple(sep, digits(2, 4)), { minLength: 1, maxLength: 5 }))
      .map(([cc, s1, area, first, groups]) => `+${cc}${s1}${area ? `(${area[0]})${area[1]}` : ''}${first}${groups.map(([s, g]) => s + g).join('')}`);
    const digitHeavy = fc.array(fc.oneof(piece, phoneLike), { maxLength: 10 }).map((p) => p.join(''));
    fc.assert(
      fc.property(digitHeavy, (text) => {
        const inText = (f: { value: string }, all: string): boolean => all.indexOf(f.value) < text.length;
        const own = pii(text).filter((f) => ['CARD', 'SSN', 'PHONE'].includes(f.kind));
        const forced = pii(text + forcePrecheck).filter((f) => ['CARD', 'SSN', 'PHONE'].includes(f.kind) && inText(f, text + forcePrecheck));
        expect(own).toEqual(forced);
      }),
      { numRuns: 3000 },
    );
    // The shortest numbers the pre-check must let through: eight digits, apart by `(`/`)` too.
    expect(pii('call +12345678 now')).toEqual([{ kind: 'PHONE', value: '+12345678' }]);
    expect(pii('x +1 (4) 12 34 56 y')).toEqual([{ kind: 'PHONE', value: '+1 (4) 12 34 56' }]);
  });
});

