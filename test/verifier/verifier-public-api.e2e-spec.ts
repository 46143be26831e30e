import { createHash, randomUUID } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import {
  AccessTokenStrategy,
  AccessTokenVerifier,
  AuthError,
  claimEquals,
  type AuthUser,
} from '../../lib';
import { attachToken } from '../../lib/token/attached-token';
import { createFixtureApp } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';

/**
 * Whatever `AccessTokenVerifier` (an exported class) offers never gives the user of a token bound
 * to its sender (`cnf`) without a proof, nor of a token that fails the module's claim rules: the
 * methods that skipped those checks are private, and the strategy's entry points make them.
 * (`keyFor`, `checkScopes` and `checkClaimRules` give no user.)
 */
describe("AccessTokenVerifier's public methods refuse bound tokens and broken claim rules", () => {
  let ks: KeyServer;
  let app: INestApplication;
  let verifier: AccessTokenVerifier;
  let strategy: AccessTokenStrategy;

  beforeAll(async () => {
    ks = await KeyServer.start();
    // With the verified-token cache, so that the cached path is the one tried second.
    app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience, claimRules: [claimEquals('tenant', 'acme')] },
      { keepVerifiedTokenCache: true },
    );
    verifier = app.get(AccessTokenVerifier);
    strategy = app.get(AccessTokenStrategy);
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  async function outcome(run: () => Promise<AuthUser> | undefined): Promise<string> {
    try {
      const user = await run();
      return user ? `ok:${user.sub}` : 'not cached';
    } catch (error) {
      if (error instanceof AuthError) return error.reason;
      throw error;
    }
  }

  const passport = (token: string) => {
    const request = { headers: { authorization: `Bearer ${token}` } };
    attachToken(request, token);
    return strategy.authenticateWithPassport(request, {});
  };

  // A SHA-256 thumbprint, as cnf.jkt and cnf["x5t#S256"] hold; a new jti for each token.
  const thumbprint = createHash('sha256').update('a key or a certificate').digest('base64url');
  const jti = () => randomUUID();
  const cases: [string, () => string, string][] = [
    [
      'a DPoP-bound token',
      () => ks.token({ jti: jti(), tenant: 'acme', cnf: { jkt: thumbprint } }),
      'sender_constrained_token',
    ],
    [
      'a certificate-bound token',
      () => ks.token({ jti: jti(), tenant: 'acme', cnf: { 'x5t#S256': thumbprint } }),
      'certificate_missing',
    ],
    [
      'a token failing the module claim rules',
      () => ks.token({ jti: jti(), tenant: 'evil' }),
      'claim_rule_failed',
    ],
  ];

  it.each(cases)('verify refuses %s', async (_, make, reason) => {
    expect(await outcome(() => verifier.verify(make()))).toBe(reason);
  });

  it.each(cases)(
    'verify refuses %s on every use, answers from the hot set of parsed users included',
    async (_, make, reason) => {
      const token = make();
      for (let i = 0; i < 6; i++) expect(await outcome(() => verifier.verify(token))).toBe(reason);
    },
  );

  it.each(cases)('acceptPassportToken refuses %s', async (_, make, reason) => {
    const token = make();
    const key = await verifier.keyFor(token);
    expect(await outcome(() => verifier.acceptPassportToken(token, key))).toBe(reason);
  });

  it.each(cases)('cachedBearerUser refuses %s, which the cache holds', async (_, make, reason) => {
    const token = make();
    // The cache admits a token on its second use, and keeps a refused token's verified claims all
    // the same: the checks after them run on every use.
    await outcome(() => verifier.verify(token));
    await outcome(() => verifier.verify(token));
    const cached = verifier.cachedBearerUser(token);
    expect(cached).toBeDefined();
    expect(await outcome(() => cached)).toBe(reason);
  });

  it.each(cases)("Passport's path refuses %s, first use and cached", async (_, make, reason) => {
    const token = make();
    expect(await outcome(() => passport(token))).toBe(reason);
    expect(await outcome(() => passport(token))).toBe(reason);
    // The third use takes the cached path (cachedBearerUser), which refuses it as well.
    expect(await outcome(() => verifier.cachedBearerUser(token))).toBe(reason);
    expect(await outcome(() => passport(token))).toBe(reason);
  });

  it('accepts a good token on each of them', async () => {
    const token = ks.token({ jti: jti(), tenant: 'acme' });
    expect(await outcome(() => verifier.verify(token))).toBe('ok:auth0|user-1');
    expect(await outcome(() => verifier.verify(token))).toBe('ok:auth0|user-1');
    expect(await outcome(() => verifier.cachedBearerUser(token))).toBe('ok:auth0|user-1');
    const key = await verifier.keyFor(token);
    expect(await outcome(() => verifier.acceptPassportToken(token, key))).toBe('ok:auth0|user-1');
    expect(await outcome(() => passport(token))).toBe('ok:auth0|user-1');
  });

  it('keeps the methods that skip those checks out of the public type', () => {
    // Never called: `npm run typecheck` fails if any of them is public again.
    const unreachable = (token: string) => [
      // @ts-expect-error verifyJwt is private: its user has not passed the binding nor the rules.
      verifier.verifyJwt(token),
      // @ts-expect-error acceptVerifiedPayload is private.
      verifier.acceptVerifiedPayload(token, {}, undefined),
      // @ts-expect-error cachedUser is private.
      verifier.cachedUser(token),
    ];
    expect(typeof unreachable).toBe('function');
  });
});
