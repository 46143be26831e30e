import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import {
  InsufficientScopeError,
  InvalidTokenError,
  IssuerUnavailableError,
} from '../errors/auth-error';
import { tokenHash } from '../token/token-hash';
import { checkCachedProfile, checkCachedUser } from './cached-values';
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
      checkValue: checkCachedProfile,
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

    it.each([undefined, null])(
      'takes %s from the store for a miss, without a warning',
      async (miss) => {
        const store = new MemoryStore();
        store.data.set(NAMESPACE + sha256(TOKEN), miss);
        const logger = { warn: jest.fn() };
        const lookup = lookupOf({ sub: 'alice' });

        await expect(createCache({ store }, logger).resolve(TOKEN, lookup)).resolves.toStrictEqual({
          sub: 'alice',
        });
        expect(lookup).toHaveBeenCalledTimes(1);
        expect(logger.warn).not.toHaveBeenCalled();
      },
    );

    it('looks up again, without a warning, when a well-formed shared entry has expired', async () => {
      const store = new MemoryStore();
      store.data.set(NAMESPACE + sha256(TOKEN), { ok: true, value: { sub: 'old' }, expiresAt: 1 });
      const logger = { warn: jest.fn() };

      await createCache({ store }, logger).resolve(TOKEN, lookupOf({ sub: 'alice' }));
      expect(logger.warn).not.toHaveBeenCalled();
    });
  });

  describe('entries read from the shared store', () => {
    const good = { ok: true, value: { sub: 'from-store' }, expiresAt: START + 1_000 };
    const refused = {
      ok: false,
      reason: 'token_rejected_by_issuer',
      message: 'refused',
      expiresAt: START + 1_000,
    };
    // Entries may claim to live a little past the TTL (clocks of instances differ), no more.
    const SLACK_MS = 5_000;

    it.each([
      ['a string', 'corrupted', /not an object/],
      ['a number', 42, /not an object/],
      ['an array', [true, START + 1_000], /not an object/],
      ['an empty object', {}, /ok/],
      ['no ok', { value: { sub: 'x' }, expiresAt: START + 1_000 }, /ok/],
      ['ok as a string', { ...good, ok: 'true' }, /ok/],
      ['ok as 1', { ...good, ok: 1 }, /ok/],
      ['expiresAt as a string', { ...good, expiresAt: String(START + 1_000) }, /expiresAt/],
      ['no expiresAt', { ok: true, value: { sub: 'x' } }, /expiresAt/],
      ['expiresAt NaN', { ...good, expiresAt: NaN }, /expiresAt/],
      ['expiresAt Infinity', { ...good, expiresAt: Infinity }, /expiresAt/],
      [
        'a value living past ttlMs',
        { ...good, expiresAt: START + TTL_MS + SLACK_MS + 1 },
        /expires/,
      ],
      ['a value living for a year', { ...good, expiresAt: START + 365 * 86_400_000 }, /expires/],
      [
        'a refusal living past failureTtlMs',
        { ...refused, expiresAt: START + FAILURE_TTL_MS + SLACK_MS + 1 },
        /expires/,
      ],
      ['no value', { ok: true, expiresAt: START + 1_000 }, /not an object/],
      ['a value of null', { ...good, value: null }, /not an object/],
      ['a value without sub', { ...good, value: { name: 'x' } }, /sub/],
      ['a value with a numeric sub', { ...good, value: { sub: 7 } }, /sub/],
      ['a refusal without reason', { ...refused, reason: undefined }, /reason/],
      ['a refusal with an unknown reason', { ...refused, reason: 'pwned' }, /reason/],
      ['a refusal with a 503 reason', { ...refused, reason: 'issuer_unavailable' }, /reason/],
      ['a refusal with a 403 reason', { ...refused, reason: 'insufficient_scope' }, /reason/],
      ['a refusal with the reason toString', { ...refused, reason: 'toString' }, /reason/],
      ['a refusal with the reason __proto__', { ...refused, reason: '__proto__' }, /reason/],
      ['a refusal with a numeric reason', { ...refused, reason: 401 }, /reason/],
      ['a refusal with a numeric message', { ...refused, message: 401 }, /message/],
      ['a refusal without message', { ...refused, message: undefined }, /message/],
      ['a refusal with a huge message', { ...refused, message: 'x'.repeat(1_001) }, /message/],
    ])(
      'drops %s, asks the provider and overwrites it, with a warning naming the hash',
      async (_, entry, problem) => {
        const store = new MemoryStore();
        const key = NAMESPACE + sha256(TOKEN);
        store.data.set(key, entry);
        const logger = { warn: jest.fn() };
        const lookup = lookupOf({ sub: 'alice' });

        await expect(createCache({ store }, logger).resolve(TOKEN, lookup)).resolves.toStrictEqual({
          sub: 'alice',
        });
        expect(lookup).toHaveBeenCalledTimes(1);
        await sleep(0);
        expect(store.data.get(key)).toStrictEqual({
          ok: true,
          value: { sub: 'alice' },
          expiresAt: START + TTL_MS,
        });
        expect(logger.warn).toHaveBeenCalledTimes(1);
        const warning: string = logger.warn.mock.calls[0][0];
        expect(warning).toContain(tokenHash(TOKEN));
        expect(warning).toMatch(problem);
        expect(warning).not.toContain(TOKEN);
        expect(warning).not.toContain(sha256(TOKEN));
      },
    );

    it.each([
      ['a value at the edge of ttlMs', { ...good, expiresAt: START + TTL_MS + SLACK_MS }],
      ['a refusal at the edge of failureTtlMs', { ...refused, expiresAt: START + 10_000 }],
      ['an entry with members this version does not know', { ...good, extra: true }],
    ])('takes %s', async (_, entry) => {
      const store = new MemoryStore();
      store.data.set(NAMESPACE + sha256(TOKEN), entry);
      const logger = { warn: jest.fn() };
      const lookup = lookupOf({ sub: 'alice' });

      await createCache({ store }, logger)
        .resolve(TOKEN, lookup)
        .catch(() => undefined);
      expect(lookup).not.toHaveBeenCalled();
      expect(logger.warn).not.toHaveBeenCalled();
    });

    it.each([
      'token_rejected_by_issuer',
      'token_inactive',
      'token_expired',
      'token_not_yet_valid',
      'invalid_claim',
      'audience_mismatch',
      'issuer_mismatch',
      'sender_constrained_token',
    ])('takes a refusal for %s (a reason the opaque path gives)', async (reason) => {
      const store = new MemoryStore();
      store.data.set(NAMESPACE + sha256(TOKEN), { ...refused, reason });
      const lookup = lookupOf({ sub: 'alice' });

      const error = await refusal(createCache({ store }).resolve(TOKEN, lookup));
      expect(error).toMatchObject({ status: 401, reason, message: 'refused' });
      expect(lookup).not.toHaveBeenCalled();
    });

    it('gives the validator the token, so that a user is checked against its hash', async () => {
      const store = new MemoryStore();
      const checkValue = jest.fn(() => undefined);
      store.data.set(NAMESPACE + sha256(TOKEN), good);

      await createCache({ store, checkValue }).resolve(TOKEN, lookupOf({ sub: 'alice' }));
      expect(checkValue).toHaveBeenCalledWith({ sub: 'from-store' }, TOKEN);
    });

    it("refuses a user entry copied from another token's key, and asks the provider", async () => {
      const store = new MemoryStore();
      const users = new TokenResultCache<unknown>(
        {
          namespace: NAMESPACE,
          ttlMs: TTL_MS,
          failureTtlMs: FAILURE_TTL_MS,
          maxEntries: 100,
          maxBytes: 100_000,
          storeTimeoutMs: STORE_TIMEOUT_MS,
          store,
          checkValue: checkCachedUser,
        },
        { warn: jest.fn() },
      );
      const user = (token: string) => ({
        sub: 'auth0|user-1',
        scopes: ['read:messages'],
        tokenType: 'opaque',
        tokenHash: tokenHash(token),
        claims: { sub: 'auth0|user-1' },
      });
      await users.resolve('known-token', async () => ({ value: user('known-token') }));
      await sleep(0);
      store.data.set(
        NAMESPACE + sha256('unknown-token'),
        store.data.get(NAMESPACE + sha256('known-token')),
      );

      const lookup = jest.fn(async (): Promise<LookupResult<unknown>> => {
        throw new InvalidTokenError('token_rejected_by_issuer', 'refused');
      });
      await refusal(users.resolve('unknown-token', lookup));
      expect(lookup).toHaveBeenCalledTimes(1);
    });

    it('warns about dropped entries at most once per 30 s, counting those it kept quiet', async () => {
      const store = new MemoryStore();
      const logger = { warn: jest.fn() };
      const cache = createCache({ store }, logger);
      const lookup = lookupOf({ sub: 'alice' });
      const dropAt = async (at: number, token: string) => {
        now = at;
        store.data.set(NAMESPACE + sha256(token), { ...good, ok: 'yes' });
        await cache.resolve(token, lookup);
      };

      await dropAt(START, 'token-1');
      await dropAt(START + 1_000, 'token-2');
      await dropAt(START + 29_999, 'token-3');
      expect(logger.warn).toHaveBeenCalledTimes(1);
      expect(logger.warn.mock.calls[0][0]).not.toMatch(/entries/);

      await dropAt(START + 30_000, 'token-4');
      expect(logger.warn).toHaveBeenCalledTimes(2);
      expect(logger.warn.mock.calls[1][0]).toContain(tokenHash('token-4'));
      expect(logger.warn.mock.calls[1][0]).toMatch(/3 entries/);
      expect(lookup).toHaveBeenCalledTimes(4);
    });

    it('does not share an entry it would refuse to read, and still answers from it', async () => {
      const store = new MemoryStore();
      const cache = createCache({ store });
      const lookup = lookupOf({ sub: '' });
      const longRefusal = jest.fn(async (): Promise<LookupResult<Profile>> => {
        throw new InvalidTokenError('token_inactive', 'x'.repeat(1_001));
      });

      await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: '' });
      await expect(cache.resolve(TOKEN, lookup)).resolves.toStrictEqual({ sub: '' });
      await refusal(cache.resolve('another-token', longRefusal));
      await refusal(cache.resolve('another-token', longRefusal));
      await sleep(0);

      expect(lookup).toHaveBeenCalledTimes(1);
      expect(longRefusal).toHaveBeenCalledTimes(1);
      expect(store.sets).toHaveLength(0);
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
