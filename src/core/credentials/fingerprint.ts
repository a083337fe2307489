import { createHash } from 'node:crypto';

/** First 8 hex chars of the secret's SHA-256: enough to tell keys apart, useless to an attacker. */
export function fingerprintSecret(secret: string): string {
  return createHash('sha256').update(secret, 'utf8').digest('hex').slice(0, 8);
}
