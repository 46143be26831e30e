import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { InvalidDpopProofError, IssuerUnavailableError } from '../errors/auth-error';
import type { SharedCacheStore } from '../cache/shared-cache-store.interface';

/** Where log lines go (Nest's Logger fits). */
export interface ReplayLogger {
  warn(message: string): void;
}

/** An atomic "store if absent" over some shared store. */
type SetIfAbsent = (key: string, ttlMs: number) => Promise<boolean>;

export interface ReplayCacheConfig {
  maxEntries: number;
  store?: SharedCacheStore;
  storeTimeoutMs: number;
}

const NAMESPACE = 'nest-oauth2-bearer:dpop-jti:';
const TIMED_OUT = Symbol('timed out');
const WARN_EVERY_MS = 60_000;
/** While the in-process cache is full, stale entries are swept at most once a second (O(n)). */
const PURGE_EVERY_MS = 1000;

/**
 * The `jti`s of accepted DPoP proofs (RFC 9449 §11.1), each until its proof could no longer pass
 * the `iat` check: a proof is accepted once. Bounded in process, and shared through `cache.store`
 * when set, so that instances behind one balancer refuse each other's replays.
 *
 * Only the proofs of the `iat` window need remembering, so `maxEntries` bounds the proofs accepted
 * per window. Without a shared store, a full cache never forgets an unexpired `jti` (its proof
 * could then be replayed): new proofs are refused with 503 `replay_cache_full` until entries
 * expire. So that one client cannot bring that about for all, one key (`jkt`) holds at most half
 * of the entries: its proofs beyond are refused for it alone (401 `dpop_replay_share_exceeded`),
 * and the other half stays for every other key. Half, not less: a busy honest client may send many
 * proofs in a window, and needs more than a small slice; two keys at their share are what it takes
 * to fill the cache. An entry that expires frees its key's share. With a shared store, the store is
 * the record, and the in-process cache only a first line that may forget its oldest entries: no
 * key is refused for its number of proofs there.
 *
 * A shared store that fails or is slow fails closed: the request gets 503 (the library's answer to
 * a dependency it cannot reach) rather than a proof whose replay cannot be ruled out.
 */
export class DpopReplayCache {
  /** Hash of `jkt` and `jti` → the `jkt`, whose share the entry counts against. */
  private readonly seen: LRUCache<string, string>;
  /** Unexpired entries in process per `jkt`: a key's share in use. */
  private readonly held = new Map<string, number>();
  /** The most entries one key may hold without a shared store: half of `maxEntries`. */
  private readonly share: number;
  private readonly setIfAbsent?: SetIfAbsent;
  private lastWarning = new Map<string, number>();
  private lastPurge = -Infinity;

  constructor(
    private readonly config: ReplayCacheConfig,
    private readonly logger: ReplayLogger,
  ) {
    this.share = Math.floor(config.maxEntries / 2);
    this.seen = new LRUCache<string, string>({
      max: config.maxEntries,
      ttlAutopurge: false,
      // Every way out (expired, evicted, deleted) frees the entry's place in its key's share.
      dispose: (jkt, _key, reason) => {
        this.release(jkt);
        if (reason === 'evict') {
          this.warn(
            'evict',
            `the in-process DPoP replay cache is full (${config.maxEntries} jti); the oldest are ` +
              'forgotten before their proofs expire and checked in cache.store only: raise ' +
              'dpop.maxReplayEntries or lower dpop.iatWindowSeconds',
          );
        }
      },
    });
    if (config.store) this.setIfAbsent = sharedSetIfAbsent(config.store);
  }

