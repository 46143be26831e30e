import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AccessTokenStrategy, AccessTokenVerifier } from '../../lib';
import { TrustedIssuers } from '../../lib/issuer/trusted-issuers';
import {
  startDevIdentityProvider,
  type DevIdentityProvider,
} from '../../sample/dev-identity-provider';
import { createFixtureApp, onExpressOnly, PLATFORMS } from '../support/create-fixture-app';
import { healthApp } from '../support/health.controller';
import { generateKey, KeyServer } from '../support/key-server';
import { rememberTokensOf } from '../support/log-capture';
import { outcomesThroughBothPaths } from '../support/passport-agreement';

const AUDIENCE_B = 'https://api-b.test.local';

/**
 * Several issuers (`issuerUrl` as a list): each with its own discovery and keys, fetched on its
 * first token; a token's key is looked up only among its own issuer's keys; an unlisted issuer is
 * refused without a request.
 */
describe.each(PLATFORMS)('several issuers (%s)', (platform) => {
  const itOnExpress = onExpressOnly(platform, it);
  let a: KeyServer;
  let b: KeyServer;
  /** Not listed: its tokens must be refused before any request reaches anyone. */
  let unlisted: KeyServer;
  let app: INestApplication;

  beforeAll(async () => {
    [a, b, unlisted] = await Promise.all([KeyServer.start(), KeyServer.start(), KeyServer.start()]);
    // B publishes a key with the same kid as A's: a kid says nothing of whose key it is.
    b.keys = [generateKey('RS256', a.key.kid)];
    app = await createFixtureApp(
      { issuerUrl: [a.issuer, { url: b.issuer, audience: AUDIENCE_B }], audience: a.audience },
      { platform },
    );
  });

  afterAll(async () => {
    await app.close();
    await Promise.all([a.stop(), b.stop(), unlisted.stop()]);
  });

  const get = (token: string, path = '/private') =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  const tokenOfB = (claims: Record<string, unknown> = {}) =>
    b.token({ aud: AUDIENCE_B, ...claims });

  async function expectRefused(token: string, reason: string, description?: string) {
    const res = await get(token);
    expect({ status: res.status, reason: res.body.reason }).toEqual({ status: 401, reason });
    if (description) expect(res.body.message).toBe(description);
  }

  it("fetches an issuer's keys on its first token only", async () => {
    expect((await get(a.token())).status).toBe(200);
    expect([a.fetches.jwks, b.fetches.jwks]).toEqual([1, 0]);
    expect((await get(tokenOfB())).status).toBe(200);
    expect([a.fetches.jwks, b.fetches.jwks]).toEqual([1, 1]);
  });

  it('accepts the tokens of each listed issuer, with its own audience', async () => {
    const fromA = await get(a.token({ sub: 'user-a' }), '/me');
    expect([fromA.status, fromA.body.sub, fromA.body.claims.iss]).toEqual([
      200,
      'user-a',
      a.issuer,
    ]);
    const fromB = await get(tokenOfB({ sub: 'user-b' }), '/me');
    expect([fromB.status, fromB.body.sub, fromB.body.claims.iss]).toEqual([
      200,
      'user-b',
      b.issuer,
    ]);
  });

  it("refuses a token signed with one issuer's key that names the other, which has the same kid", async () => {
    expect(a.key.kid).toBe(b.key.kid);
    // Signed with A's key, claiming to be B's: B's key with that kid does not verify it.
    await expectRefused(a.token({ iss: b.issuer, aud: AUDIENCE_B }), 'signature_invalid');
    // And the other way round.
    await expectRefused(b.token({ iss: a.issuer, aud: a.audience }), 'signature_invalid');
  });

  it('refuses an unlisted issuer without any request, naming the accepted ones', async () => {
    const before = { a: { ...a.fetches }, b: { ...b.fetches } };
    await expectRefused(
      unlisted.token(),
      'issuer_mismatch',
      `The token's issuer "${unlisted.issuer}" is not one this API accepts ` +
        `(accepted: ${a.issuer}, ${b.issuer}).`,
    );
    // Its kid is unknown everywhere, and still nothing is fetched.
    await expectRefused(unlisted.token({}, { kid: 'never-seen' }), 'issuer_mismatch');
    expect(unlisted.fetches).toEqual({ discovery: 0, jwks: 0, other: 0 });
    expect({ a: a.fetches, b: b.fetches }).toEqual(before);
  });

  it('compares iss exactly: a trailing slash less is another issuer', async () => {
    await expectRefused(a.token({ iss: a.issuer.replace(/\/$/, '') }), 'issuer_mismatch');
  });

  it('refuses a token without iss, and an iss that is not a string', async () => {
    await expectRefused(a.token({ iss: undefined }), 'missing_claim');
    await expectRefused(a.token({ iss: [a.issuer] }), 'invalid_claim');
  });

  it("checks each issuer's own audience", async () => {
    await expectRefused(a.token({ aud: AUDIENCE_B }), 'audience_mismatch');
    await expectRefused(b.token({ aud: a.audience }), 'audience_mismatch');
  });

  itOnExpress('keeps repeated tokens of each issuer in the verified-token cache', async () => {
    const issuers = app.get(TrustedIssuers);
    const lookups = jest.spyOn(issuers.find(b.issuer)!.keys, 'getCachedKey');
    const token = tokenOfB({ jti: 'cached' });
    for (let i = 0; i < 4; i++) expect((await get(token)).status).toBe(200);
    const cacheOff = process.env.VERIFIED_TOKEN_CACHE === 'off';
    expect(lookups).toHaveBeenCalledTimes(cacheOff ? 4 : 2);
    lookups.mockRestore();
  });

  it('gives the same answers through Passport (AuthGuard) as through the guard', async () => {
    const strategy = app.get(AccessTokenStrategy);
    const verifier = app.get(AccessTokenVerifier);
    const tokens = [
      a.token(),
      tokenOfB(),
      a.token({ iss: b.issuer, aud: AUDIENCE_B }),
      unlisted.token(),
    ];
    const results = await outcomesThroughBothPaths(
      verifier,
      strategy,
      tokens,
      (u) => u.claims.iss as string,
    );
    expect(results).toEqual([
      `ok:${a.issuer}`,
      `ok:${b.issuer}`,
      'invalid_token:signature_invalid',
      'invalid_token:issuer_mismatch',
    ]);
    expect(unlisted.fetches).toEqual({ discovery: 0, jwks: 0, other: 0 });
  });
});

