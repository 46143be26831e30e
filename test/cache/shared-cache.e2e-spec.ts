import { createHash, randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { createClient } from '@keyv/redis';
import request from 'supertest';
import { tokenHash } from '../../lib/token/token-hash';
import { onExpressOnly, PLATFORMS } from '../support/create-fixture-app';
import { FixtureController } from '../support/fixture.controllers';
import { KeyServer } from '../support/key-server';
import { redisBackedApp } from '../support/redis-app';
import { RedisServer } from '../support/redis-server';
import { capturedLogs, rememberToken } from '../support/log-capture';

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Several instances of an API sharing one real redis-server through @nestjs/cache-manager. */
describe.each(PLATFORMS)('a shared cache in Redis (%s)', (platform) => {
  // Fastify runs only the tests whose answers it sends (see onExpressOnly).
  const itOnExpress = onExpressOnly(platform, it);
  const describeOnExpress = onExpressOnly(platform, describe);
  let ks: KeyServer;
  let redis: RedisServer;
  const apps: INestApplication[] = [];

  beforeAll(async () => {
    redis = await RedisServer.start();
  });

  afterAll(() => redis.stop());

  beforeEach(async () => {
    ks = await KeyServer.start();
  });

  afterEach(async () => {
    redis.thaw();
    while (apps.length > 0) await apps.pop()!.close();
    await ks.stop();
  });

  /** One instance of the API, as a user would wire it: CacheModule with @keyv/redis, CACHE_MANAGER. */
  async function instance(provider: KeyServer = ks): Promise<INestApplication> {
    const app = await redisBackedApp(
      redis.url,
      { issuerUrl: provider.issuer, audience: provider.audience, opaqueTokens: 'userinfo' },
      [FixtureController],
      platform,
      // Long enough for a loaded machine, short enough for the frozen-Redis test's 1.5 s.
      { storeTimeoutMs: 400 },
    );
    apps.push(app);
    return app;
  }

  function knownToken(): string {
    const token = rememberToken(randomBytes(30).toString('base64url').replace(/^eyJ/, 'abc'));
    ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com' });
    return token;
  }

  const get = (app: INestApplication, token: string) =>
    request(app.getHttpServer()).get('/me').set('Authorization', `Bearer ${token}`);

  it('makes one upstream call for two instances, and stores only a hash of the token', async () => {
    const [first, second] = [await instance(), await instance()];
    const token = knownToken();
    expect((await get(first, token)).status).toBe(200);
    await new Promise((resolve) => setTimeout(resolve, 50));
    const res = await get(second, token);
    expect([res.status, res.body.profile?.email]).toEqual([200, 'ada@example.com']);
    expect(ks.userinfoCalls).toBe(1);
    const keys = await redis.command('KEYS *');
    expect(keys).not.toContain(token);
    expect(await redis.command(`EXISTS ${token}`)).toBe(':0');
  });

  it('never lets an API take the answer another API (another issuer) stored in the same Redis', async () => {
    const other = await KeyServer.start();
    try {
      const [mine, theirs] = [await instance(), await instance(other)];
      const token = knownToken();
      expect((await get(mine, token)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const res = await get(theirs, token);
      expect([res.status, res.body.reason]).toEqual([401, 'token_rejected_by_issuer']);
      expect(other.userinfoCalls).toBe(1);
    } finally {
      await other.stop();
    }
  });

  itOnExpress('keeps answering when Redis is frozen, within the store timeout', async () => {
    const app = await instance();
    redis.freeze();
    const started = Date.now();
    const res = await get(app, knownToken());
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1500);
    redis.thaw();
  });

  itOnExpress(
    'keeps answering when Redis is stopped, and uses it again when it is back',
    async () => {
      const app = await instance();
      await redis.stop();
      const tokens = [knownToken(), knownToken()];
      for (const token of tokens) expect((await get(app, token)).status).toBe(200);
      await redis.resume();
      await new Promise((resolve) => setTimeout(resolve, 1500));
      const other = await instance();
      const token = knownToken();
      expect((await get(app, token)).status).toBe(200);
      await new Promise((resolve) => setTimeout(resolve, 50));
      const callsBefore = ks.userinfoCalls;
      expect((await get(other, token)).status).toBe(200);
      expect(ks.userinfoCalls).toBe(callsBefore);
    },
  );

  it('closes its Redis connections when the application shuts down', async () => {
    const before = await redis.connectedClients();
    const app = await instance();
    expect((await get(app, knownToken())).status).toBe(200);
    expect(await redis.connectedClients()).toBeGreaterThan(before);
    await apps.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await redis.connectedClients()).toBe(before);
  });
  describeOnExpress('entries read back from Redis', () => {
    let raw: ReturnType<typeof createClient>;

    beforeEach(async () => {
      raw = createClient({ url: redis.url });
      await raw.connect();
    });

    afterEach(() => raw.close());

    /**
     * How @keyv/redis 5 (under Keyv and cache-manager) stores `cache.set(key, entry, ttl)`: the
     * Redis key is `keyv::keyv:` + key, the value `{"value":entry,"expires":epochMs}` as JSON (a
     * string that starts with ':' gets one more: none of ours do), with a PX expiry.
     */
    const plant = (key: string, entry: unknown) =>
      raw.set(key, JSON.stringify({ value: entry, expires: Date.now() + 60_000 }), { PX: 60_000 });

    /** The Redis key of the entry an instance wrote for `token` (writes are not awaited). */
    async function storedKey(token: string): Promise<string> {
      for (let attempt = 0; attempt < 40; attempt++) {
        const keys = await raw.keys(`*${sha256(token)}`);
        if (keys.length > 0) return keys[0];
        await sleep(25);
      }
      throw new Error('no entry was written for the token');
    }

    /** The cache entry under `key` once `ready` holds of it (the instance writes in the background). */
    async function storedEntry(
      key: string,
      ready: (entry: StoredEntry) => boolean = () => true,
    ): Promise<StoredEntry> {
      let entry: StoredEntry | undefined;
      for (let attempt = 0; attempt < 40; attempt++) {
        const text = await raw.get(key);
        entry = text === null ? undefined : (JSON.parse(text) as { value: StoredEntry }).value;
        if (entry && ready(entry)) return entry;
        await sleep(25);
      }
      throw new Error(`the entry did not become ready: ${JSON.stringify(entry)?.slice(0, 200)}`);
    }

    const unknownToken = () =>
      rememberToken(randomBytes(30).toString('base64url').replace(/^eyJ/, 'abc'));

    /** What the token cache warned of since `mark` (the app logs other warnings at startup). */
    const cacheWarningsSince = (mark: number) =>
      capturedLogs()
        .slice(mark)
        .filter((line) => line.startsWith('warn') && line.endsWith(' TokenCache'));

    it('reads the format @keyv/redis writes, under a namespace with the format version', async () => {
      const token = knownToken();
      expect((await get(await instance(), token)).status).toBe(200);

      const key = await storedKey(token);
      expect(key).toMatch(/^keyv::keyv:nest-oauth2-bearer:v3:opaque:[0-9a-f]{16}:[0-9a-f]{64}$/);
      expect(key.endsWith(`:${sha256(token)}`)).toBe(true);
      const stored = JSON.parse((await raw.get(key))!);
      expect(stored).toEqual({
        value: {
          ok: true,
          value: {
            sub: 'auth0|user-1',
            scopes: [],
            tokenType: 'opaque',
            tokenHash: tokenHash(token),
            claims: { sub: 'auth0|user-1', email: 'ada@example.com' },
            profile: { sub: 'auth0|user-1', email: 'ada@example.com' },
          },
          expiresAt: expect.any(Number),
        },
        expires: expect.any(Number),
      });
      expect(Math.abs(stored.expires - stored.value.expiresAt)).toBeLessThan(1000);
    });

    const spoiled: [string, (entry: StoredEntry) => unknown][] = [
      ['a string instead of an entry', () => 'corrupted'],
      ['ok as a string', (entry) => ({ ...entry, ok: 'true' })],
      ['an expiresAt a year away', (entry) => ({ ...entry, expiresAt: Date.now() + 3.2e10 })],
      ['scopes that are a string', (entry) => withUser(entry, { scopes: 'admin' })],
      ['a scope with a space', (entry) => withUser(entry, { scopes: ['read:messages admin'] })],
      ['a JWT tokenType', (entry) => withUser(entry, { tokenType: 'jwt' })],
      ['claims that are an array', (entry) => withUser(entry, { claims: [] })],
      [
        'a profile without sub',
        (entry) => withUser(entry, { profile: { email: 'x@example.com' } }),
      ],
      [
        'a refusal with an unknown reason',
        () => ({ ok: false, reason: 'pwned', message: 'no', expiresAt: Date.now() + 5000 }),
      ],
      [
        'a refusal with a huge message',
        () => ({
          ok: false,
          reason: 'token_rejected_by_issuer',
          message: 'x'.repeat(5000),
          expiresAt: Date.now() + 5000,
        }),
      ],
    ];

    it.each(spoiled)(
      'drops an entry with %s, asks the provider, answers right, warns with the hash and rewrites it',
      async (_, spoil) => {
        const token = knownToken();
        expect((await get(await instance(), token)).status).toBe(200);
        const key = await storedKey(token);
        const good = await storedEntry(key);
        await plant(key, spoil(good));
        const [calls, mark] = [ks.userinfoCalls, capturedLogs().length];

        const res = await get(await instance(), token);

        expect([res.status, res.body.profile?.email, res.body.tokenHash]).toEqual([
          200,
          'ada@example.com',
          tokenHash(token),
        ]);
        expect(ks.userinfoCalls).toBe(calls + 1);
        const warnings = cacheWarningsSince(mark);
        expect(warnings).toEqual([expect.stringContaining(tokenHash(token))]);
        expect(warnings[0]).not.toContain(token);
        const rewritten = await storedEntry(key, (entry) => entry.ok === true);
        expect(rewritten.value).toEqual(good.value);
      },
    );

    it("refuses an unknown token whose key holds a known token's entry (ok: true, another hash)", async () => {
      const known = knownToken();
      expect((await get(await instance(), known)).status).toBe(200);
      const knownKey = await storedKey(known);
      const unknown = unknownToken();
      const key = knownKey.replace(sha256(known), sha256(unknown));
      await plant(key, await storedEntry(knownKey));
      const [calls, mark] = [ks.userinfoCalls, capturedLogs().length];

      const res = await get(await instance(), unknown);

      expect([res.status, res.body.reason]).toEqual([401, 'token_rejected_by_issuer']);
      expect(ks.userinfoCalls).toBe(calls + 1);
      const warnings = cacheWarningsSince(mark);
      expect(warnings).toEqual([expect.stringMatching(/tokenHash/)]);
      expect(warnings[0]).toContain(tokenHash(unknown));
      expect(warnings[0]).not.toContain(unknown);
      await storedEntry(key, (entry) => entry.ok === false);
    });

    it.each([
      ['the unversioned namespace', ':'],
      ['the v2 namespace (written before sender-bound introspected tokens)', ':v2:'],
    ])('never reads an opaque-token entry written under %s', async (_, older) => {
      const known = knownToken();
      expect((await get(await instance(), known)).status).toBe(200);
      const unknown = unknownToken();
      const oldKey = (await storedKey(known))
        .replace(':v3:', older)
        .replace(sha256(known), sha256(unknown));
      expect(oldKey).toMatch(
        new RegExp(`^keyv::keyv:nest-oauth2-bearer${older}opaque:[0-9a-f]{16}:[0-9a-f]{64}$`),
      );
      const user = {
        ...(await storedEntry(await storedKey(known))).value,
        tokenHash: tokenHash(unknown),
      };
      await plant(oldKey, { ok: true, value: user, expiresAt: Date.now() + 60_000 });
      const calls = ks.userinfoCalls;

      const res = await get(await instance(), unknown);

      expect([res.status, res.body.reason]).toEqual([401, 'token_rejected_by_issuer']);
      expect(ks.userinfoCalls).toBe(calls + 1);
    });

    it('never reads a userinfo profile written under the unversioned namespace', async () => {
      const profile = (token: string) => {
        ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com' });
        return token;
      };
      const [first, second] = [profile(ks.token()), profile(ks.token({ jti: 'second' }))];
      const profileOf = async (token: string) =>
        request((await instance()).getHttpServer())
          .get('/profile')
          .set('Authorization', `Bearer ${token}`);
      expect((await profileOf(first)).body.email).toBe('ada@example.com');
      const oldKey = (await storedKey(first))
        .replace(':v3:', ':')
        .replace(sha256(first), sha256(second));
      expect(oldKey).toMatch(/^keyv::keyv:nest-oauth2-bearer:userinfo:[0-9a-f]{16}:[0-9a-f]{64}$/);
      await plant(oldKey, {
        ok: true,
        value: { sub: 'auth0|user-1', email: 'mallory@example.com' },
        expiresAt: Date.now() + 60_000,
      });
      const calls = ks.userinfoCalls;

      const res = await profileOf(second);

      expect([res.status, res.body.email]).toEqual([200, 'ada@example.com']);
      expect(ks.userinfoCalls).toBe(calls + 1);
    });

    it('drops a userinfo profile entry without a sub, and asks the provider', async () => {
      const token = ks.token();
      ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com' });
      const profileOf = async () =>
        request((await instance()).getHttpServer())
          .get('/profile')
          .set('Authorization', `Bearer ${token}`);
      expect((await profileOf()).status).toBe(200);
      const key = await storedKey(token);
      await plant(key, {
        ok: true,
        value: { email: 'mallory@example.com' },
        expiresAt: Date.now() + 60_000,
      });
      const [calls, mark] = [ks.userinfoCalls, capturedLogs().length];

      const res = await profileOf();

      expect([res.status, res.body.email]).toEqual([200, 'ada@example.com']);
      expect(ks.userinfoCalls).toBe(calls + 1);
      expect(cacheWarningsSince(mark)).toEqual([expect.stringContaining(tokenHash(token))]);
    });
  });
});

/** A token-result cache entry as the shared store holds it. */
interface StoredEntry {
  ok: boolean;
  value?: Record<string, unknown>;
  expiresAt: number;
  [member: string]: unknown;
}

/** `entry` with members of its cached user replaced. */
function withUser(entry: StoredEntry, members: Record<string, unknown>): StoredEntry {
  return { ...entry, value: { ...entry.value, ...members } };
}
