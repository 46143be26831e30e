import { AuthOptionsError, optionNumber, refuseUnknownKeys } from '../errors/auth-options-error';
import { INDEX_BYTES_PER_ENTRY, minimumCacheBytes } from './verified-token-cache';

/** Default bounds of the verified-token cache: about 64 MiB at most (see bench/RESULTS.md). */
export const DEFAULT_VERIFIED_TOKEN_CACHE = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 };

const VERIFIED_TOKEN_CACHE_OPTION_NAMES = { maxEntries: true, maxBytes: true };

/** Bounds of the in-process verified-token cache; `false` when it is off. */
export type ResolvedVerifiedTokenCacheOptions = { maxEntries: number; maxBytes: number } | false;

/** Validates `verifiedTokenCache`, with its defaults. */
export function resolveVerifiedTokenCache(
  value: boolean | { maxEntries?: number; maxBytes?: number } | undefined,
): ResolvedVerifiedTokenCacheOptions {
  if (value === false) return false;
  if (value === undefined || value === true) return { ...DEFAULT_VERIFIED_TOKEN_CACHE };
  if (typeof value !== 'object' || value === null) {
    throw new AuthOptionsError(
      'verifiedTokenCache',
      'must be true, false or { maxEntries, maxBytes }',
    );
  }
  refuseUnknownKeys(value, VERIFIED_TOKEN_CACHE_OPTION_NAMES, 'verifiedTokenCache.');
  const maxEntries = optionNumber(
    value.maxEntries,
    'verifiedTokenCache.maxEntries',
    DEFAULT_VERIFIED_TOKEN_CACHE.maxEntries,
    1,
    10_000_000,
  );
  // The index and the store (allocated once, outside the V8 heap, resident as it is written).
  const maxBytes = optionNumber(
    value.maxBytes,
    'verifiedTokenCache.maxBytes',
    DEFAULT_VERIFIED_TOKEN_CACHE.maxBytes,
    1024,
    2 ** 30,
  );
  if (maxBytes < minimumCacheBytes(maxEntries)) {
    throw new AuthOptionsError(
      'verifiedTokenCache.maxBytes',
      `must leave room for the index of maxEntries (${INDEX_BYTES_PER_ENTRY} bytes per entry) and a ` +
        `store: at least ${minimumCacheBytes(maxEntries)} for ${maxEntries} entries`,
    );
  }
  return { maxEntries, maxBytes };
}
