import KeyvRedis from '@keyv/redis';
import { createCache, type Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { DpopReplayCache } from '../../lib/binding/dpop-replay-cache';
import { RedisServer } from '../support/redis-server';

const logger = { warn: () => undefined };

/**
 * DPoP replay records in a real Redis: an instance whose `cache.store` is a cache-manager Cache over
 * Keyv and `@keyv/redis` (atomic `SET NX`) and one whose store offers only `get` and `set` (the
 * fallback) use one key scheme, so each refuses the other's replays.
 */
describe('DPoP replay records in a shared Redis', () => {
  let redis: RedisServer;
  const caches: Cache[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(async () => {
    for (const cache of caches) await cache.disconnect();
    await redis.stop();
  });

  function redisCache(namespace?: string): Cache {
    const cache = createCache({
      stores: [
        new Keyv({
          store: new KeyvRedis(redis.url, { throwOnConnectError: false }),
          ...(namespace ? { namespace } : {}),
        }),
      ],
    });
    caches.push(cache);
    return cache;
  }

  /** The same Cache seen through `get` and `set` only: the path of any other store. */
  const getAndSetOnly = (cache: Cache) => ({
    get: <T>(key: string) => cache.get<T>(key),
    set: <T>(key: string, value: T, ttl?: number) => cache.set(key, value, ttl),
  });

  const replays = (store: Parameters<typeof getAndSetOnly>[0] | ReturnType<typeof getAndSetOnly>) =>
    new DpopReplayCache({ maxEntries: 100, storeTimeoutMs: 1000, store }, logger);

  it.each([[undefined], ['api']])(
    'a jti recorded by SET NX is seen by get-then-set, and the other way round (namespace %p)',
    async (namespace) => {
      const atomic = replays(redisCache(namespace));
      const fallback = replays(getAndSetOnly(redisCache(namespace)));
      expect(await atomic.firstUse('key', `a-${namespace}`, 60_000)).toBe(true);
      expect(await fallback.firstUse('key', `a-${namespace}`, 60_000)).toBe(false);
      expect(await fallback.firstUse('key', `b-${namespace}`, 60_000)).toBe(true);
      expect(await atomic.firstUse('key', `b-${namespace}`, 60_000)).toBe(false);
      // And SET NX itself sees what get-then-set recorded, from a third instance.
      expect(await replays(redisCache(namespace)).firstUse('key', `b-${namespace}`, 60_000)).toBe(
        false,
      );
    },
  );

  /** Redis's own count of socket reads (each a round trip, as the server sees it). */
  const readsProcessed = async () => {
    const stats = await redis.info('stats');
    return Number(/total_reads_processed:(\d+)/.exec(stats)![1]);
  };

  it('the replay checks of one event-loop turn reach Redis in one round trip (node-redis pipelines them)', async () => {
    const atomic = replays(redisCache());
    // Connected, and the client's handshake done, before counting.
    expect(await atomic.firstUse('key', 'warm-up', 60_000)).toBe(true);
    // What the probe costs itself (its connection's command and its close).
    const idle = await readsProcessed();
    const probe = (await readsProcessed()) - idle;
    const before = await readsProcessed();
    const checks = Array.from({ length: 50 }, (_, i) =>
      atomic.firstUse('key', `turn-${i}`, 60_000),
    );
    expect(await Promise.all(checks)).toEqual(new Array(50).fill(true));
    expect((await readsProcessed()) - before - probe).toBe(1);
  });

  it('records expire with the proof (the TTL reaches Redis on the SET NX path)', async () => {
    const atomic = replays(redisCache());
    expect(await atomic.firstUse('key', 'short', 50)).toBe(true);
    await new Promise((resolve) => setTimeout(resolve, 120));
    expect(await replays(getAndSetOnly(redisCache())).firstUse('key', 'short', 50)).toBe(true);
  });
});
