import { createHash } from 'node:crypto';

/** A short, non-reversible fingerprint of a token, safe to log: first 12 hex chars of SHA-256. */
export function tokenHash(token: string): string {
  return createHash('sha256').update(token).digest('hex').slice(0, 12);
}
