/**
 * Defence in depth for audit details: callers must never pass secrets, but if one slips through
 * it must not become a permanent, hash-sealed part of the audit log. Keys that name a secret have
 * their value replaced; string values that look like a provider key or bearer token are masked.
 * Fingerprints (`credentialFingerprint`) and token counts (`inputTokens`) are not secrets and
 * are left alone.
 */
const SECRET_KEY = /^(authorization|proxy-authorization|x-api-key|api[-_]?key|secret|client[-_]?secret|password|passphrase|access[-_]?token|refresh[-_]?token|id[-_]?token|bearer|private[-_]?key|cookie)$/i;
const SECRET_VALUE = /\b(?:sk-(?:ant-|proj-)?[A-Za-z0-9_-]{16,}|Bearer\s+[A-Za-z0-9._~+/=-]{12,})/g;

export const REDACTED = '[redacted]';

/** Masks key- or token-looking substrings of one string. */
export function scrubString(value: string): string {
  return value.replace(SECRET_VALUE, REDACTED);
}

export function scrubSecrets(value: unknown): unknown {
  if (typeof value === 'string') return scrubString(value);
  if (Array.isArray(value)) return value.map(scrubSecrets);
  if (value !== null && typeof value === 'object') {
    const withToJson = value as { toJSON?: () => unknown };
    if (typeof withToJson.toJSON === 'function') return scrubSecrets(withToJson.toJSON());
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[k] = SECRET_KEY.test(k) && v !== null && v !== undefined ? REDACTED : scrubSecrets(v);
    return out;
  }
  return value;
}
