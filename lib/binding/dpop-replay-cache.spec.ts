import { InvalidDpopProofError, IssuerUnavailableError } from '../errors/auth-error';
import { DpopReplayCache, sharedSetIfAbsent } from './dpop-replay-cache';

const warnings: string[] = [];
const logger = { warn: (message: string) => warnings.push(message) };

describe('DpopReplayCache', () => {
  beforeEach(() => warnings.splice(0));

  it('accepts a jti once in process, per key', async () => {
    const cache = new DpopReplayCache({ maxEntries: 100, storeTimeoutMs: 50 }, logger);
    expect(await cache.firstUse('k1', 'j', 60_000)).toBe(true);
    expect(await cache.firstUse('k1', 'j', 60_000)).toBe(false);
    expect(await cache.firstUse('k2', 'j', 60_000)).toBe(true);
  });

  it('refuses new proofs (503, Retry-After) when full of unexpired jtis, and forgets none', async () => {
    const cache = new DpopReplayCache({ maxEntries: 100, storeTimeoutMs: 50 }, logger);
    // Two keys fill it, each with its share (half).
    for (let i = 0; i < 100; i++)
      expect(await cache.firstUse(`k${i % 2}`, `j${i}`, 60_000)).toBe(true);
    for (let i = 0; i < 2; i++) {
      const refusal = cache.firstUse('k2', `new${i}`, 60_000);
      await expect(refusal).rejects.toBeInstanceOf(IssuerUnavailableError);
      await expect(refusal).rejects.toMatchObject({
        status: 503,
        reason: 'replay_cache_full',
        retryAfterSeconds: 60,
      });
    }
    // The first jti is still known: its proof cannot be replayed.
    expect(await cache.firstUse('k0', 'j0', 60_000)).toBe(false);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/full \(100 unexpired jti\).*dpop.maxReplayEntries.*fail-closed/);
  });

  it("holds at most half of its capacity for one key: that key's excess is refused (401), no one else's", async () => {
    const cache = new DpopReplayCache({ maxEntries: 100, storeTimeoutMs: 50 }, logger);
    const answers: Record<string, unknown[]> = { flood: [], busy: [] };
    const answer = (promise: Promise<boolean>) =>
      promise.then(
        (first) => first,
        (error: unknown) => error,
      );
    // One key sends 160 proofs; a busy honest key sends 20 meanwhile.
    for (let i = 0; i < 160; i++) {
      answers.flood.push(await answer(cache.firstUse('flood', `f${i}`, 60_000)));
      if (i % 8 === 0) answers.busy.push(await answer(cache.firstUse('busy', `b${i}`, 60_000)));
    }
    expect(answers.flood.slice(0, 50)).toEqual(new Array(50).fill(true));
    for (const refusal of answers.flood.slice(50)) {
      expect(refusal).toBeInstanceOf(InvalidDpopProofError);
      expect(refusal).toMatchObject({ status: 401, reason: 'dpop_replay_share_exceeded' });
    }
    expect(answers.busy).toEqual(new Array(20).fill(true));
    // A key first seen after the flood finds room.
    for (let i = 0; i < 3; i++) expect(await cache.firstUse('late', `l${i}`, 60_000)).toBe(true);
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toMatch(/one DPoP key .* 50 unexpired jti.*half of dpop.maxReplayEntries/);
  });

  it("frees a key's share as its entries expire (a refused proof was not recorded)", async () => {
    const cache = new DpopReplayCache({ maxEntries: 100, storeTimeoutMs: 50 }, logger);
    for (let i = 0; i < 50; i++) expect(await cache.firstUse('k', `j${i}`, 200)).toBe(true);
    await expect(cache.firstUse('k', 'over', 60_000)).rejects.toMatchObject({
      reason: 'dpop_replay_share_exceeded',
    });
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect(await cache.firstUse('k', 'over', 60_000)).toBe(true);
  });

  it('takes new proofs again once entries expire (only the iat window needs remembering)', async () => {
    const cache = new DpopReplayCache({ maxEntries: 100, storeTimeoutMs: 50 }, logger);
    for (let i = 0; i < 100; i++) await cache.firstUse(`k${i % 2}`, `j${i}`, 20);
    await new Promise((resolve) => setTimeout(resolve, 40));
    expect(await cache.firstUse('k2', 'later', 60_000)).toBe(true);
  });

  it('with a shared store, forgets its oldest in-process entries (the store is the record)', async () => {
    const seen = new Set<string>();
    const store = {
      get: () => Promise.resolve(undefined),
      set: () => Promise.resolve(),
      setIfAbsent: (key: string) => Promise.resolve(!seen.has(key) && !!seen.add(key)),
    };
    const cache = new DpopReplayCache({ maxEntries: 100, storeTimeoutMs: 50, store }, logger);
    for (let i = 0; i < 101; i++) expect(await cache.firstUse('k', `j${i}`, 60_000)).toBe(true);
    expect(await cache.firstUse('k', 'j0', 60_000)).toBe(false);
    expect(warnings[0]).toMatch(/full \(100 jti\).*checked in cache.store only/);
  });

  it("uses a store's own atomic setIfAbsent", async () => {
    const seen = new Set<string>();
    const store = {
      get: () => Promise.resolve(undefined),
      set: () => Promise.resolve(),
      setIfAbsent: (key: string) => Promise.resolve(!seen.has(key) && !!seen.add(key)),
    };
    const [a, b] = [1, 2].map(
      () => new DpopReplayCache({ maxEntries: 100, storeTimeoutMs: 50, store }, logger),
    );
    expect(await a.firstUse('k', 'j', 1000)).toBe(true);
    expect(await b.firstUse('k', 'j', 1000)).toBe(false);
  });

  it('falls back to get then set for a store without setIfAbsent', async () => {
    const values = new Map<string, unknown>();
    const store = {
      get: <T>(key: string) => Promise.resolve(values.get(key) as T | undefined),
      set: (key: string, value: unknown) => Promise.resolve(values.set(key, value)),
    };
    const setIfAbsent = sharedSetIfAbsent(store);
    expect(await setIfAbsent('x', 1000)).toBe(true);
    expect(await setIfAbsent('x', 1000)).toBe(false);
  });

  it('fails closed (503) when the store throws, and lets the same proof be retried', async () => {
    let fail = true;
    const store = {
      get: () => Promise.resolve(undefined),
      set: () => Promise.resolve(),
      setIfAbsent: () => (fail ? Promise.reject(new Error('down')) : Promise.resolve(true)),
    };
    const cache = new DpopReplayCache({ maxEntries: 100, storeTimeoutMs: 50, store }, logger);
    const refusal = cache.firstUse('k', 'j', 1000);
    await expect(refusal).rejects.toBeInstanceOf(IssuerUnavailableError);
    await expect(refusal).rejects.toMatchObject({
      status: 503,
      reason: 'replay_store_unavailable',
      retryAfterSeconds: 1,
    });
    expect(warnings[0]).toMatch(/failed a DPoP replay check \(Error\).*fail-closed/);
    fail = false;
    expect(await cache.firstUse('k', 'j', 1000)).toBe(true);
  });
});