  /**
   * Records the proof `jti` of key `jkt` for `ttlMs`; `false` when it was recorded before (a
   * replay). Throws {@link IssuerUnavailableError} when the shared store cannot answer.
   */
  async firstUse(jkt: string, jti: string, ttlMs: number): Promise<boolean> {
    const key = hash('sha256', `${jkt} ${jti}`, 'base64url');
    // In process first, synchronously: two concurrent uses on one instance cannot both pass. `get`
    // drops an expired entry (freeing its share), where `has` would leave it to be overwritten.
    if (this.seen.get(key) !== undefined) return false;
    if (!this.setIfAbsent) {
      if ((this.held.get(jkt) ?? 0) >= this.share) this.refuseOverShare(jkt);
      if (this.seen.size >= this.config.maxEntries) this.refuseWhenFull();
    }
    this.seen.set(key, jkt, { ttl: Math.max(1, ttlMs) });
    this.held.set(jkt, (this.held.get(jkt) ?? 0) + 1);
    if (!this.setIfAbsent) return true;
    let first: boolean | typeof TIMED_OUT;
    try {
      first = await this.withTimeout(this.setIfAbsent(NAMESPACE + key, Math.max(1, ttlMs)));
    } catch (error) {
      first = TIMED_OUT;
      this.warn('error', `the shared store failed a DPoP replay check (${describe(error)})`);
    }
    if (first === TIMED_OUT) {
      // Forget the local mark: the client's retry with the same proof must not read as a replay.
      this.seen.delete(key);
      throw new IssuerUnavailableError(
        'The shared store (cache.store) that DPoP replay protection uses did not answer, so the ' +
          "proof's jti cannot be checked for replay; retry with a new proof shortly.",
        1,
        { reason: 'replay_store_unavailable' },
      );
    }
    return first;
  }

  /**
   * Without a shared store, a full cache sweeps its expired entries (at most once a second) and,
   * when every entry is still unexpired, refuses the proof (503) rather than forget one.
   */
  private refuseWhenFull(): void {
    if (this.purgeStale() && this.seen.size < this.config.maxEntries) return;
    const oldest = this.seen.rkeys().next();
    const freeInMs = oldest.done ? 1000 : this.seen.getRemainingTTL(oldest.value);
    const retryAfterSeconds = Math.max(1, Math.min(3600, Math.ceil(freeInMs / 1000)));
    this.warn(
      'full',
      `the in-process DPoP replay cache is full (${this.config.maxEntries} unexpired jti): raise ` +
        'dpop.maxReplayEntries (it must hold every proof accepted within dpop.iatWindowSeconds), ' +
        'lower dpop.iatWindowSeconds, or set cache.store',
    );
    throw new IssuerUnavailableError(
      "The API's DPoP replay cache is full of proofs that have not expired, so this proof's jti " +
        `cannot be recorded; retry with a new proof in ${retryAfterSeconds} s.`,
      retryAfterSeconds,
      { reason: 'replay_cache_full' },
    );
  }

  /**
   * Without a shared store, a key that holds its share of unexpired entries has its further proofs
   * refused (401), once a sweep of expired entries (at most once a second) has not made room: its
   * own flood costs it alone.
   */
  private refuseOverShare(jkt: string): void {
    if (this.purgeStale() && (this.held.get(jkt) ?? 0) < this.share) return;
    this.warn(
      'share',
      `one DPoP key (jkt ${jkt.slice(0, 8)}...) holds ${this.share} unexpired jti in the replay ` +
        'cache, half of dpop.maxReplayEntries: its further proofs are refused (401 ' +
        'dpop_replay_share_exceeded) until its earlier ones expire; other keys are not affected',
    );
    throw new InvalidDpopProofError(
      'dpop_replay_share_exceeded',
      `The API holds ${this.share} unexpired DPoP proofs of this key, the most one key may have ` +
        "on record: send fewer proofs; each is forgotten once its iat leaves the API's window.",
    );
  }

  /** Sweeps expired entries, at most once a second (O(n)); whether it swept. */
  private purgeStale(): boolean {
    const now = Date.now();
    if (now - this.lastPurge < PURGE_EVERY_MS) return false;
    this.lastPurge = now;
    this.seen.purgeStale();
    return true;
  }

  private release(jkt: string): void {
    const count = (this.held.get(jkt) ?? 0) - 1;
    if (count > 0) this.held.set(jkt, count);
    else this.held.delete(jkt);
  }

