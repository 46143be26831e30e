import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  InsufficientScopeError,
  InvalidTokenError,
  IssuerUnavailableError,
} from '../errors/auth-error';
import type { SharedCacheStore } from './shared-cache-store.interface';
import {
  TokenResultCache,
  type CacheLogger,
  type LookupResult,
  type TokenResultCacheConfig,
} from './token-result-cache';

type StoreMode = 'ok' | 'throw' | 'hang' | 'slow';

/** An in-memory shared store that can be made to fail, hang or answer late. */
class MemoryStore implements SharedCacheStore {
  readonly data = new Map<string, unknown>();
  readonly gets: string[] = [];
  readonly sets: { key: string; value: unknown; ttl?: number }[] = [];
  mode: StoreMode = 'ok';
  slowMs = 300;

  async get<T>(key: string): Promise<T | undefined> {
    this.gets.push(key);
    await this.misbehave();
    return this.data.get(key) as T | undefined;
  }

  async set<T>(key: string, value: T, ttl?: number): Promise<void> {
    this.sets.push({ key, value: structuredClone(value), ttl });
    await this.misbehave();
    this.data.set(key, structuredClone(value));
  }

  private misbehave(): Promise<void> {
    switch (this.mode) {
      case 'throw':
        return Promise.reject(new Error('ECONNREFUSED'));
      case 'hang':
        return new Promise<void>(() => undefined);
      case 'slow':
        return new Promise<void>((resolve) => setTimeout(resolve, this.slowMs));
      case 'ok':
        return Promise.resolve();
    }
  }
}

interface Deferred<T> {
  promise: Promise<T>;
  resolve(value: T): void;
}

function deferred<T>(): Deferred<T> {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((res) => {
    resolve = res;
  });
  return { promise, resolve };
}

const sleep = (ms: number) => new Promise<void>((resolve) => setTimeout(resolve, ms));
const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

const NAMESPACE = 'nest-oauth2-bearer:test:';
const TOKEN = 'opaque-token-abc123';
const TTL_MS = 60_000;
const FAILURE_TTL_MS = 5_000;
const STORE_TIMEOUT_MS = 50;
const START = 1_700_000_000_000;
let now = START;

interface Profile {
  sub: string;
}

function createCache(
  overrides: Partial<TokenResultCacheConfig> = {},
  logger: CacheLogger = { warn: jest.fn() },
): TokenResultCache<Profile> {
  return new TokenResultCache<Profile>(
    {
      namespace: NAMESPACE,
      ttlMs: TTL_MS,
      failureTtlMs: FAILURE_TTL_MS,
      maxEntries: 100,
      maxBytes: 100_000,
      storeTimeoutMs: STORE_TIMEOUT_MS,
      ...overrides,
    },
    logger,
  );
}

function lookupOf(value: Profile, expiresAtMs?: number) {
  return jest.fn(async (): Promise<LookupResult<Profile>> =>
    expiresAtMs === undefined ? { value } : { value, expiresAtMs },
  );
}

async function refusal(promise: Promise<unknown>): Promise<InvalidTokenError> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof InvalidTokenError) return error;
    throw error;
  }
  throw new Error('expected an InvalidTokenError, but resolve() succeeded');
}

beforeEach(() => {
  now = START;
  jest.spyOn(Date, 'now').mockImplementation(() => now);
});

afterEach(() => {
  jest.restoreAllMocks();
});

