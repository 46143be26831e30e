import type { KeyObject } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import type { AuthUser } from '../auth-user.interface';

/** A token that passed every check, with the key that verified it and when it stops being valid. */
export interface VerifiedToken {
  user: AuthUser;
  key: KeyObject;
  /** Milliseconds since 1970: `(exp + clock tolerance) * 1000`, when the checks would refuse it. */
  expiresAt: number;
}

export interface VerifiedTokenCacheConfig {
  maxEntries: number;
  maxBytes: number;
}

/**
 * In-process memory of tokens that passed every check, so that a client reusing its token (as
 * clients do for the token's whole lifetime) costs a map lookup instead of a signature check.
 * Keyed by the whole token (never shared outside the process), bounded by entries and bytes,
 * successes only; an entry ends at the token's `exp` or when its key leaves the JWKS.
 */
export class VerifiedTokenCache {
  private readonly entries: LRUCache<string, VerifiedToken>;

  constructor(config: VerifiedTokenCacheConfig) {
    this.entries = new LRUCache<string, VerifiedToken>({
      max: config.maxEntries,
      maxSize: config.maxBytes,
      sizeCalculation: (entry, token) => estimateBytes(token, entry),
    });
  }

  /** The still-valid entry for `token`, if any. */
  get(token: string, now = Date.now()): VerifiedToken | undefined {
    const entry = this.entries.get(token);
    if (entry === undefined) return undefined;
    if (entry.expiresAt > now) return entry;
    this.entries.delete(token);
    return undefined;
  }

  set(token: string, entry: VerifiedToken): void {
    deepFreeze(entry.user.claims);
    Object.freeze(entry.user.scopes);
    this.entries.set(token, entry);
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}

/**
 * Bytes an entry holds, estimated without serialising anything: the token string, the claims
 * decoded from its payload (at most as long as the token), and a fixed overhead. Measured: a
 * million entries stay within the documented bound (bench/RESULTS.md).
 */
function estimateBytes(token: string, _entry: VerifiedToken): number {
  return 4 * token.length + 512;
}

function deepFreeze(value: unknown): void {
  if (typeof value !== 'object' || value === null || Object.isFrozen(value)) return;
  Object.freeze(value);
  for (const member of Object.values(value)) deepFreeze(member);
}
