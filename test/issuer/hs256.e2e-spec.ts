import { createPublicKey, randomBytes } from 'node:crypto';
import { inspect } from 'node:util';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AccessTokenStrategy, AccessTokenVerifier } from '../../lib';
import { RESOLVED_AUTH_OPTIONS } from '../../lib/auth.constants';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { KeyServer, signRaw } from '../support/key-server';
import { capturedLogs, findLeaks, rememberToken } from '../support/log-capture';
import { outcomesThroughBothPaths } from '../support/passport-agreement';

/**
 * HS256 with an explicit secret (Auth0 APIs whose signing algorithm is HS256): only HMAC tokens
 * signed with that secret, never mixed with the issuer's public keys, never a public key as the
 * secret, and no request to the issuer at all.
 */
describe.each(PLATFORMS)('HS256 with a secret (%s)', (platform) => {
  const secret = randomBytes(32).toString('base64url');
  let ks: KeyServer;
  let app: INestApplication;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience, secret },
      { platform },
    );
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  const claims = (extra: Record<string, unknown> = {}) => ({
    iss: ks.issuer,
    sub: 'auth0|hs-user',
    aud: ks.audience,
    exp: now() + 600,
    scope: 'read:messages',
    ...extra,
  });
  const hmacToken = (
    key: string = secret,
    extra: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
  ) => rememberToken(signRaw({ alg: 'HS256', typ: 'JWT', ...header }, claims(extra), key));
  const get = (token: string, path = '/private') =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);
  async function expectRefused(token: string, reason: string) {
    const res = await get(token);
    expect({ status: res.status, reason: res.body.reason }).toEqual({ status: 401, reason });
    return res;
  }

  it('accepts an HS256 token signed with the secret, and asks the issuer nothing', async () => {
    const res = await get(hmacToken(), '/me');
    expect([res.status, res.body.sub]).toEqual([200, 'auth0|hs-user']);
    expect((await get(hmacToken(secret, {}, { kid: 'any-kid' }))).status).toBe(200);
    expect(ks.fetches).toEqual({ discovery: 0, jwks: 0, other: 0 });
  });

  it('refuses an HMAC token signed with another secret', async () => {
    await expectRefused(hmacToken(randomBytes(32).toString('base64url')), 'signature_invalid');
  });

  it("refuses the issuer's own RS256 tokens: a secret never mixes with public keys", async () => {
    const res = await expectRefused(ks.token(), 'alg_not_allowed');
    expect(res.body.message).toContain('(accepted: HS256)');
    expect(ks.fetches).toEqual({ discovery: 0, jwks: 0, other: 0 });
  });

  it("refuses HS256 signed with the issuer's public key (PEM or JWK) as the secret", async () => {
    const publicPem = createPublicKey(ks.key.privateKey)
      .export({ format: 'pem', type: 'spki' })
      .toString();
    for (const publicKey of [publicPem, JSON.stringify(ks.key.publicJwk)]) {
      await expectRefused(hmacToken(publicKey, {}, { kid: ks.key.kid }), 'signature_invalid');
    }
  });

  it('refuses alg none, HS384 when only HS256 is allowed, and another issuer', async () => {
    const unsigned = `${hmacToken().split('.').slice(0, 2).join('.')}.`;
    await expectRefused(
      unsigned.replace(/^[^.]+/, Buffer.from('{"alg":"none"}').toString('base64url')),
      'alg_not_allowed',
    );
    await expectRefused(signRaw({ alg: 'HS384', typ: 'JWT' }, claims(), secret), 'alg_not_allowed');
    await expectRefused(hmacToken(secret, { iss: 'https://evil.example/' }), 'issuer_mismatch');
    await expectRefused(hmacToken(secret, { aud: 'https://other.example' }), 'audience_mismatch');
  });

  it('keeps the secret out of the injectable options, errors and logs', async () => {
    const options = app.get(RESOLVED_AUTH_OPTIONS);
    expect(options.keySource).toBe('secret');
    expect(JSON.stringify(options)).not.toContain(secret);
    expect(inspect(options, { depth: 10 })).not.toContain(secret);
    const refused = await get(hmacToken(randomBytes(32).toString('base64url')));
    expect(JSON.stringify([refused.headers, refused.body])).not.toContain(secret);
    expect(findLeaks(capturedLogs(), [secret])).toEqual([]);
  });

  it('gives the same answers through Passport (AuthGuard) as through the guard', async () => {
    const strategy = app.get(AccessTokenStrategy);
    const verifier = app.get(AccessTokenVerifier);
    const publicPem = createPublicKey(ks.key.privateKey).export({ format: 'pem', type: 'spki' });
    const tokens = [hmacToken(), ks.token(), hmacToken(publicPem.toString())];
    const results = await outcomesThroughBothPaths(verifier, strategy, tokens, (u) => u.sub);
    expect(results).toEqual([
      'ok:auth0|hs-user',
      'invalid_token:alg_not_allowed',
      'invalid_token:signature_invalid',
    ]);
  });
});

/** Without a secret, every HMAC token stays refused, whatever it was signed with. */
describe('HS256 without a secret', () => {
  let ks: KeyServer;
  let app: INestApplication;

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await createFixtureApp({ issuerUrl: ks.issuer, audience: ks.audience });
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  it('refuses HS256 tokens, signed with the public key or any secret', async () => {
    const payload = {
      iss: ks.issuer,
      sub: 'x',
      aud: ks.audience,
      exp: Math.floor(Date.now() / 1000) + 600,
    };
    const publicPem = createPublicKey(ks.key.privateKey).export({ format: 'pem', type: 'spki' });
    for (const key of [
      publicPem.toString(),
      JSON.stringify(ks.key.publicJwk),
      randomBytes(32).toString('hex'),
    ]) {
      const token = signRaw({ alg: 'HS256', typ: 'JWT', kid: ks.key.kid }, payload, key);
      const res = await request(app.getHttpServer())
        .get('/private')
        .set('Authorization', `Bearer ${token}`);
      expect([res.status, res.body.reason]).toEqual([401, 'alg_not_allowed']);
    }
  });
});
