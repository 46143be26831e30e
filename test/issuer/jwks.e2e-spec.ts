import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createFixtureApp, onExpressOnly, PLATFORMS } from '../support/create-fixture-app';
import { generateKey, KeyServer } from '../support/key-server';

/** Key rotation, kid floods and identity-provider outages, against a real local JWKS server. */
describe.each(PLATFORMS)('JWKS fetching and outages (%s)', (platform) => {
  // Fastify runs only the tests whose answers it sends (see onExpressOnly).
  const itOnExpress = onExpressOnly(platform, it);
  let ks: KeyServer;
  let app: INestApplication;

  beforeEach(async () => {
    ks = await KeyServer.start();
    app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience, httpTimeoutMs: 500 },
      { platform },
    );
  });

  afterEach(async () => {
    await app.close();
    await ks.stop();
  });

  const get = (token: string) =>
    request(app.getHttpServer()).get('/private').set('Authorization', `Bearer ${token}`);

  itOnExpress('fetches discovery and keys once for many concurrent first requests', async () => {
    const results = await Promise.all(Array.from({ length: 50 }, () => get(ks.token())));
    expect(results.every((r) => r.status === 200)).toBe(true);
    expect(ks.fetches).toEqual({ discovery: 1, jwks: 1, other: 0 });
  });

  itOnExpress(
    'picks up a rotated key on the first token that uses it, a moment after the last fetch',
    async () => {
      expect((await get(ks.token())).status).toBe(200);
      const next = generateKey('RS256');
      ks.keys = [next];
      const res = await get(ks.token({}, {}, next));
      expect(res.status).toBe(200);
      expect(ks.fetches.jwks).toBe(2);
    },
  );

  itOnExpress('answers a flood of random kids with 401 after only a few fetches', async () => {
    expect((await get(ks.token())).status).toBe(200);
    const flood = (n: number) =>
      Array.from({ length: n }, (_, i) =>
        get(ks.token({}, {}, { ...ks.key, kid: `random-${i}-${Math.random()}` })),
      );
    const concurrent = await Promise.all(flood(100));
    const sequential = [];
    for (const pending of flood(50)) sequential.push(await pending);
    for (const res of [...concurrent, ...sequential]) {
      expect([res.status, res.body.reason]).toEqual([401, 'unknown_kid']);
    }
    // One initial fetch plus the burst allowance of three refetches, then the cooldown holds.
    expect(ks.fetches.jwks).toBeLessThanOrEqual(4);
    // Known keys keep working during the cooldown, and a new key waits for it to end.
    expect((await get(ks.token())).status).toBe(200);
    const late = generateKey('RS256');
    ks.keys.push(late);
    expect((await get(ks.token({}, {}, late))).body.reason).toBe('unknown_kid');
  });

  it('keeps serving cached keys while the JWKS endpoint is down', async () => {
    expect((await get(ks.token())).status).toBe(200);
    for (const mode of ['error500', 'reset', 'not-json'] as const) {
      ks.mode = mode;
      expect((await get(ks.token())).status).toBe(200);
    }
    await ks.stop();
    expect((await get(ks.token())).status).toBe(200);
  });

  it.each(['error500', 'hang', 'reset', 'huge', 'not-json', 'redirect'] as const)(
    'answers 503 with Retry-After, quickly, when nothing is cached and the provider answers %s',
    async (mode) => {
      ks.mode = mode;
      const started = Date.now();
      const res = await get(ks.token());
      expect(res.status).toBe(503);
      expect(res.headers['retry-after']).toMatch(/^\d+$/);
      expect(res.headers['www-authenticate']).toBeUndefined();
      expect(res.body.error).toBe('issuer_unavailable');
      expect(Date.now() - started).toBeLessThan(3000);
    },
  );

  it('answers 503 when discovery names another issuer (a misconfiguration, not the caller)', async () => {
    // Set before the app starts: its startup check reads (and keeps) the discovery document.
    await app.close();
    ks.publishedIssuer = 'https://evil.example/';
    app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience, httpTimeoutMs: 500 },
      { platform },
    );
    expect((await get(ks.token())).status).toBe(503);
  });

  itOnExpress(
    'starts while the provider is down, answers 503, and recovers by itself',
    async () => {
      await app.close();
      await ks.stop();
      app = await createFixtureApp(
        { issuerUrl: ks.issuer, audience: ks.audience, httpTimeoutMs: 500 },
        { platform },
      );
      expect((await get(ks.token())).status).toBe(503);
      await ks.listen();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await get(ks.token())).status).toBe(200);
    },
  );

  itOnExpress('caps the number of keys read from one JWKS', async () => {
    const many = Array.from({ length: 150 }, () => generateKey('ES256'));
    const beyondCap = ks.key;
    ks.keys = [...many.slice(0, 149), beyondCap];
    const res = await get(ks.token({}, {}, beyondCap));
    expect([res.status, res.body.reason]).toEqual([401, 'unknown_kid']);
    expect((await get(ks.token({}, {}, many[0]))).status).toBe(200);
  });

  it('answers 503 to a JWKS document without a keys array', async () => {
    ks.jwksOverride = { notKeys: [] };
    expect((await get(ks.token())).status).toBe(503);
  });

  it('follows no redirect', async () => {
    ks.mode = 'redirect';
    expect((await get(ks.token())).status).toBe(503);
    expect(ks.fetches.other).toBe(0);
  });

  itOnExpress(
    'tries the provider at most once a second while it is down and nothing is cached',
    async () => {
      ks.mode = 'error500';
      const statuses = [];
      for (let i = 0; i < 20; i++) statuses.push((await get(ks.token())).status);
      expect(statuses.every((s) => s === 503)).toBe(true);
      expect(ks.fetches.discovery).toBe(1);
    },
  );

  itOnExpress('earns refetches back after the cooldown', async () => {
    await app.close();
    app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience, jwksCooldownSeconds: 1 },
      { platform },
    );
    expect((await get(ks.token())).status).toBe(200);
    for (let i = 0; i < 5; i++) await get(ks.token({}, {}, { ...ks.key, kid: `random-${i}` }));
    const fetchesAfterBurst = ks.fetches.jwks;
    const late = generateKey('RS256');
    ks.keys.push(late);
    expect((await get(ks.token({}, {}, late))).body.reason).toBe('unknown_kid');
    expect(ks.fetches.jwks).toBe(fetchesAfterBurst);
    await new Promise((resolve) => setTimeout(resolve, 1100));
    expect((await get(ks.token({}, {}, late))).status).toBe(200);
  });
});