/** A real provider (oidc-provider) beside a key server: a migration from one to the other. */
describe('several issuers with oidc-provider as one of them', () => {
  const AUDIENCE = 'https://api.example.com';
  let idp: DevIdentityProvider;
  let ks: KeyServer;
  let app: INestApplication;

  beforeAll(async () => {
    ks = await KeyServer.start();
    idp = rememberTokensOf(
      await startDevIdentityProvider({ audience: AUDIENCE, scopes: ['read:messages'] }),
    );
    app = await createFixtureApp({ issuerUrl: [ks.issuer, idp.issuer], audience: AUDIENCE });
  });

  afterAll(async () => {
    await app.close();
    await idp.close();
    await ks.stop();
  });

  const get = (token: string) =>
    request(app.getHttpServer()).get('/me').set('Authorization', `Bearer ${token}`);

  it('accepts the tokens of both', async () => {
    const real = await get(await idp.getAccessToken('read:messages'));
    expect([real.status, real.body.claims.iss]).toEqual([200, idp.issuer]);
    const crafted = await get(ks.token({ aud: AUDIENCE }));
    expect([crafted.status, crafted.body.claims.iss]).toEqual([200, ks.issuer]);
  });

  it("refuses a token of the key server that names oidc-provider's issuer", async () => {
    const res = await get(ks.token({ aud: AUDIENCE, iss: idp.issuer }));
    expect([res.status, res.body.reason]).toEqual([
      401,
      expect.stringMatching(/unknown_kid|signature_invalid/),
    ]);
  });
});

/** The health indicator reports each issuer, and is down only when none can verify tokens. */
describe('IdentityProviderHealthIndicator with several issuers', () => {
  let a: KeyServer;
  let b: KeyServer;
  let app: INestApplication;

  beforeAll(async () => {
    [a, b] = await Promise.all([KeyServer.start(), KeyServer.start()]);
    app = await healthApp([a.issuer, b.issuer], a.audience);
  });

  afterAll(async () => {
    await app.close();
    await Promise.all([a.stop(), b.stop()]);
  });

  const probe = () => request(app.getHttpServer()).get('/health');

  it('is up while one issuer is down, with the state of each', async () => {
    await b.stop();
    const partly = await probe();
    expect(partly.status).toBe(200);
    expect(partly.body.info.identityProvider).toMatchObject({
      status: 'up',
      issuers: {
        [a.issuer]: { status: 'up', keys: 1, stale: false },
        [b.issuer]: { status: 'down', keys: 0 },
      },
    });
    expect(partly.body.info.identityProvider.issuers[b.issuer].message).toMatch(/signing keys/);
  });
});

describe('IdentityProviderHealthIndicator with several issuers, none usable', () => {
  let a: KeyServer;
  let b: KeyServer;
  let app: INestApplication;

  beforeAll(async () => {
    [a, b] = await Promise.all([KeyServer.start(), KeyServer.start()]);
    app = await healthApp([a.issuer, b.issuer], a.audience);
  });

  afterAll(async () => {
    await app.close();
    await Promise.all([a.stop(), b.stop()]);
  });

  it('is down, telling a misconfigured issuer from one that cannot be reached', async () => {
    a.publishes = [];
    // b drops every connection but keeps its port: a stopped server's port can be taken at once by
    // a server of another test running beside this one, whose 404 would read as misconfigured.
    b.mode = 'reset';
    const res = await request(app.getHttpServer()).get('/health');
    expect(res.status).toBe(503);
    const state = res.body.error.identityProvider;
    expect(state.issuers[a.issuer]).toMatchObject({
      status: 'down',
      reason: 'issuer_misconfigured',
    });
    expect(state.issuers[b.issuer].reason).toBeUndefined();
    expect(state.issuers[b.issuer].message).toMatch(/could not be reached/);
    expect(state.message).toMatch(/misconfigured/);
  });
});
