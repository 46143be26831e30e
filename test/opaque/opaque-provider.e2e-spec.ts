import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  startDevIdentityProvider,
  type DevIdentityProvider,
} from '../../sample/dev-identity-provider';
import { rememberTokensOf } from '../support/log-capture';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';

const AUDIENCE = 'https://api.example.com';

/** Opaque tokens checked by oidc-provider's real userinfo and introspection endpoints. */
describe.each(PLATFORMS)('opaque access tokens with oidc-provider (%s)', (platform) => {
  let idp: DevIdentityProvider;

  beforeAll(async () => {
    idp = rememberTokensOf(await startDevIdentityProvider({ audience: AUDIENCE }));
  });

  afterAll(() => idp.close());

  const get = (app: INestApplication, path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

  describe("through userinfo (Auth0's opaque tokens)", () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await createFixtureApp(
        { issuerUrl: idp.issuer, audience: AUDIENCE, opaqueTokens: 'userinfo' },
        { platform },
      );
    });

    afterAll(() => app.close());

    it('accepts an opaque token that userinfo vouches for, with the profile as the user', async () => {
      const token = await idp.getOpaqueToken();
      expect(token.split('.')).toHaveLength(1);
      expect((await get(app, '/private', token)).status).toBe(200);
      const me = await get(app, '/me', token);
      expect(me.body).toMatchObject({
        sub: idp.user.sub,
        tokenType: 'opaque',
        scopes: [],
        profile: { sub: idp.user.sub, email: idp.user.email, name: idp.user.name },
      });
    });

    it('answers 403 on a scoped route, telling the client to request the audience', async () => {
      const res = await get(app, '/scoped', await idp.getOpaqueToken());
      expect([res.status, res.body.error]).toEqual([403, 'insufficient_scope']);
      expect(res.body.message).toContain(`audience=${AUDIENCE}`);
      expect(res.headers['www-authenticate']).toContain('scope="read:messages"');
    });

    it.each([
      ['a random opaque token', randomBytes(32).toString('base64url').replace(/^eyJ/, 'xyz')],
      [
        'a five-segment JWE',
        `${Buffer.from('{"alg":"dir","enc":"A256GCM"}').toString('base64url')}..aXY.Y3Q.dGFn`,
      ],
    ])('refuses %s that userinfo refuses with 401', async (_what, token) => {
      const res = await get(app, '/private', token);
      expect([res.status, res.body.reason]).toEqual([401, 'token_rejected_by_issuer']);
    });

    it('still verifies JWT access tokens locally', async () => {
      const res = await get(app, '/me', await idp.getAccessToken());
      expect(res.body).toMatchObject({ tokenType: 'jwt', scopes: ['read:messages'] });
    });
  });

  describe('through RFC 7662 introspection', () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await createFixtureApp(
        {
          issuerUrl: idp.issuer,
          audience: AUDIENCE,
          opaqueTokens: 'introspection',
          introspection: idp.introspectionClient,
        },
        { platform },
      );
    });

    afterAll(() => app.close());

    it('accepts an active opaque token for this API, with its scopes', async () => {
      const token = await idp.getOpaqueToken({ forApi: true, scope: 'read:messages' });
      const me = await get(app, '/me', token);
      expect(me.body).toMatchObject({
        sub: idp.user.sub,
        tokenType: 'opaque',
        scopes: ['read:messages'],
      });
      expect(me.body.claims).toMatchObject({ active: true, aud: AUDIENCE, iss: idp.issuer });
      expect((await get(app, '/scoped', token)).status).toBe(200);
    });

    it('refuses an active token that is not for this API', async () => {
      const res = await get(app, '/private', await idp.getOpaqueToken());
      expect([res.status, res.body.reason]).toEqual([401, 'audience_mismatch']);
    });

    it('refuses an unknown token as inactive', async () => {
      const res = await get(
        app,
        '/private',
        randomBytes(32).toString('base64url').replace(/^eyJ/, 'xyz'),
      );
      expect([res.status, res.body.reason]).toEqual([401, 'token_inactive']);
    });

    it('answers 503, not 401, when its own introspection credentials are wrong', async () => {
      const wrong = await createFixtureApp(
        {
          issuerUrl: idp.issuer,
          audience: AUDIENCE,
          opaqueTokens: 'introspection',
          introspection: { ...idp.introspectionClient, clientSecret: 'wrong' },
        },
        { platform },
      );
      try {
        const res = await get(wrong, '/private', await idp.getOpaqueToken({ forApi: true }));
        expect(res.status).toBe(503);
      } finally {
        await wrong.close();
      }
    });
  });
});
