import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { AuthModuleOptions } from '../../lib';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { generateKey, KeyServer, type Misbehaviour } from '../support/key-server';

const opaque = () => randomBytes(30).toString('base64url').replace(/^eyJ/, 'abc');
const FAILURES: Misbehaviour[] = [
  'error500',
  'hang',
  'reset',
  'huge',
  'not-json',
  'deep',
  'redirect',
  'rate-limited',
];

/**
 * Local servers that misbehave on purpose, one endpoint at a time: each answer is the expected one
 * (cached keys keep working; otherwise 503 quickly), no wait is unbounded, recovery needs no restart.
 */
describe.each(PLATFORMS)('fault injection (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;

  async function start(options: Partial<AuthModuleOptions> = {}) {
    app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience, httpTimeoutMs: 300, ...options },
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

  const get = (token: string) =>
    request(app.getHttpServer()).get('/private').set('Authorization', `Bearer ${token}`);

  async function expectQuick503(token: string) {
    const started = Date.now();
    const res = await get(token);
    expect([res.status, res.body.error]).toEqual([503, 'issuer_unavailable']);
    expect(res.headers['retry-after']).toMatch(/^\d+$/);
    expect(Date.now() - started).toBeLessThan(2000);
  }

  // Each mode waits for recovery: Fastify runs one, with the provider's Retry-After passed on.
  const jwksFailures = platform === 'express' ? FAILURES : (['rate-limited'] as const);
  describe.each(jwksFailures)('when the JWKS alone misbehaves (%s)', (mode) => {
    it('answers 503 quickly with nothing cached, keeps cached keys, and recovers by itself', async () => {
      await start();
      ks.jwksMode = mode;
      await expectQuick503(ks.token());
      ks.jwksMode = undefined;
      await new Promise((resolve) => setTimeout(resolve, 1100));
      expect((await get(ks.token())).status).toBe(200);
      ks.jwksMode = mode;
      expect((await get(ks.token())).status).toBe(200);
    });
  });

  describe.each(FAILURES)('when introspection misbehaves (%s)', (mode) => {
    it('answers 503 quickly and recovers by itself', async () => {
      await start({ opaqueTokens: 'introspection', introspection: ks.introspectionClient });
      const token = opaque();
      ks.introspections.set(token, {
        active: true,
        aud: ks.audience,
        sub: 'u',
        scope: 'read:messages',
      });
      ks.introspectionMode = mode;
      await expectQuick503(token);
      ks.introspectionMode = 'ok';
      expect((await get(token)).status).toBe(200);
    });
  });

  it('answers 401 for an inactive token and 503 when the API is refused by introspection', async () => {
    await start({
      opaqueTokens: 'introspection',
      introspection: { ...ks.introspectionClient, clientSecret: 'wrong' },
    });
    await expectQuick503(opaque());
    await app.close();
    await start({ opaqueTokens: 'introspection', introspection: ks.introspectionClient });
    const res = await get(opaque());
    expect([res.status, res.body.reason]).toEqual([401, 'token_inactive']);
  });

  it('ignores JWKS entries of the wrong kind and keeps using the good keys', async () => {
    await start();
    const good = ks.key;
    ks.jwksOverride = {
      keys: [
        { kty: 'oct', kid: 'sym', k: randomBytes(32).toString('base64url'), alg: 'HS256' },
        { kty: 'RSA', kid: 'broken', n: 'AQAB' },
        { kty: 'EC', kid: 'bad-curve', crv: 'P-999', x: 'AA', y: 'AA' },
        { kty: 'RSA', kid: 'enc', use: 'enc', ...generateKey('RS256').publicJwk, use_: 'x' },
        'not an object',
        good.publicJwk,
      ],
    };
    expect((await get(ks.token())).status).toBe(200);
    const hmac = await get(ks.token({}, { alg: 'HS256', kid: 'sym' }, { ...good, alg: 'HS256' }));
    expect([hmac.status, hmac.body.reason]).toEqual([401, 'alg_not_allowed']);
    const broken = await get(ks.token({}, { kid: 'broken' }));
    expect([broken.status, broken.body.reason]).toEqual([401, 'unknown_kid']);
  });

  it.each([null, [], 'text', 42])('answers 503 to a discovery document that is %j', async (doc) => {
    // Set before the app starts: its startup check reads (and keeps) the discovery document.
    ks.discoveryOverride = doc;
    await start();
    await expectQuick503(ks.token());
  });

  it('answers 503 to a userinfo profile without sub, and to introspection without active', async () => {
    await start({ opaqueTokens: 'userinfo' });
    const token = opaque();
    ks.profiles.set(token, { email: 'no-sub@example.com' });
    await expectQuick503(token);
    await app.close();
    await start({ opaqueTokens: 'introspection', introspection: ks.introspectionClient });
    ks.introspections.set(token, { sub: 'u', aud: ks.audience });
    await expectQuick503(token);
  });

  it('answers 503 to a JWKS of keys that are all unusable', async () => {
    await start();
    ks.jwksOverride = { keys: [{ kty: 'oct', kid: 'sym', k: 'AAAA' }] };
    await expectQuick503(ks.token());
  });
});
