// Hand-written index of typed arrays outside the V8 heap: full (100,000 entries) it grows the heap
// by 0.3 MiB where lru-cache's index grew it by 23 MiB (bench/RESULTS.md).
import type { KeyObject } from 'node:crypto';
import type { AuthUser } from '../token/auth-user';
import { copyJson } from '../token/copy-json';

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
   * The cache's memory outside the V8 heap: its index (`INDEX_BYTES_PER_ENTRY` per entry) and, for
   * the rest, its store. At least `minimumCacheBytes(maxEntries)`. On the heap there is only the hot
   * set (at most `HOT_ENTRIES` users, `HOT_JSON_BYTES` of them as JSON).
   */
  maxBytes: number;
}

/**
 * Index bytes per entry, at most: a slot is 31 bytes (state 1, tag 4, home 4, position 8, length 4,
 * end 8, key 2), and the index has a power of two of slots, at least twice `maxEntries` and under
 * four times it (4 × 31 = 124 bytes), rounded up.
 */
export const INDEX_BYTES_PER_ENTRY = 128;
/** The smallest store worth having. */
const MIN_STORE_BYTES = 1024;
/** Each entry in the store starts with the token's SHA-256 in hex. */
const DIGEST_LENGTH = 64;
/** Distinct verifying keys the index can name; more, and it starts afresh. */
const MAX_KEYS = 1024;
/**
 * The hot set: users of entries asked for more than once, kept parsed on the heap (a copy costs a
 * third of a parse), at most this many and this much JSON (a few times that in heap objects); the
 * first to have entered leaves first.
 */
export const HOT_ENTRIES = 256;
export const HOT_JSON_BYTES = 256 * 1024;
const HOT_SEEN_SLOTS = 1024;

const EMPTY = 0;
const USED = 1;
const DELETED = 2;

/** The smallest `maxBytes` for `maxEntries`: room for a full index and a minimal store. */
export function minimumCacheBytes(maxEntries: number): number {
  return maxEntries * INDEX_BYTES_PER_ENTRY + MIN_STORE_BYTES;
}

/**
 * In-process memory of tokens that passed every check, so that a client reusing its token (as
 * clients do for the token's whole lifetime) costs a lookup instead of a signature check.
 *
 * Bounded in resident memory, not only in entries, and almost none of it on the garbage-collected
 * heap (whose sizing would multiply whatever lives there; only the small hot set below): `maxBytes`
 * is an index of typed arrays (an open-addressing table of at most `INDEX_BYTES_PER_ENTRY` ×
 * `maxEntries` bytes, keyed by the token's SHA-256, never the token itself) plus a store for the
 * rest, allocated once and written as a ring (its pages resident only once written). Each entry of
 * the store is the token's digest and its user as JSON; a lookup answers only an entry whose digest
 * in the store is the one asked for, and that the ring has not written over since, so that no fault
 * of the index can answer another token's user. Each request gets a user of its own: parsed from the store, or copied from the hot
 * set, a small bounded set of parsed users of entries asked for more than once (a copy costs a
 * third of a parse); an entry that leaves the index leaves the hot set too.
 *
 * Successes only, admitted on a token's second use; an entry ends at the token's `exp` or when its
 * key leaves the JWKS (the caller checks the key); past `maxEntries`, the oldest quarter goes.
 */
