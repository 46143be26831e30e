/**
 * A cache shared by several instances of an API. cache-manager's `Cache` (for example the
 * `CACHE_MANAGER` of `@nestjs/cache-manager`, with a Keyv store such as `@keyv/redis`) fits as is.
 */
export interface SharedCacheStore {
  get<T>(key: string): Promise<T | undefined | null>;
  /** `ttl` in milliseconds. */
  set<T>(key: string, value: T, ttl?: number): Promise<unknown>;
  /**
   * Stores `value` under `key` only if the key is absent, atomically (Redis `SET NX PX`), and says
   * whether it did: what DPoP replay protection needs across instances. Optional: without it, a
   * cache-manager Cache on `@keyv/redis` is used through its Redis client, and any other store
   * through `get` then `set` (not atomic; see docs/dpop.md).
   */
  setIfAbsent?(key: string, value: string, ttl: number): Promise<boolean>;
}
