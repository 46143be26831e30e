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
  /**
   * The cache's whole memory: its index on the heap (`INDEX_BYTES_PER_ENTRY` per entry) and, for
   * the rest, its store outside the heap. At least `minimumCacheBytes(maxEntries)`.
   */
  maxBytes: number;
}

/**
 * Heap bytes an index entry may take: measured 207 (a 64-digit key, its slot and lru-cache's own
 * arrays; `bench/cache-memory.ts`), rounded up.
 */
export const INDEX_BYTES_PER_ENTRY = 256;
/** The smallest store worth having. */
const MIN_STORE_BYTES = 1024;

/** The smallest `maxBytes` for `maxEntries`: room for a full index and a minimal store. */
export function minimumCacheBytes(maxEntries: number): number {
  return maxEntries * INDEX_BYTES_PER_ENTRY + MIN_STORE_BYTES;
}

/** Where an entry's user lies in the store, and what else a hit needs. */
interface Slot {
  /** Bytes written to the store before this entry (its offset modulo the store's size). */
  position: number;
  length: number;
  key: KeyObject;
  expiresAt: number;
}

/**
 * In-process memory of tokens that passed every check, so that a client reusing its token (as
 * clients do for the token's whole lifetime) costs a map lookup instead of a signature check.
 *
 * Bounded in resident memory, not only in entries: `maxBytes` is the index (on the heap, at most
 * `INDEX_BYTES_PER_ENTRY` × `maxEntries`: the token's SHA-256, never the token itself, the entry's
 * place in the store, its key and its end) plus the store, the rest of `maxBytes`, allocated once
 * outside the V8 heap (its pages resident only once written) and written as a ring. Each user is
 * kept there as JSON, so no cached object lives on, or grows, the garbage-collected heap.
 * An entry the ring has written over since is a miss. Every hit parses the user anew, so each
 * request gets a user of its own.
 *
 * Successes only, admitted on a token's second use; an entry ends at the token's `exp` or when its
 * key leaves the JWKS (the caller checks the key).
 */
export class VerifiedTokenCache {
  private readonly index: LRUCache<string, Slot>;
  private readonly store: Buffer;
  /** Bytes written since the start: an entry at `position` is intact while `written - position <= store.length`. */
  private written = 0;
  /**
   * The doorkeeper: a fixed table of fingerprints of tokens seen once. A token enters the cache on
   * its second use, so that tokens used once (a new token per call) never churn it; 256 KiB, and
   * nothing for the garbage collector to trace.
   */
  private readonly seenOnce = new Uint32Array(DOORKEEPER_SLOTS);

  constructor(config: VerifiedTokenCacheConfig) {
    const storeBytes = config.maxBytes - config.maxEntries * INDEX_BYTES_PER_ENTRY;
    if (storeBytes < MIN_STORE_BYTES) {
      throw new RangeError(
        `maxBytes ${config.maxBytes} leaves no room for a store beside the index of ${config.maxEntries} entries`,
      );
    }
    this.index = new LRUCache<string, Slot>({ max: config.maxEntries });
    // Uninitialised and untouched: resident only as entries are written. Never read before written.
    this.store = Buffer.allocUnsafeSlow(storeBytes);
  }

  /**
   * The still-valid entry for the token whose SHA-256 (hex) is `digest`, with a user of its own.
   */
  get(digest: string, now = Date.now()): VerifiedToken | undefined {
    const slot = this.index.get(digest);
    if (slot === undefined) return undefined;
    if (slot.expiresAt <= now || this.written - slot.position > this.store.length) {
      this.index.delete(digest);
      return undefined;
    }
    const offset = slot.position % this.store.length;
    const user = JSON.parse(
      this.store.toString('latin1', offset, offset + slot.length),
    ) as AuthUser;
    return { user, key: slot.key, expiresAt: slot.expiresAt };
  }

  /**
   * Offers a token that passed every check, by its SHA-256 (hex) `digest`, whose first 12 digits
   * are `user.tokenHash`. It is kept from its second offer on (within the doorkeeper's memory);
   * returns whether it was kept. The cache keeps a copy: `entry.user` stays the caller's.
   */
  set(digest: string, entry: VerifiedToken): boolean {
    // 16 bits of the digest pick the slot, the next 32 are kept.
    const slot = parseInt(digest.slice(0, 4), 16) & (DOORKEEPER_SLOTS - 1);
    const fingerprint = parseInt(digest.slice(4, 12), 16);
    if (this.seenOnce[slot] !== fingerprint) {
      this.seenOnce[slot] = fingerprint;
      return false;
    }
    // JSON with every non-ASCII character escaped, so that one byte holds one character.
    const json = asciiJson(entry.user);
    const size = this.store.length;
    if (json.length > size / 4) return false;
    let offset = this.written % size;
    // An entry never wraps: the rest of the store is skipped (and counted as written).
    if (offset + json.length > size) {
      this.written += size - offset;
      offset = 0;
    }
    this.store.write(json, offset, 'latin1');
    this.index.set(digest, {
      position: this.written,
      length: json.length,
      key: entry.key,
      expiresAt: entry.expiresAt,
    });
    this.written += json.length;
    return true;
  }

  delete(digest: string): void {
    this.index.delete(digest);
  }

  /** Bytes of the store outside the V8 heap: `maxBytes` less the index's share. */
  get storeBytes(): number {
    return this.store.length;
  }

  /** Entries in the index (some may have been written over, and are dropped when asked for). */
  get size(): number {
    return this.index.size;
  }
}

const DOORKEEPER_SLOTS = 65_536;

const HAS_NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII = /[\u0080-\uffff]/g;

function asciiJson(value: unknown): string {
  const json = JSON.stringify(value);
  return HAS_NON_ASCII.test(json)
    ? json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}
