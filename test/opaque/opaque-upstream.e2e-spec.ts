import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { AuthModuleOptions } from '../../lib';
import { createFixtureApp, onExpressOnly, PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';

const opaque = () => randomBytes(30).toString('base64url').replace(/^eyJ/, 'abc');

/** Call counts, bounds and failures of userinfo, against a local counting server. */
describe.each(PLATFORMS)('userinfo calls: caching, bounds and failures (%s)', (platform) => {
  // Fastify runs only the tests whose answers it sends (see onExpressOnly).
  const itOnExpress = onExpressOnly(platform, it);
  let ks: KeyServer;
  let app: INestApplication;

  async function start(options: Partial<AuthModuleOptions> = {}) {
    app = await createFixtureApp(
      {
        issuerUrl: ks.issuer,
        audience: ks.audience,
        opaqueTokens: 'userinfo',
        httpTimeoutMs: 300,
        ...options,
      },
      { platform },
    );
  }

  beforeEach(async () => {
    ks = await KeyServer.start();
  });

  afterEach(async () => {
    await app?.close();
    await ks.stop();
  });

  const get = (token: string, path = '/private') =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

  function knownToken(sub = 'auth0|user-1'): string {
    const token = opaque();
    ks.profiles.set(token, { sub, email: `${sub}@example.com` });
    return token;
  }

  itOnExpress(
    'makes one upstream call for 40 concurrent and 20 later requests with one token',
    async () => {
      await start();
      const token = knownToken();
      ks.delayMs = 100;
      const concurrent = await Promise.all(Array.from({ length: 40 }, () => get(token)));
      ks.delayMs = 0;
      const later = [];
      for (let i = 0; i < 20; i++) later.push(await get(token));
      expect([...concurrent, ...later].every((res) => res.status === 200)).toBe(true);
      expect(ks.userinfoCalls).toBe(1);
    },
  );

  itOnExpress(
    'caches a refusal briefly, and an answer no longer than the configured TTL',
    async () => {
      await start({ cache: { ttlSeconds: 1, failureTtlSeconds: 1 } });
      const bad = opaque();
      expect((await get(bad)).status).toBe(401);
      expect((await get(bad)).status).toBe(401);
      const good = knownToken();
      expect((await get(good)).status).toBe(200);
      expect(ks.userinfoCalls).toBe(2);
      await new Promise((resolve) => setTimeout(resolve, 1100));
      ks.profiles.delete(good);
      expect((await get(good)).status).toBe(401);
      expect(ks.userinfoCalls).toBe(3);
    },
  );

  it('never sends a broken JWT upstream', async () => {
    await start();
    for (const token of ['eyJhbGciOiJSUzI1NiJ9', 'a.b', 'a.b.c.d', 'eyJ.eyJ.sig']) {
      const res = await get(token);
      expect(res.status).toBe(401);
    }
    expect(ks.userinfoCalls).toBe(0);
  });

  it('bounds concurrent upstream calls under a flood of random tokens: 503 with Retry-After beyond', async () => {
    // Each flood call takes 1 s (timeout 2 s), so that all 60 are concurrent even on a loaded
    // machine: with 200 ms, a slow arrival let earlier calls finish, and 10 upstream calls were
    // made one after another, never more than 5 at once.
    await start({
      httpTimeoutMs: 2000,
      upstream: { opaqueTokens: { maxConcurrent: 5, maxPerSecond: 1000 } },
    });
    // Discovery first, undelayed: only the flood's userinfo calls meet the delay (a slow machine
    // could otherwise time discovery out, a 503 of another kind).
    expect((await get(knownToken())).status).toBe(200);
    const before = ks.userinfoCalls;
    ks.delayMs = 1000;
    const results = await Promise.all(Array.from({ length: 60 }, () => get(opaque())));
    expect(ks.userinfoCalls - before).toBeLessThanOrEqual(5);
    const unavailable = results.filter((res) => res.status === 503);
    expect(unavailable.length).toBeGreaterThanOrEqual(55);
    expect(unavailable.every((res) => res.headers['retry-after'] === '1')).toBe(true);
    expect(results.every((res) => res.status === 503 || res.status === 401)).toBe(true);
  });

  itOnExpress('bounds upstream calls per second', async () => {
    await start({ upstream: { opaqueTokens: { maxConcurrent: 100, maxPerSecond: 10 } } });
    const statuses = [];
    for (let i = 0; i < 40; i++) statuses.push((await get(opaque())).status);
    expect(ks.userinfoCalls).toBeLessThanOrEqual(20);
    expect(statuses.filter((s) => s === 503).length).toBeGreaterThanOrEqual(20);
  });

  it.each([
    ['answers 5xx', 'error500'],
    ['hangs', 'hang'],
    ['resets the connection', 'reset'],
    ['answers megabytes', 'huge'],
    ['answers JSON nested 20000 deep', 'deep'],
  ] as const)('answers 503 quickly when userinfo %s', async (_what, mode) => {
    await start();
    ks.userinfoMode = mode;
    const started = Date.now();
    const res = await get(knownToken());
    expect([res.status, res.body.error]).toEqual([503, 'issuer_unavailable']);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(Date.now() - started).toBeLessThan(2000);
  });

  it("passes on the provider's Retry-After when it rate-limits (429)", async () => {
    await start();
    ks.userinfoMode = 'rate-limited';
    const res = await get(knownToken());
    expect([res.status, res.headers['retry-after']]).toEqual([503, '42']);
  });

  itOnExpress('answers 503 when the provider is down, and does not cache the outage', async () => {
    await start();
    const token = knownToken();
    await ks.stop();
    expect((await get(token)).status).toBe(503);
    await ks.listen();
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await get(token)).status).toBe(200);
  });

  describe('enrichment of JWT access tokens', () => {
    it('fetches the profile only for routes that ask, once per token', async () => {
      await start({ opaqueTokens: undefined });
      const token = ks.token();
      ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com' });
      expect((await get(token, '/private')).status).toBe(200);
      expect(ks.userinfoCalls).toBe(0);
      for (let i = 0; i < 3; i++) {
        expect((await get(token, '/profile')).body).toEqual({
          sub: 'auth0|user-1',
          email: 'ada@example.com',
        });
      }
      expect((await get(token, '/profile-on-demand')).body).toEqual({ email: 'ada@example.com' });
      expect(ks.userinfoCalls).toBe(1);
    });

    it('checks scopes before it fetches the profile: a 403 costs no userinfo call', async () => {
      await start({ opaqueTokens: undefined });
      const token = ks.token({ scope: 'read:messages' });
      ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com' });
      expect((await get(token, '/admin-profile')).status).toBe(403);
      expect(ks.userinfoCalls).toBe(0);
      const admin = ks.token({ scope: 'admin' });
      ks.profiles.set(admin, { sub: 'auth0|user-1', email: 'ada@example.com' });
      expect((await get(admin, '/admin-profile')).body).toEqual({ email: 'ada@example.com' });
    });

    it("refuses a profile whose sub is not the token's, with the whole answer on every path", async () => {
      await start({ opaqueTokens: undefined });
      const token = ks.token();
      ks.profiles.set(token, { sub: 'auth0|someone-else', email: 'eve@example.com' });
      // /profile-on-demand calls UserinfoService.getProfile from the handler, outside the guard.
      for (const path of ['/profile', '/profile-on-demand']) {
        const res = await get(token, path);
        expect([res.status, res.body.reason]).toEqual([401, 'userinfo_subject_mismatch']);
        expect(res.headers['www-authenticate']).toMatch(
          /^Bearer realm="api", error="invalid_token", error_description="The identity provider's userinfo profile/,
        );
      }
    });

    it('answers 503 with Retry-After from a route that asks for the profile while userinfo is down', async () => {
      await start({ opaqueTokens: undefined });
      ks.userinfoMode = 'rate-limited';
      for (const path of ['/profile', '/profile-on-demand']) {
        const res = await get(ks.token(), path);
        expect([res.status, res.body.error, res.headers['retry-after']]).toEqual([
          503,
          'issuer_unavailable',
          '42',
        ]);
      }
    });

    itOnExpress(
      "keeps verified callers' profiles served while random opaque tokens saturate their own budget",
      async () => {
        await start({
          opaqueTokens: 'userinfo',
          httpTimeoutMs: 3000,
          upstream: {
            opaqueTokens: { maxConcurrent: 3, maxPerSecond: 1000 },
            profiles: { maxConcurrent: 3, maxPerSecond: 1000 },
          },
        });
        const token = ks.token();
        ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com' });
        expect((await get(token, '/private')).status).toBe(200); // keys fetched before the flood
        ks.delayMs = 300;
        const flood = Promise.all(Array.from({ length: 30 }, () => get(opaque())));
        await new Promise((resolve) => setTimeout(resolve, 100));
        const profile = await get(token, '/profile');
        const floodStatuses = (await flood).map((res) => res.status);
        expect(floodStatuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(27);
        expect([profile.status, profile.body]).toEqual([
          200,
          { sub: 'auth0|user-1', email: 'ada@example.com' },
        ]);
      },
    );

    itOnExpress('bounds profile fetches by their own budget', async () => {
      await start({
        opaqueTokens: undefined,
        upstream: { profiles: { maxConcurrent: 2, maxPerSecond: 1000 } },
      });
      ks.delayMs = 200;
      const tokens = Array.from({ length: 10 }, (_, i) => {
        const token = ks.token({ jti: `t${i}` });
        ks.profiles.set(token, { sub: 'auth0|user-1' });
        return token;
      });
      const statuses = (await Promise.all(tokens.map((t) => get(t, '/profile')))).map(
        (res) => res.status,
      );
      expect(ks.userinfoCalls).toBeLessThanOrEqual(2);
      expect(statuses.filter((status) => status === 503).length).toBeGreaterThanOrEqual(8);
    });
  });
});
