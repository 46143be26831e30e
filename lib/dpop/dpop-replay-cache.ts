import { hash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { IssuerUnavailableError } from '../errors/auth-error';
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

/**
 * The `jti`s of accepted DPoP proofs (RFC 9449 §11.1), each until its proof could no longer pass
 * the `iat` check: a proof is accepted once. Bounded in process (an LRU), and shared through
 * `cache.store` when set, so that instances behind one balancer refuse each other's replays.
 *
 * A shared store that fails or is slow fails closed: the request gets 503 (the library's answer to
 * a dependency it cannot reach) rather than a proof whose replay cannot be ruled out.
 */
export class DpopReplayCache {
  private readonly seen: LRUCache<string, true>;
  private readonly setIfAbsent?: SetIfAbsent;
  private lastWarning = new Map<string, number>();

  constructor(
    private readonly config: ReplayCacheConfig,
    private readonly logger: ReplayLogger,
  ) {
    this.seen = new LRUCache<string, true>({
      max: config.maxEntries,
      ttlAutopurge: false,
      dispose: (_value, _key, reason) => {
        if (reason === 'evict') {
          this.warn(
            'evict',
            `the in-process DPoP replay cache is full (${config.maxEntries} jti); the oldest are ` +
              'forgotten before their proofs expire: raise dpop.maxReplayEntries, lower ' +
              'dpop.iatWindowSeconds, or set cache.store',
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
    // In process first, synchronously: two concurrent uses on one instance cannot both pass.
    if (this.seen.has(key)) return false;
    this.seen.set(key, true, { ttl: Math.max(1, ttlMs) });
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
    this.logger.warn(`${message}; DPoP requests are refused with 503 meanwhile (fail-closed).`);
  }
}

/** The parts of a cache-manager Cache over Keyv and `@keyv/redis` that reach Redis itself. */
interface RedisSet {
  set(key: string, value: string, options: { NX: true; PX: number }): Promise<unknown>;
}
interface KeyvRedisLike {
  getClient(): Promise<RedisSet>;
}

/**
 * The atomic set-if-absent of `store`: its own `setIfAbsent`; Redis `SET NX PX` through the client
 * of a cache-manager Cache whose first store is `@keyv/redis`; else `get` then `set`, which two
 * instances may interleave (a replay sent to both within milliseconds may pass once on each).
 */
export function sharedSetIfAbsent(store: SharedCacheStore): SetIfAbsent {
  if (typeof store.setIfAbsent === 'function') {
    return (key, ttlMs) => store.setIfAbsent!(key, '1', ttlMs);
  }
  const redis = keyvRedisOf(store);
  if (redis) {
    return async (key, ttlMs) => {
      const client = await redis.getClient();
      return (await client.set(key, '1', { NX: true, PX: Math.ceil(ttlMs) })) === 'OK';
    };
  }
  return async (key, ttlMs) => {
    if ((await store.get(key)) != null) return false;
    await store.set(key, '1', ttlMs);
    return true;
  };
}

function keyvRedisOf(store: SharedCacheStore): KeyvRedisLike | undefined {
  const stores = (store as { stores?: unknown }).stores;
  const first = Array.isArray(stores) ? (stores[0] as { store?: unknown } | undefined) : undefined;
  const adapter = first?.store as Partial<KeyvRedisLike> | undefined;
  return typeof adapter?.getClient === 'function' ? (adapter as KeyvRedisLike) : undefined;
}

function describe(error: unknown): string {
  return error instanceof Error ? error.name : typeof error;
}