describe('TokenResultCache', () => {
  describe('local cache', () => {
    it('makes one lookup for many concurrent calls with one token', async () => {
      const cache = createCache({ store: new MemoryStore() });
      const answer = deferred<LookupResult<Profile>>();
      const lookup = jest.fn(() => answer.promise);

      const calls = Array.from({ length: 10 }, () => cache.resolve(TOKEN, lookup));
      answer.resolve({ value: { sub: 'alice' } });

      await expect(Promise.all(calls)).resolves.toStrictEqual(
        Array.from({ length: 10 }, () => ({ sub: 'alice' })),
      );
      expect(lookup).toHaveBeenCalledTimes(1);
    });

    it('shares one failed lookup between concurrent calls', async () => {
      const cache = createCache();
      const failure = new Error('boom');
      const lookup = jest.fn(async (): Promise<LookupResult<Profile>> => {
        await sleep(5);
        throw failure;
      });

      const calls = Array.from({ length: 5 }, () => cache.resolve(TOKEN, lookup));

      for (const call of calls) await expect(call).rejects.toBe(failure);
      expect(lookup).toHaveBeenCalledTimes(1);
    });

    it('reuses a cached value for the same token only', async () => {
      const cache = createCache();
      const lookup = lookupOf({ sub: 'alice' });

      await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: 'alice' });
      await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: 'alice' });
      expect(lookup).toHaveBeenCalledTimes(1);

      await cache.resolve('another-token', lookup);
      expect(lookup).toHaveBeenCalledTimes(2);
    });

    it.each([
      ['ttlMs when the token has no exp', undefined, TTL_MS],
      ['the exp when it comes before ttlMs', START + 10_000, 10_000],
      ['ttlMs when the exp comes later', START + 10 * TTL_MS, TTL_MS],
    ])('keeps a value for %s', async (_, expiresAtMs, lifetimeMs) => {
      const store = new MemoryStore();
      const cache = createCache({ store });
      const lookup = lookupOf({ sub: 'alice' }, expiresAtMs);

      await cache.resolve(TOKEN, lookup);
      now = START + lifetimeMs - 1;
      await cache.resolve(TOKEN, lookup);
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(store.sets[0]).toMatchObject({ ttl: lifetimeMs });

      now = START + lifetimeMs;
      await cache.resolve(TOKEN, lookup);
      expect(lookup).toHaveBeenCalledTimes(2);
    });

    it('returns, but does not keep, a value whose exp has passed', async () => {
      const store = new MemoryStore();
      const cache = createCache({ store });
      const lookup = lookupOf({ sub: 'alice' }, START - 1);

      await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: 'alice' });
      await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: 'alice' });
      expect(lookup).toHaveBeenCalledTimes(2);
      expect(store.sets).toHaveLength(0);
    });

    it('evicts the least recently used entry beyond maxEntries', async () => {
      const cache = createCache({ maxEntries: 2 });
      const lookup = lookupOf({ sub: 'alice' });

      await cache.resolve('token-a', lookup);
      await cache.resolve('token-b', lookup);
      await cache.resolve('token-a', lookup); // a is now the most recently used
      await cache.resolve('token-c', lookup); // evicts b
      expect(lookup).toHaveBeenCalledTimes(3);

      await cache.resolve('token-a', lookup);
      await cache.resolve('token-c', lookup);
      expect(lookup).toHaveBeenCalledTimes(3);

      await cache.resolve('token-b', lookup);
      expect(lookup).toHaveBeenCalledTimes(4);
    });

    it('does not keep locally an entry larger than maxBytes', async () => {
      const cache = createCache({ maxBytes: 200 });
      const lookup = lookupOf({ sub: 'x'.repeat(500) });

      await cache.resolve(TOKEN, lookup);
      await cache.resolve(TOKEN, lookup);
      expect(lookup).toHaveBeenCalledTimes(2);
    });
  });

  describe('refusals', () => {
    it.each(['token_rejected_by_issuer', 'token_inactive', 'token_expired'] as const)(
      'keeps a %s refusal for failureTtlMs and throws it again',
      async (reason) => {
        const cache = createCache();
        const lookup = jest.fn(async (): Promise<LookupResult<Profile>> => {
          throw new InvalidTokenError(reason, `refused: ${reason}`);
        });

        const first = await refusal(cache.resolve(TOKEN, lookup));
        now = START + FAILURE_TTL_MS - 1;
        const second = await refusal(cache.resolve(TOKEN, lookup));

        expect(lookup).toHaveBeenCalledTimes(1);
        for (const error of [first, second]) {
          expect(error).toMatchObject({ status: 401, reason, message: `refused: ${reason}` });
        }

        now = START + FAILURE_TTL_MS;
        await refusal(cache.resolve(TOKEN, lookup));
        expect(lookup).toHaveBeenCalledTimes(2);
      },
    );

    it('writes a refusal to the shared store for failureTtlMs', async () => {
      const store = new MemoryStore();
      const cache = createCache({ store });
      await refusal(
        cache.resolve(TOKEN, async () => {
          throw new InvalidTokenError('token_inactive', 'inactive');
        }),
      );
      expect(store.sets).toStrictEqual([
        {
          key: NAMESPACE + sha256(TOKEN),
          value: {
            ok: false,
            reason: 'token_inactive',
            message: 'inactive',
            expiresAt: START + FAILURE_TTL_MS,
          },
          ttl: FAILURE_TTL_MS,
        },
      ]);
    });

    it.each([
      ['an IssuerUnavailableError (503)', new IssuerUnavailableError('down', 5)],
      ['an InsufficientScopeError (403)', new InsufficientScopeError(['read'], 'no scope')],
      ['a plain Error', new Error('socket hang up')],
      ['a TypeError', new TypeError('x is undefined')],
      ['a thrown string', 'oops'],
    ])('neither keeps nor stores %s, and passes it on', async (_, failure) => {
      const store = new MemoryStore();
      const cache = createCache({ store });
      const lookup = jest.fn(async (): Promise<LookupResult<Profile>> => {
        throw failure;
      });

      await expect(cache.resolve(TOKEN, lookup)).rejects.toBe(failure);
      await expect(cache.resolve(TOKEN, lookup)).rejects.toBe(failure);
      expect(lookup).toHaveBeenCalledTimes(2);
      expect(store.sets).toHaveLength(0);
    });
  });

  describe('shared store', () => {
    it('keys entries by namespace and SHA-256 of the token, never the token', async () => {
      const store = new MemoryStore();
      const cache = createCache({ store });
      const key = NAMESPACE + sha256(TOKEN);

      await cache.resolve(TOKEN, lookupOf({ sub: 'alice' }, START + 10_000));
      await refusal(
        cache.resolve('second-opaque-token', async () => {
          throw new InvalidTokenError('token_inactive', 'inactive');
        }),
      );

      expect(store.gets[0]).toBe(key);
      expect(store.sets[0]).toStrictEqual({
        key,
        value: { ok: true, value: { sub: 'alice' }, expiresAt: START + 10_000 },
        ttl: 10_000,
      });
      expect(store.sets[1].key).toBe(NAMESPACE + sha256('second-opaque-token'));
      const written = JSON.stringify([store.gets, store.sets]);
      expect(written).not.toContain(TOKEN);
      expect(written).not.toContain('second-opaque-token');
    });

    it('uses a value from the shared store without a lookup', async () => {
      const store = new MemoryStore();
      store.data.set(NAMESPACE + sha256(TOKEN), {
        ok: true,
        value: { sub: 'from-store' },
        expiresAt: START + 1_000,
      });
      const cache = createCache({ store });
      const lookup = lookupOf({ sub: 'alice' });

      await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: 'from-store' });
      await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: 'from-store' });
      expect(lookup).not.toHaveBeenCalled();
      expect(store.gets).toHaveLength(1);
    });

    it('throws a refusal found in the shared store without a lookup', async () => {
      const store = new MemoryStore();
      store.data.set(NAMESPACE + sha256(TOKEN), {
        ok: false,
        reason: 'token_rejected_by_issuer',
        message: 'refused',
        expiresAt: START + 1_000,
      });
      const lookup = lookupOf({ sub: 'alice' });

      const error = await refusal(createCache({ store }).resolve(TOKEN, lookup));

      expect(error).toMatchObject({ reason: 'token_rejected_by_issuer', message: 'refused' });
      expect(lookup).not.toHaveBeenCalled();
    });

    it('looks up again when the shared entry has expired', async () => {
      const store = new MemoryStore();
      store.data.set(NAMESPACE + sha256(TOKEN), {
        ok: true,
        value: { sub: 'stale' },
        expiresAt: START,
      });
      const lookup = lookupOf({ sub: 'fresh' });

      await expect(createCache({ store }).resolve(TOKEN, lookup)).resolves.toStrictEqual({
        sub: 'fresh',
      });
      expect(lookup).toHaveBeenCalledTimes(1);
    });

    it('shares values between two caches over one store', async () => {
      const store = new MemoryStore();
      const lookup = lookupOf({ sub: 'alice' });

      await createCache({ store }).resolve(TOKEN, lookup);
      await expect(createCache({ store }).resolve(TOKEN, lookup)).resolves.toStrictEqual({
        sub: 'alice',
      });
      expect(lookup).toHaveBeenCalledTimes(1);
    });

    it.each([
      ['null', null],
      ['a string', 'corrupted'],
      ['a number', 42],
      ['an array', [true, START + 1_000]],
      ['an empty object', {}],
      ['ok as a string', { ok: 'true', value: { sub: 'x' }, expiresAt: START + 1_000 }],
      [
        'expiresAt as a string',
        { ok: true, value: { sub: 'x' }, expiresAt: String(START + 1_000) },
      ],
      ['no expiresAt', { ok: true, value: { sub: 'x' } }],
    ])('ignores a malformed entry: %s', async (_, entry) => {
      const store = new MemoryStore();
      store.data.set(NAMESPACE + sha256(TOKEN), entry);
      const lookup = lookupOf({ sub: 'alice' });

      await expect(createCache({ store }).resolve(TOKEN, lookup)).resolves.toStrictEqual({
        sub: 'alice',
      });
      expect(lookup).toHaveBeenCalledTimes(1);
    });
  });

  describe('a failing shared store', () => {
    it.each(['throw', 'hang', 'slow'] as const)(
      'is skipped when it does %s, within storeTimeoutMs, with one warning',
      async (mode) => {
        const store = new MemoryStore();
        store.mode = mode;
        const logger = { warn: jest.fn() };
        const cache = createCache({ store }, logger);
        const lookup = lookupOf({ sub: 'alice' });

        const started = performance.now();
        await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: 'alice' });
        expect(performance.now() - started).toBeLessThan(STORE_TIMEOUT_MS + 200);
        expect(lookup).toHaveBeenCalledTimes(1);

        // The write fails or times out too, within the same 30 s: no second warning.
        await sleep(STORE_TIMEOUT_MS + 50);
        expect(logger.warn).toHaveBeenCalledTimes(1);
        expect(logger.warn.mock.calls[0][0]).not.toContain(TOKEN);
      },
    );

    it('still serves from the local cache', async () => {
      const store = new MemoryStore();
      store.mode = 'hang';
      const cache = createCache({ store });
      const lookup = lookupOf({ sub: 'alice' });

      await cache.resolve(TOKEN, lookup);
      await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: 'alice' });
      expect(lookup).toHaveBeenCalledTimes(1);
      expect(store.gets).toHaveLength(1);
    });

    it('warns at most once per 30 s', async () => {
      const store = new MemoryStore();
      store.mode = 'throw';
      const logger = { warn: jest.fn() };
      const cache = createCache({ store }, logger);
      const lookup = lookupOf({ sub: 'alice' });
      const resolveAt = async (at: number, token: string) => {
        now = at;
        await cache.resolve(token, lookup);
        await sleep(0);
      };

      await resolveAt(START, 'token-1');
      await resolveAt(START + 1_000, 'token-2');
      await resolveAt(START + 29_999, 'token-3');
      expect(logger.warn).toHaveBeenCalledTimes(1);

      await resolveAt(START + 30_000, 'token-4');
      expect(logger.warn).toHaveBeenCalledTimes(2);
      await resolveAt(START + 59_999, 'token-5');
      expect(logger.warn).toHaveBeenCalledTimes(2);
      await resolveAt(START + 60_000, 'token-6');
      expect(logger.warn).toHaveBeenCalledTimes(3);
    });

    it('uses the store again once it recovers', async () => {
      const store = new MemoryStore();
      store.mode = 'throw';
      const cache = createCache({ store });
      await cache.resolve('token-1', lookupOf({ sub: 'alice' }));

      store.mode = 'ok';
      await cache.resolve('token-2', lookupOf({ sub: 'bob' }));
      await sleep(0);

      expect(store.data.get(NAMESPACE + sha256('token-2'))).toMatchObject({
        ok: true,
        value: { sub: 'bob' },
      });
    });

    it('leaves no timer keeping the process alive', async () => {
      const activeTimers = () =>
        process.getActiveResourcesInfo().filter((resource) => resource === 'Timeout').length;
      const store = new MemoryStore();
      store.mode = 'hang';
      const cache = createCache({ store });
      const before = activeTimers();

      const pending = cache.resolve(TOKEN, lookupOf({ sub: 'alice' }));
      expect(activeTimers()).toBe(before); // the store timeout timer is unref'd

      await pending;
      await sleep(STORE_TIMEOUT_MS + 50);
      expect(activeTimers()).toBeLessThanOrEqual(before);
    });
  });
});

describe('TokenResultCache with a value JSON cannot measure', () => {
  it('answers it but keeps nothing of it, asking again next time', async () => {
    const cache = createCache();
    const circular: Profile & { self?: unknown } = { sub: 'u' };
    circular.self = circular;
    const lookup = lookupOf(circular);
    await expect(cache.resolve(TOKEN, lookup)).resolves.toBe(circular);
    await expect(cache.resolve(TOKEN, lookup)).resolves.toBe(circular);
    expect(lookup).toHaveBeenCalledTimes(2);
  });
});
