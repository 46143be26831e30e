import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { AuthModuleOptions } from '../../lib';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { AdminController, FixtureController } from '../support/fixture.controllers';
import { KeyServer } from '../support/key-server';
import { rememberToken } from '../support/log-capture';
import { redisBackedApp } from '../support/redis-app';
import { RedisServer } from '../support/redis-server';

/**
 * The same token gets the same answer, whatever the caches hold: every request gets a user of its
 * own that its handler may change (`/mutate` changes `user`, `user.scopes`, `user.claims` and
 * `user.profile` after answering what it was given), and nothing it changes reaches a later request.
 */
describe.each(PLATFORMS)('each request gets a user of its own (%s)', (platform) => {
  let ks: KeyServer;
  let redis: RedisServer;
  let app: INestApplication | undefined;

  beforeAll(async () => {
    [ks, redis] = await Promise.all([KeyServer.start(), RedisServer.start()]);
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
  });

  afterAll(async () => {
    await ks.stop();
    await redis.stop();
  });

  const opaque = () => rememberToken(randomBytes(30).toString('base64url').replace(/^eyJ/, 'abc'));
  const get = (path: string, token: string) =>
    request(app!.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

  const withRedis = (options: AuthModuleOptions) =>
    redisBackedApp(redis.url, options, [FixtureController, AdminController], platform);

  function jwtWithProfile(): string {
    const token = ks.token({ permissions: ['read:messages'] });
    ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com', groups: ['staff'] });
    return token;
  }

  function knownOpaque(): string {
    const token = opaque();
    ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com', groups: ['staff'] });
    ks.introspections.set(token, {
      active: true,
      sub: 'auth0|user-1',
      aud: ks.audience,
      scope: 'read:messages',
      exp: Math.floor(Date.now() / 1000) + 600,
    });
    return token;
  }

  const base = () => ({ issuerUrl: ks.issuer, audience: ks.audience });
  const introspection = () => ({
    ...base(),
    opaqueTokens: 'introspection' as const,
    introspection: ks.introspectionClient,
  });

  it.each([
    [
      'a JWT, verified-token cache on',
      'jwt',
      () => createFixtureApp(base(), { platform, keepVerifiedTokenCache: true }),
    ],
    [
      'a JWT, verified-token cache off',
      'jwt',
      () => createFixtureApp({ ...base(), verifiedTokenCache: false }, { platform }),
    ],
    [
      'an opaque token checked by userinfo',
      'opaque',
      () => createFixtureApp({ ...base(), opaqueTokens: 'userinfo' }, { platform }),
    ],
    [
      'an opaque token checked by introspection',
      'opaque',
      () => createFixtureApp(introspection(), { platform }),
    ],
    [
      'an opaque token, answers shared in Redis',
      'opaque',
      () => withRedis({ ...base(), opaqueTokens: 'userinfo' }),
    ],
  ] as const)('%s', async (_, kind, start) => {
    app = await start();
    const token = kind === 'jwt' ? jwtWithProfile() : knownOpaque();
    const first = await get('/mutate', token);
    expect(first.status).toBe(200);
    expect(first.body.sub).toBe('auth0|user-1');
    for (let i = 0; i < 4; i++) {
      const again = await get('/mutate', token);
      expect([again.status, again.body]).toStrictEqual([200, first.body]);
    }
    // The changes gave no scope: a route that needs `admin` still refuses the token.
    expect((await get('/admin/read', token)).status).toBe(403);
  });

  it.each([
    [
      'verified-token cache on',
      () => createFixtureApp(base(), { platform, keepVerifiedTokenCache: true }),
    ],
    ['answers shared in Redis', () => withRedis(base())],
  ])('keeps the userinfo profile of a JWT its own per request (%s)', async (_, start) => {
    app = await start();
    const token = jwtWithProfile();
    const first = await get('/mutate-profile', token);
    expect(first.body.profile).toStrictEqual({
      sub: 'auth0|user-1',
      email: 'ada@example.com',
      groups: ['staff'],
    });
    for (let i = 0; i < 4; i++) {
      const again = await get('/mutate-profile', token);
      expect([again.status, again.body]).toStrictEqual([200, first.body]);
    }
  });
});
