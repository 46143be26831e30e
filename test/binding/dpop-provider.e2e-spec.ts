import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import {
  startDevIdentityProvider,
  type DevIdentityProvider,
} from '../../sample/dev-identity-provider';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { listen } from '../support/listen';
import { rememberToken, rememberTokensOf } from '../support/log-capture';

const AUDIENCE = 'https://api.example.com';

/** DPoP-bound tokens from a real, certified provider (oidc-provider's features.dpop). */
describe.each(PLATFORMS)('DPoP with oidc-provider tokens (%s)', (platform) => {
  let idp: DevIdentityProvider;
  let app: INestApplication;
  let base: string;

  beforeAll(async () => {
    idp = rememberTokensOf(
      await startDevIdentityProvider({ audience: AUDIENCE, scopes: ['read:messages'] }),
    );
    app = await createFixtureApp({ issuerUrl: idp.issuer, audience: AUDIENCE }, { platform });
    base = await listen(app);
  });

  afterAll(async () => {
    await app.close();
    await idp.close();
  });

  /** A client-credentials token bound to a fresh key, requested with a proof (RFC 9449 §5). */
  async function boundToken() {
    const { generateKeyPair, generateProof } = await import('dpop');
    const keyPair = await generateKeyPair('ES256');
    const tokenUrl = `${idp.domain}/oauth/token`;
    const response = await fetch(tokenUrl, {
      method: 'POST',
      headers: { DPoP: rememberToken(await generateProof(keyPair, tokenUrl, 'POST')) },
      body: new URLSearchParams({
        grant_type: 'client_credentials',
        client_id: idp.clientId,
        client_secret: idp.clientSecret,
        resource: AUDIENCE,
        scope: 'read:messages',
      }),
      signal: AbortSignal.timeout(5000),
    });
    const json = (await response.json()) as { access_token: string; token_type: string };
    expect([response.status, json.token_type]).toEqual([200, 'DPoP']);
    const token = rememberToken(json.access_token);
    const proof = async (method = 'GET', path = '/private') =>
      rememberToken(await generateProof(keyPair, `${base}${path}`, method, undefined, token));
    return { token, proof };
  }

  it('accepts its DPoP-bound token with a proof of the key, once per proof', async () => {
    const { token, proof } = await boundToken();
    const first = await proof();
    const call = (p: string) =>
      request(base).get('/private').set('Authorization', `DPoP ${token}`).set('DPoP', p);
    expect((await call(first)).status).toBe(200);
    expect((await call(first)).body.reason).toBe('dpop_proof_replayed');
    expect((await call(await proof())).status).toBe(200);
  });

  it('refuses its bound token as a bearer token, and with a proof of another key', async () => {
    const { token } = await boundToken();
    const other = await boundToken();
    const bearer = await request(base).get('/private').set('Authorization', `Bearer ${token}`);
    expect([bearer.status, bearer.body.reason]).toEqual([401, 'sender_constrained_token']);
    const stolen = await request(base)
      .get('/private')
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', await other.proof());
    expect([stolen.status, stolen.body.reason]).toEqual([401, 'dpop_proof_ath']);
  });
});