export class VerifiedTokenCache {
  private readonly store: Buffer;
  /** Bytes written since the start: an entry at `position` is intact while `written - position <= store.length`. */
  private written = 0;
  private readonly maxEntries: number;
  private readonly mask: number;
  private readonly state: Uint8Array;
  /** Digest hex digits 0–7 and 8–15, as numbers: a quick check, and where probing starts. */
  private readonly tag: Uint32Array;
  private readonly home: Uint32Array;
  private readonly position: Float64Array;
  private readonly length: Uint32Array;
  private readonly end: Float64Array;
  private readonly keyRef: Uint16Array;
  private readonly keys: KeyObject[] = [];
  private readonly keyIds = new Map<KeyObject, number>();
  private used = 0;
  private deleted = 0;
  /**
   * Parsed users by the store position of their entry (each write has a position of its own, so a
   * position names one entry's bytes for good); never handed out, only copied. First entered first.
   */
  private readonly hot = new Map<number, { user: AuthUser; length: number }>();
  private hotBytes = 0;
  /** Positions (plus one) of entries parsed once, by slot: the hot set's doorkeeper. */
  private readonly hotSeen = new Float64Array(HOT_SEEN_SLOTS);
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
    this.maxEntries = config.maxEntries;
    let slots = 16;
    while (slots < 2 * config.maxEntries) slots *= 2;
    this.mask = slots - 1;
    this.state = new Uint8Array(slots);
    this.tag = new Uint32Array(slots);
    this.home = new Uint32Array(slots);
    this.position = new Float64Array(slots);
    this.length = new Uint32Array(slots);
    this.end = new Float64Array(slots);
    this.keyRef = new Uint16Array(slots);
    // Uninitialised and untouched: resident only as entries are written. Never read before written.
    this.store = Buffer.allocUnsafeSlow(storeBytes);
  }

  /**
   * The still-valid entry for the token whose SHA-256 (hex) is `digest`, with a user of its own.
   */
  get(digest: string, now = Date.now()): VerifiedToken | undefined {
    const slot = this.find(digest);
    if (slot < 0) return undefined;
    if (this.end[slot] <= now) {
      this.remove(slot);
      return undefined;
    }
    const position = this.position[slot];
    const parsed = this.hot.get(position);
    const user = parsed === undefined ? this.parse(slot, position) : copyJson(parsed.user);
    return { user, key: this.keys[this.keyRef[slot]], expiresAt: this.end[slot] };
  }

  /**
   * The user of an intact entry, parsed from the store. An entry asked for a second time while
   * still out of the hot set (within `hotSeen`'s memory) enters it: a token used once or twice
   * costs one parse, as without the hot set.
   */
  private parse(slot: number, position: number): AuthUser {
    const length = this.length[slot];
    const offset = (position % this.store.length) + DIGEST_LENGTH;
    const user = JSON.parse(this.store.toString('latin1', offset, offset + length)) as AuthUser;
    const seen = slot & (HOT_SEEN_SLOTS - 1);
    if (this.hotSeen[seen] !== position + 1) {
      this.hotSeen[seen] = position + 1;
      return user;
    }
    if (length > HOT_JSON_BYTES / 4) return user;
    while (this.hot.size >= HOT_ENTRIES || this.hotBytes + length > HOT_JSON_BYTES) {
      this.dropHot(this.hot.keys().next().value!);
    }
    this.hot.set(position, { user, length });
    this.hotBytes += length;
    return copyJson(user);
  }

  /** Forgets the parsed user of the entry written at `position`, if the hot set holds it. */
  private dropHot(position: number): void {
    const parsed = this.hot.get(position);
    if (parsed === undefined) return;
    this.hot.delete(position);
    this.hotBytes -= parsed.length;
  }

  /**
   * Offers a token that passed every check, by its SHA-256 (hex) `digest`, whose first 12 digits
   * are `user.tokenHash`. It is kept from its second offer on (within the doorkeeper's memory);
   * returns whether it was kept. The cache keeps a copy: `entry.user` stays the caller's.
   */
  set(digest: string, entry: VerifiedToken): boolean {
    // 16 bits of the digest pick the slot, the next 32 are kept.
    const seen = parseInt(digest.slice(0, 4), 16) & (DOORKEEPER_SLOTS - 1);
    const fingerprint = parseInt(digest.slice(4, 12), 16);
    if (this.seenOnce[seen] !== fingerprint) {
      this.seenOnce[seen] = fingerprint;
      return false;
    }
    // JSON with every non-ASCII character escaped, so that one byte holds one character.
    const json = asciiJson(entry.user);
    if (json === undefined) return false;
    const size = this.store.length;
    const bytes = DIGEST_LENGTH + json.length;
    if (digest.length !== DIGEST_LENGTH || bytes > size / 4) return false;
    const key = this.keyIdOf(entry.key);
    let slot = this.find(digest);
    if (slot < 0) {
      if (this.used >= this.maxEntries || this.used + this.deleted >= (this.mask + 1) * 0.75) {
        this.rebuild(Date.now());
      }
      slot = this.freeSlot(parseInt(digest.slice(8, 16), 16));
      this.used++;
    }
    let offset = this.written % size;
    // An entry never wraps: the rest of the store is skipped (and counted as written).
    if (offset + bytes > size) {
      this.written += size - offset;
      offset = 0;
    }
    this.store.write(digest, offset, 'latin1');
    this.store.write(json, offset + DIGEST_LENGTH, 'latin1');
    this.state[slot] = USED;
    this.tag[slot] = parseInt(digest.slice(0, 8), 16);
    this.home[slot] = parseInt(digest.slice(8, 16), 16);
    this.position[slot] = this.written;
    this.length[slot] = json.length;
    this.end[slot] = entry.expiresAt;
    this.keyRef[slot] = key;
    this.written += bytes;
    return true;
  }

  delete(digest: string): void {
    const slot = this.find(digest);
    if (slot >= 0) this.remove(slot);
  }

  /** Entries in the index (some may have been written over, and are dropped when asked for). */
  get size(): number {
    return this.used;
  }

  /** Users kept parsed in the hot set (on the V8 heap): at most `HOT_ENTRIES`. */
  get hotSize(): number {
    return this.hot.size;
  }

  /** Bytes of the store: `maxBytes` less the index's share. */
  get storeBytes(): number {
    return this.store.length;
  }

  /**
   * The slot of `digest`'s entry, or -1: an entry whose bytes are intact in the store and begin
   * with this very digest. A slot the ring has written over is dropped on the way.
   */
  private find(digest: string): number {
    const tag = parseInt(digest.slice(0, 8), 16);
    let slot = parseInt(digest.slice(8, 16), 16) & this.mask;
    // At least a quarter of the slots stay empty (see set), so an empty one ends every search;
    // the bound is only a guard.
    for (let probes = 0; ; probes++, slot = (slot + 1) & this.mask) {
      const state = this.state[slot];
      if (state === EMPTY || probes > this.mask) return -1;
      if (state !== USED || this.tag[slot] !== tag) continue;
      if (!this.intact(slot)) {
        this.remove(slot);
        continue;
      }
      const offset = this.position[slot] % this.store.length;
      if (this.store.toString('latin1', offset, offset + DIGEST_LENGTH) === digest) return slot;
    }
  }

  private intact(slot: number): boolean {
    return this.written - this.position[slot] <= this.store.length;
  }

  /** The first slot from `home` that holds no entry. */
  private freeSlot(home: number): number {
    let slot = home & this.mask;
    while (this.state[slot] === USED) slot = (slot + 1) & this.mask;
    if (this.state[slot] === DELETED) this.deleted--;
    return slot;
  }

  private remove(slot: number): void {
    this.dropHot(this.position[slot]);
    this.state[slot] = DELETED;
    this.used--;
    this.deleted++;
  }

  /** The index number of a verifying key; past `MAX_KEYS` keys, the cache starts afresh. */
  private keyIdOf(key: KeyObject): number {
    let id = this.keyIds.get(key);
    if (id !== undefined) return id;
    if (this.keys.length >= MAX_KEYS) {
      this.keys.length = 0;
      this.keyIds.clear();
      this.hot.clear();
      this.hotBytes = 0;
      this.state.fill(EMPTY);
      this.used = 0;
      this.deleted = 0;
    }
    id = this.keys.length;
    this.keys.push(key);
    this.keyIds.set(key, id);
    return id;
  }

  /**
   * Lays the index out anew without its deleted, ended and written-over entries, and, when that
   * leaves it full, without the oldest quarter of the rest.
   */
  private rebuild(now: number): void {
    const live: number[] = [];
    for (let slot = 0; slot <= this.mask; slot++) {
      if (this.state[slot] === USED && this.end[slot] > now && this.intact(slot)) live.push(slot);
    }
    let kept = live;
    if (live.length >= this.maxEntries) {
      kept = live.sort((a, b) => this.position[b] - this.position[a]);
      kept = kept.slice(0, Math.max(0, Math.floor((this.maxEntries * 3) / 4)));
    }
    const keptPositions = new Set(kept.map((slot) => this.position[slot]));
    for (const position of this.hot.keys()) {
      if (!keptPositions.has(position)) this.dropHot(position);
    }
    const entries = kept.map((slot) => [
      this.tag[slot],
      this.home[slot],
      this.position[slot],
      this.length[slot],
      this.end[slot],
      this.keyRef[slot],
    ]);
    this.state.fill(EMPTY);
    this.used = 0;
    this.deleted = 0;
    for (const [tag, home, position, length, end, keyRef] of entries) {
      const slot = this.freeSlot(home);
      this.state[slot] = USED;
      this.tag[slot] = tag;
      this.home[slot] = home;
      this.position[slot] = position;
      this.length[slot] = length;
      this.end[slot] = end;
      this.keyRef[slot] = keyRef;
      this.used++;
    }
  }
}

const DOORKEEPER_SLOTS = 65_536;

const HAS_NON_ASCII = /[\u0080-\uffff]/;
const NON_ASCII = /[\u0080-\uffff]/g;

/** The JSON text of `value`, or `undefined` when it cannot be serialised (not kept, then). */
function asciiJson(value: unknown): string | undefined {
  let json: string;
  try {
    json = JSON.stringify(value);
  } catch {
    return undefined;
  }
  return HAS_NON_ASCII.test(json)
    ? json.replace(NON_ASCII, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`)
    : json;
}
