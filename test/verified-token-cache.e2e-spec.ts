import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { JwksKeyStore } from '../lib/issuer/jwks-key-store';
import { createFixtureApp, onExpressOnly, PLATFORMS } from './fixtures/create-fixture-app';
import { generateKey, KeyServer } from './support/key-server';

/** The verified-token cache changes no answer: it ends at exp, and when the key leaves the JWKS. */
describe.each(PLATFORMS)('verified-token cache (%s)', (platform) => {
  // Fastify runs only the tests whose answers it sends (see onExpressOnly).
  const itOnExpress = onExpressOnly(platform, it);
  let ks: KeyServer;
  let app: INestApplication;

  beforeEach(async () => {
    ks = await KeyServer.start();
    app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience, clockTolerance: 0, verifiedTokenCache: true },
      { platform, keepVerifiedTokenCache: true },
    );
  });

  afterEach(async () => {
    await app.close();
    await ks.stop();
  });

  const get = (token: string) =>
    request(app.getHttpServer()).get('/private').set('Authorization', `Bearer ${token}`);
  /**
   * Five uses: the cache keeps a token from its second use on, and its hot set holds the parsed
   * user from the third answer on, so that what follows is answered from there.
   */
  const useUntilHot = async (token: string) => {
    for (let i = 0; i < 5; i++) expect((await get(token)).status).toBe(200);
  };

  it('answers a repeated token without looking up its key again', async () => {
    const keys = app.get(JwksKeyStore);
    const lookups = jest.spyOn(keys, 'getCachedKey');
    const token = ks.token();
    expect((await get(token)).status).toBe(200);
    expect((await get(token)).status).toBe(200);
    expect(lookups).toHaveBeenCalledTimes(2);
    for (let i = 0; i < 5; i++) expect((await get(token)).status).toBe(200);
    expect(lookups).toHaveBeenCalledTimes(2);
  });

  it('does not keep a token used once', async () => {
    const lookups = jest.spyOn(app.get(JwksKeyStore), 'getCachedKey');
    for (let i = 0; i < 5; i++)
      expect((await get(ks.token({ jti: `once-${i}` }))).status).toBe(200);
    expect(lookups).toHaveBeenCalledTimes(5);
  });

  itOnExpress('stops accepting a cached token at its exp', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const token = ks.token({ exp });
    await useUntilHot(token);
    await new Promise((resolve) => setTimeout(resolve, exp * 1000 - Date.now() + 50));
    const res = await get(token);
    expect([res.status, res.body.reason]).toEqual([401, 'token_expired']);
  });

  it('stops accepting a cached token once its key has left the JWKS', async () => {
    const old = ks.key;
    const token = ks.token();
    await useUntilHot(token);
    const next = generateKey('RS256');
    ks.keys = [next];
    // A token signed with the new key makes the store refetch the JWKS, which drops the old key.
    expect((await get(ks.token({}, {}, next))).status).toBe(200);
    const res = await get(token);
    expect([res.status, res.body.reason]).toEqual([401, 'unknown_kid']);
    expect(old.kid).not.toBe(next.kid);
  });

  it('keeps tokens of an unchanged key cached across a refetch', async () => {
    const token = ks.token();
    await useUntilHot(token);
    const added = generateKey('RS256');
    ks.keys.push(added);
    expect((await get(ks.token({}, {}, added))).status).toBe(200);
    const lookups = jest.spyOn(app.get(JwksKeyStore), 'getCachedKey');
    expect((await get(token)).status).toBe(200);
    expect(lookups).not.toHaveBeenCalled();
  });

  it('gives every request its own user object', async () => {
    const token = ks.token({ email: 'ada@example.com' });
    const first = await request(app.getHttpServer())
      .get('/me')
      .set('Authorization', `Bearer ${token}`);
    const second = await request(app.getHttpServer())
      .get('/me')
      .set('Authorization', `Bearer ${token}`);
    const third = await request(app.getHttpServer())
      .get('/me')
      .set('Authorization', `Bearer ${token}`);
    expect([second.body, third.body]).toEqual([first.body, first.body]);
  });
});
