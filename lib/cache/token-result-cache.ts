import { createHash } from 'node:crypto';
import { LRUCache } from 'lru-cache';
import { AuthError, InvalidTokenError, type AuthErrorReason } from '../errors/auth-error';
import type { SharedCacheStore } from './shared-cache-store.interface';

/** What a lookup found: a value, or a definitive refusal (cached briefly). */
type Entry<T> =
  | { ok: true; value: T; expiresAt: number }
  | { ok: false; reason: AuthErrorReason; message: string; expiresAt: number };

/** A lookup's answer, with the time it stops being valid (a token's `exp`) when known. */
export interface LookupResult<T> {
  value: T;
  expiresAtMs?: number;
}

export interface TokenResultCacheConfig {
  /** Prefix of shared-store keys, e.g. `nest-oauth2-bearer:userinfo:`. */
  namespace: string;
  /** Longest time a result is kept. */
  ttlMs: number;
  /** How long a definitive refusal (401 upstream) is kept. */
  failureTtlMs: number;
  /** Local entries at most. */
  maxEntries: number;
  /** Local bytes at most (JSON length of the entries). */
  maxBytes: number;
  store?: SharedCacheStore;
  /** Timeout of each shared-store call; past it the store is skipped for that request. */
  storeTimeoutMs: number;
}

export interface CacheLogger {
  warn(message: string): void;
}

const STORE_WARNING_INTERVAL_MS = 30_000;
const TIMED_OUT = Symbol('timed out');

/**
 * Caches what an identity provider said of a token, keyed by the token's SHA-256 (never the token):
 * a bounded in-process LRU in front of an optional shared store, with one upstream call for
 * concurrent requests with one token. A shared store that fails or is slow is skipped, never fatal.
 */
export class TokenResultCache<T> {
  private readonly local: LRUCache<string, Entry<T>>;
  private readonly inflight = new Map<string, Promise<Entry<T>>>();
  private lastStoreWarning = -Infinity;

  constructor(
    private readonly config: TokenResultCacheConfig,
    private readonly logger: CacheLogger,
  ) {
    this.local = new LRUCache<string, Entry<T>>({
      max: config.maxEntries,
      maxSize: config.maxBytes,
      sizeCalculation: (entry) => entrySize(entry, config.maxBytes),
    });
  }

  /** The cached answer for `token`, or `lookup`'s, shared by every concurrent caller. */
  async resolve(token: string, lookup: () => Promise<LookupResult<T>>): Promise<T> {
    const key = createHash('sha256').update(token).digest('hex');
    const cached = this.local.get(key);
    const entry = cached && cached.expiresAt > Date.now() ? cached : await this.load(key, lookup);
    if (entry.ok) return entry.value;
    throw new InvalidTokenError(entry.reason, entry.message);
  }

  private load(key: string, lookup: () => Promise<LookupResult<T>>): Promise<Entry<T>> {
    let pending = this.inflight.get(key);
    if (!pending) {
      pending = this.fetch(key, lookup).finally(() => this.inflight.delete(key));
      this.inflight.set(key, pending);
    }
    return pending;
  }

  private async fetch(key: string, lookup: () => Promise<LookupResult<T>>): Promise<Entry<T>> {
    const shared = await this.storeGet(key);
    if (shared && shared.expiresAt > Date.now()) {
      this.local.set(key, shared);
      return shared;
    }
    let entry: Entry<T>;
    const now = Date.now();
    try {
      const result = await lookup();
      const expiresAt = Math.min(now + this.config.ttlMs, result.expiresAtMs ?? Infinity);
      entry = { ok: true, value: result.value, expiresAt };
    } catch (error) {
      // Only a definitive refusal is remembered; an outage (503) is asked again next time.
      if (!(error instanceof AuthError) || error.code !== 'invalid_token') throw error;
      entry = {
        ok: false,
        reason: error.reason,
        message: error.message,
        expiresAt: now + this.config.failureTtlMs,
      };
    }
    if (entry.expiresAt > now) {
      this.local.set(key, entry);
      void this.storeSet(key, entry, entry.expiresAt - now);
    }
    return entry;
  }

  private async storeGet(key: string): Promise<Entry<T> | undefined> {
    const store = this.config.store;
    if (!store) return undefined;
    const value = await this.withTimeout(
      () => store.get<Entry<T>>(this.config.namespace + key),
      'read',
    );
    return isEntry<T>(value) ? value : undefined;
  }

  private async storeSet(key: string, entry: Entry<T>, ttlMs: number): Promise<void> {
    const store = this.config.store;
    if (store)
      await this.withTimeout(() => store.set(this.config.namespace + key, entry, ttlMs), 'write');
  }

  /** Runs a store call with a timeout; a store that throws, rejects or hangs yields `undefined`. */
  private async withTimeout<V>(call: () => Promise<V>, what: string): Promise<V | undefined> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<typeof TIMED_OUT>((resolve) => {
      timer = setTimeout(() => resolve(TIMED_OUT), this.config.storeTimeoutMs);
      timer.unref();
    });
    try {
      const result = await Promise.race([call(), timeout]);
      if (result !== TIMED_OUT) return result;
      this.warnStore(
        `the shared cache did not answer a ${what} in ${this.config.storeTimeoutMs} ms`,
      );
    } catch (error) {
      this.warnStore(`the shared cache failed a ${what}: ${(error as Error)?.message ?? error}`);
    } finally {
      clearTimeout(timer);
    }
    return undefined;
  }

  private warnStore(message: string): void {
    const now = Date.now();
    if (now - this.lastStoreWarning < STORE_WARNING_INTERVAL_MS) return;
    this.lastStoreWarning = now;
    this.logger.warn(`${message}; serving from the local cache and the identity provider.`);
  }
}

/** Whether a value read from the shared store is an entry this class wrote (Redis is data too). */
function isEntry<T>(value: unknown): value is Entry<T> {
  if (typeof value !== 'object' || value === null) return false;
  const entry = value as Record<string, unknown>;
  if (typeof entry.expiresAt !== 'number') return false;
  if (entry.ok === true) return typeof entry.value === 'object' && entry.value !== null;
  return (
    entry.ok === false && typeof entry.reason === 'string' && typeof entry.message === 'string'
  );
}

/** An entry's size as JSON; one that cannot be measured counts as too large to keep. */
function entrySize(entry: unknown, maxBytes: number): number {
  try {
    return Math.max(1, JSON.stringify(entry).length);
  } catch {
    return maxBytes + 1;
  }
}