  private async withTimeout<V>(call: Promise<V>): Promise<V | typeof TIMED_OUT> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => {
        this.warn(
          'timeout',
          `the shared store did not answer a DPoP replay check in ${this.config.storeTimeoutMs} ms`,
        );
        resolve(TIMED_OUT);
      }, this.config.storeTimeoutMs);
    });
    try {
      return await Promise.race([call, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** At most one warning a minute of each kind. */
  private warn(kind: string, message: string): void {
    const now = Date.now();
    if (now - (this.lastWarning.get(kind) ?? -Infinity) < WARN_EVERY_MS) return;
    this.lastWarning.set(kind, now);
    const meanwhile =
      kind === 'evict' || kind === 'share'
        ? ''
        : '; DPoP requests are refused with 503 meanwhile (fail-closed)';
    this.logger.warn(`${message}${meanwhile}.`);
  }
}

/** The parts of a cache-manager Cache over Keyv and `@keyv/redis` that reach Redis itself. */
interface RedisSet {
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<unknown>;
}
interface KeyvRedisLike {
  getClient(): Promise<RedisSet>;
  createKeyPrefix(key: string, namespace?: string): string;
  namespace?: string;
}
/** The Keyv in front of it: its own key prefix and serialization (what its `get` reads). */
interface KeyvLike {
  store: KeyvRedisLike;
  namespace?: string;
  useKeyPrefix?: boolean;
  serializeData(data: { value: unknown; expires?: number }): Promise<unknown>;
}

/**
 * The atomic set-if-absent of `store`: its own `setIfAbsent`; Redis `SET NX PX` through the client
 * of a cache-manager Cache whose first store is Keyv over `@keyv/redis`; else `get` then `set`,
 * which two instances may interleave (a replay sent to both within milliseconds may pass once on
 * each).
 *
 * One key scheme on every path: the `SET NX` writes the very key and value Keyv's `set` would
 * (Keyv's namespace prefix, then `@keyv/redis`'s, and Keyv's serialized `{ value, expires }`), so
 * an instance on the `get`-then-`set` path over the same Redis sees the `jti`s recorded by one on
 * the `SET NX` path, and the other way round.
 */
export function sharedSetIfAbsent(store: SharedCacheStore): SetIfAbsent {
  if (typeof store.setIfAbsent === 'function') {
    return (key, ttlMs) => store.setIfAbsent!(key, '1', ttlMs);
  }
  const keyv = keyvOverRedis(store);
  if (keyv) {
    return async (key, ttlMs) => {
      const redis = keyv.store;
      const ttl = Math.ceil(ttlMs);
      const keyvKey =
        keyv.useKeyPrefix !== false && keyv.namespace ? `${keyv.namespace}:${key}` : key;
      const value = await keyv.serializeData({ value: '1', expires: Date.now() + ttl });
      if (typeof value !== 'string') return await getThenSet(store, key, ttlMs);
      const client = await redis.getClient();
      const redisKey = redis.createKeyPrefix(keyvKey, redis.namespace);
      return (await client.set(redisKey, value, { NX: true, PX: ttl })) === 'OK';
    };
  }
  return (key, ttlMs) => getThenSet(store, key, ttlMs);
}

async function getThenSet(store: SharedCacheStore, key: string, ttlMs: number): Promise<boolean> {
  if ((await store.get(key)) != null) return false;
  await store.set(key, '1', ttlMs);
  return true;
}

function keyvOverRedis(store: SharedCacheStore): KeyvLike | undefined {
  const stores = (store as { stores?: unknown }).stores;
  const keyv = (Array.isArray(stores) ? stores[0] : undefined) as Partial<KeyvLike> | undefined;
  const adapter = keyv?.store as Partial<KeyvRedisLike> | undefined;
  return typeof adapter?.getClient === 'function' &&
    typeof adapter.createKeyPrefix === 'function' &&
    typeof keyv?.serializeData === 'function'
    ? (keyv as KeyvLike)
    : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
