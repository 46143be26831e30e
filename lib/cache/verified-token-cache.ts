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
 * successes only, admitted on a token's second use; an entry ends at the token's `exp` or when
 * its key leaves the JWKS.
 */
export class VerifiedTokenCache {
  private readonly entries: LRUCache<string, VerifiedToken>;
  /**
   * The doorkeeper: a fixed table of fingerprints of tokens seen once. A token enters the cache on
   * its second use, so that tokens used once (a new token per call) never churn it; 256 KiB, and
   * nothing for the garbage collector to trace.
   */
  private readonly seenOnce = new Uint32Array(DOORKEEPER_SLOTS);

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

  /**
   * Offers a token that passed every check. It is kept from its second offer on (within the
   * doorkeeper's memory); returns whether it was kept.
   */
  set(token: string, entry: VerifiedToken): boolean {
    // user.tokenHash is 12 hex digits of the token's SHA-256: 16 bits pick the slot, 32 are kept.
    const slot = parseInt(entry.user.tokenHash.slice(0, 4), 16) & (DOORKEEPER_SLOTS - 1);
    const fingerprint = parseInt(entry.user.tokenHash.slice(4, 12), 16);
    if (this.seenOnce[slot] !== fingerprint) {
      this.seenOnce[slot] = fingerprint;
      return false;
    }
    deepFreeze(entry.user.claims);
    Object.freeze(entry.user.scopes);
    this.entries.set(token, entry);
    return true;
  }

  delete(token: string): void {
    this.entries.delete(token);
  }

  get size(): number {
    return this.entries.size;
  }
}

const DOORKEEPER_SLOTS = 65_536;

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
