import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  startDevIdentityProvider,
  type DevIdentityProvider,
} from '../../sample/dev-identity-provider';
import { rememberTokensOf } from '../support/log-capture';
import { freePort } from '../support/free-port';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';

const AUDIENCE = 'https://api.example.com';
const REGISTRATIONS_ON_EACH_PLATFORM = PLATFORMS.flatMap((platform) =>
  (['forRoot', 'forRootAsync'] as const).map((registration) => [platform, registration] as const),
);

/** Real tokens from a real, certified OpenID provider (oidc-provider) on 127.0.0.1. */
describe.each(REGISTRATIONS_ON_EACH_PLATFORM)(
  'with oidc-provider tokens (%s, %s)',
  (platform, registration) => {
    let idp: DevIdentityProvider;
    let app: INestApplication;

    beforeAll(async () => {
      idp = rememberTokensOf(
        await startDevIdentityProvider({
          audience: AUDIENCE,
          scopes: ['read:messages', 'write:messages'],
        }),
      );
      app = await createFixtureApp(
        { issuerUrl: idp.issuer, audience: AUDIENCE },
        { platform, registration },
      );
    });

    afterAll(async () => {
      await app.close();
      await idp.close();
    });

    const get = (path: string, token?: string) => {
      const req = request(app.getHttpServer()).get(path);
      return token ? req.set('Authorization', `Bearer ${token}`) : req;
    };

    it('accepts its access tokens and exposes the caller', async () => {
      const token = await idp.getAccessToken('read:messages');
      expect((await get('/private', token)).status).toBe(200);
      expect((await get('/scoped', token)).status).toBe(200);
      const me = await get('/me', token);
      expect(me.body).toMatchObject({
        sub: idp.clientId,
        scopes: ['read:messages'],
        tokenType: 'jwt',
      });
      expect(me.body.claims).toMatchObject({
        iss: idp.issuer,
        aud: AUDIENCE,
        client_id: idp.clientId,
      });
    });

    it('answers 403 insufficient_scope to a token without the scope', async () => {
      const token = await idp.getAccessToken('write:messages');
      expect((await get('/private', token)).status).toBe(200);
      const res = await get('/scoped', token);
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('scope="read:messages"');
    });

    it('refuses its tokens when the API expects another audience', async () => {
      const other = await createFixtureApp(
        { issuerUrl: idp.issuer, audience: 'https://other.example' },
        { platform, registration },
      );
      try {
        const token = await idp.getAccessToken();
        const res = await request(other.getHttpServer())
          .get('/private')
          .set('Authorization', `Bearer ${token}`);
        expect([res.status, res.body.reason]).toEqual([401, 'audience_mismatch']);
      } finally {
        await other.close();
      }
    });

    it('accepts strict RFC 9068 mode for its at+jwt tokens', async () => {
      const strict = await createFixtureApp(
        { issuerUrl: idp.issuer, audience: AUDIENCE, strict: true },
        { platform, registration },
      );
      try {
        const token = await idp.getAccessToken();
        expect(
          (
            await request(strict.getHttpServer())
              .get('/private')
              .set('Authorization', `Bearer ${token}`)
          ).status,
        ).toBe(200);
      } finally {
        await strict.close();
      }
    });
  },
);

// On Express only: a test of startup, not of answers; it waits for the provider to come back.
describe('an identity provider that is down at start', () => {
  it('lets the app start, answers 503, and recovers when the provider comes back', async () => {
    const port = await freePort();
    // The embedded provider's issuer ends with a slash, as an Auth0 tenant's does.
    const issuer = `http://127.0.0.1:${port}/`;
    const started = Date.now();
    const app = await createFixtureApp({
      issuerUrl: issuer,
      audience: AUDIENCE,
      httpTimeoutMs: 500,
    });
    expect(Date.now() - started).toBeLessThan(2000);
    let idp: DevIdentityProvider | undefined;
    try {
      const staleToken = 'eyJhbGciOiJSUzI1NiIsImtpZCI6ImsifQ.eyJzdWIiOiJ4In0.c2ln';
      const down = await request(app.getHttpServer())
        .get('/private')
        .set('Authorization', `Bearer ${staleToken}`);
      expect(down.status).toBe(503);
      idp = rememberTokensOf(await startDevIdentityProvider({ audience: AUDIENCE, port }));
      const token = await idp.getAccessToken();
      await new Promise((resolve) => setTimeout(resolve, 1100));
      const up = await request(app.getHttpServer())
        .get('/private')
        .set('Authorization', `Bearer ${token}`);
      expect(up.status).toBe(200);
    } finally {
      await app.close();
      await idp?.close();
    }
  });
});
