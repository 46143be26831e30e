/**
 * A cache shared by several instances of an API. cache-manager's `Cache` (for example the
 * `CACHE_MANAGER` of `@nestjs/cache-manager`, with a Keyv store such as `@keyv/redis`) fits as is.
 */
export interface SharedCacheStore {
  get<T>(key: string): Promise<T | undefined | null>;
  /** `ttl` in milliseconds. */
  set<T>(key: string, value: T, ttl?: number): Promise<unknown>;
}
