import { randomBytes } from 'node:crypto';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import KeyvRedis from '@keyv/redis';
import type { Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import request from 'supertest';
import { AuthModule } from '../lib';
import { FixtureController } from './fixtures/fixture.controllers';
import { KeyServer } from './support/key-server';
import { RedisServer } from './support/redis-server';
import { capturingLogger, rememberToken } from './support/log-capture';

/** Several instances of an API sharing one real redis-server through @nestjs/cache-manager. */
describe('a shared cache in Redis', () => {
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
    @Module({
      imports: [
        CacheModule.register({
          isGlobal: true,
          stores: [new Keyv({ store: new KeyvRedis(redis.url, { throwOnConnectError: false }) })],
        }),
        AuthModule.forRootAsync({
          inject: [CACHE_MANAGER],
          useFactory: (cache: Cache) => ({
            issuerUrl: provider.issuer,
            audience: provider.audience,
            opaqueTokens: 'userinfo' as const,
            cache: { store: cache, storeTimeoutMs: 100 },
          }),
        }),
      ],
      controllers: [FixtureController],
    })
    class InstanceModule {}
    const moduleRef = await Test.createTestingModule({ imports: [InstanceModule] }).compile();
    const app = moduleRef.createNestApplication({ logger: capturingLogger });
    await app.init();
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

  it('keeps answering when Redis is frozen, within the store timeout', async () => {
    const app = await instance();
    redis.freeze();
    const started = Date.now();
    const res = await get(app, knownToken());
    expect(res.status).toBe(200);
    expect(Date.now() - started).toBeLessThan(1500);
    redis.thaw();
  });

  it('keeps answering when Redis is stopped, and uses it again when it is back', async () => {
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
  });

  it('closes its Redis connections when the application shuts down', async () => {
    const before = await redis.connectedClients();
    const app = await instance();
    expect((await get(app, knownToken())).status).toBe(200);
    expect(await redis.connectedClients()).toBeGreaterThan(before);
    await apps.pop()!.close();
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(await redis.connectedClients()).toBe(before);
  });
});
