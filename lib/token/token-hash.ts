import { hash } from 'node:crypto';

/** A short, non-reversible fingerprint of a token, safe to log: first 12 hex chars of SHA-256. */
export function tokenHash(token: string): string {
  // One-shot crypto.hash: no Hash object per call, which matters on every new token.
  return hash('sha256', token, 'hex').slice(0, 12);
}

/** The whole SHA-256 of a token, in hex: what the verified-token cache is keyed by. `tokenHash` is its first 12 digits. */
export function tokenDigest(token: string): string {
  return hash('sha256', token, 'hex');
}
