import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { JwksKeyStore } from '../../lib/issuer/jwks-key-store';
import { createFixtureApp, onExpressOnly, PLATFORMS } from '../support/create-fixture-app';
import { generateKey, KeyServer } from '../support/key-server';

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

/** The module's JWKS `maxAgeMs` (lib/auth.module.ts): past it, the key set is due for a refresh. */
const KEY_SET_MAX_AGE_MS = 10 * 60 * 1000;
/** The module's default `jwksCooldownSeconds`: a failed refresh is retried after it. */
const REFRESH_COOLDOWN_MS = 30 * 1000;

/**
 * The same token gets the same answer with the cache on and off, at each moment, around a key's
 * removal from the JWKS: both modes run the same steps against a real key server, with `Date.now()`
 * moved forward by the test, and must give the same list of answers.
 */
describe.each(
  PLATFORMS.flatMap((platform) =>
    (['on', 'off'] as const).map((cache) => [platform, cache] as const),
  ),
)('a key removed from the JWKS (%s, verified-token cache %s)', (platform, cache) => {
  let ks: KeyServer;
  let app: INestApplication;
  let offsetMs: number;

  beforeEach(async () => {
    ks = await KeyServer.start();
    app = await createFixtureApp(
      {
        issuerUrl: ks.issuer,
        audience: ks.audience,
        clockTolerance: 0,
        verifiedTokenCache: cache === 'on',
      },
      { platform, keepVerifiedTokenCache: true },
    );
    offsetMs = 0;
    const realNow = Date.now.bind(Date);
    jest.spyOn(Date, 'now').mockImplementation(() => realNow() + offsetMs);
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await app.close();
    await ks.stop();
  });

  const answer = async (token: string) => {
    const res = await request(app.getHttpServer())
      .get('/private')
      .set('Authorization', `Bearer ${token}`);
    return res.status === 200 ? [200] : [res.status, res.body.reason];
  };
  /** A token as Auth0 issues them by default: valid for 24 hours, used until the cache holds it. */
  const cachedToken = async () => {
    const token = ks.token({ exp: Math.floor(Date.now() / 1000) + 24 * 3600 });
    for (let i = 0; i < 5; i++) expect(await answer(token)).toEqual([200]);
    return token;
  };
  /**
   * Waits until the JWKS was fetched more than `fetches` times (for a second at most), and that
   * fetch's answer is in (`answerMs` later).
   */
  const refreshed = async (fetches: number, answerMs = 50) => {
    for (let i = 0; i < 100 && ks.fetches.jwks <= fetches; i++) await sleep(10);
    await sleep(answerMs);
  };

  it('refuses the token once the key set past its max age is refreshed, with one fetch', async () => {
    const token = await cachedToken();
    ks.keys = [generateKey('RS256')];
    const answers = [await answer(token)];
    offsetMs = KEY_SET_MAX_AGE_MS + 1000;
    const fetches = ks.fetches.jwks;
    // The first requests after the key set went stale: the stale set serves them while one refresh,
    // started by the first, is on its way (slowed down, so that all of them arrive before it ends).
    ks.delayMs = 500;
    answers.push(...(await Promise.all(Array.from({ length: 10 }, () => answer(token)))));
    const refreshes = ks.fetches.jwks - fetches;
    await refreshed(fetches, 600);
    ks.delayMs = 0;
    answers.push(await answer(token), await answer(token));
    expect({ answers, refreshes }).toEqual({
      answers: [
        [200],
        ...Array.from({ length: 10 }, () => [200]),
        [401, 'unknown_kid'],
        [401, 'unknown_kid'],
      ],
      refreshes: 1,
    });
  });

  it('keeps the stale key set while the provider cannot be reached, retrying after the cooldown', async () => {
    const token = await cachedToken();
    ks.mode = 'error500';
    const fetches = ks.fetches.jwks;
    const answers = [];
    offsetMs = KEY_SET_MAX_AGE_MS + 1000;
    for (let i = 0; i < 5; i++) answers.push(await answer(token));
    await refreshed(fetches);
    for (let i = 0; i < 5; i++) answers.push(await answer(token));
    const failedRefreshes = ks.fetches.jwks - fetches;
    // After the cooldown, the next request retries: the provider is back, without the key.
    ks.mode = 'ok';
    ks.keys = [generateKey('RS256')];
    offsetMs += REFRESH_COOLDOWN_MS + 1000;
    answers.push(await answer(token));
    await refreshed(fetches + 1);
    answers.push(await answer(token));
    expect({ answers, failedRefreshes }).toEqual({
      answers: [...Array.from({ length: 11 }, () => [200]), [401, 'unknown_kid']],
      failedRefreshes: 1,
    });
  });
});

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
