import type { INestApplication } from '@nestjs/common';
import { AccessTokenStrategy, AccessTokenVerifier, AuthError, type AuthUser } from '../../lib';
import { attachToken } from '../../lib/token/attached-token';
import { createFixtureApp } from '../support/create-fixture-app';
import { generateKey, KeyServer, signRaw } from '../support/key-server';

/**
 * The guard verifies tokens without Passport's per-request machinery (`AccessTokenVerifier.verify`); Passport
 * (passport-jwt and jsonwebtoken) stays the strategy's public face. Both must give the same answers.
 */
describe('Passport path and direct path agree', () => {
  let ks: KeyServer;
  let app: INestApplication;
  let strategy: AccessTokenStrategy;
  let verifier: AccessTokenVerifier;

  beforeAll(async () => {
    ks = await KeyServer.start();
    ks.keys.push(generateKey('ES256'), generateKey('PS256'));
    // Without the verified-token cache, so that each path really verifies every token.
    app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience, verifiedTokenCache: false },
      { keepVerifiedTokenCache: true },
    );
    strategy = app.get(AccessTokenStrategy);
    verifier = app.get(AccessTokenVerifier);
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  async function outcome(run: () => Promise<AuthUser>): Promise<string> {
    try {
      const user = await run();
      return `ok:${user.sub}:${user.scopes.join(' ')}`;
    } catch (error) {
      if (error instanceof AuthError) return `${error.code}:${error.reason}`;
      throw error;
    }
  }

  const now = () => Math.floor(Date.now() / 1000);
  const cases: Array<[string, () => string]> = [
    ['a valid RS256 token', () => ks.token()],
    ['a valid ES256 token', () => ks.token({}, {}, ks.keys[1])],
    ['a valid PS256 token', () => ks.token({}, {}, ks.keys[2])],
    ['an expired token', () => ks.token({ exp: now() - 60 })],
    ['a token for another API', () => ks.token({ aud: 'https://other.example' })],
    ['an ID token', () => ks.token({ nonce: 'n' })],
    ['a token of another issuer', () => ks.token({ iss: 'https://evil.example/' })],
    [
      'a forged payload',
      () => {
        const [h, , s] = ks.token().split('.');
        return `${h}.${Buffer.from('{"sub":"admin"}').toString('base64url')}.${s}`;
      },
    ],
    [
      'a short ES256 signature',
      () => `${ks.token({}, {}, ks.keys[1]).split('.').slice(0, 2).join('.')}.AAAA`,
    ],
    ['an empty signature', () => `${ks.token().split('.').slice(0, 2).join('.')}.`],
    ['alg none', () => signRaw({ alg: 'none', kid: ks.key.kid }, { iss: ks.issuer }, '')],
    [
      'HS256 with the public key',
      () =>
        signRaw(
          { alg: 'HS256', kid: ks.key.kid },
          { iss: ks.issuer },
          JSON.stringify(ks.key.publicJwk),
        ),
    ],
    ['an unknown kid', () => ks.token({}, { kid: 'nope' })],
    ['a dpop+jwt typ', () => ks.token({}, { typ: 'dpop+jwt' })],
    ['a crit header', () => ks.token({}, { crit: ['x'] })],
    ['a cnf claim', () => ks.token({ cnf: { jkt: 'x' } })],
    [
      'a payload that is not JSON',
      () => {
        const [h, , s] = ks.token().split('.');
        return `${h}.${Buffer.from('not json').toString('base64url')}.${s}`;
      },
    ],
  ];

  it.each(cases)('for %s', async (_name, make) => {
    const token = make();
    const direct = await outcome(() => verifier.verify(token));
    const request = { headers: { authorization: `Bearer ${token}` } };
    attachToken(request, token);
    const viaPassport = await outcome(() => strategy.authenticateWithPassport(request, {}));
    expect(viaPassport).toBe(direct);
  });
});
