import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { DpopKey } from '../support/dpop-proofs';
import { KeyServer } from '../support/key-server';
import { listen } from '../support/listen';

/**
 * A sender-constrained token (cnf) cannot fetch the caller's profile: the API would have to send
 * it to /userinfo as a bearer token, without a proof of its own. Routes that need the profile
 * refuse it with a reason that says so, and never send it to the provider.
 */
describe.each(PLATFORMS)('userinfo and sender-constrained tokens (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;
  let base: string;
  const client = new DpopKey();

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await createFixtureApp({ issuerUrl: ks.issuer, audience: ks.audience }, { platform });
    base = await listen(app);
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  const withProof = (path: string, token: string) =>
    request(base)
      .get(path)
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', client.proof('GET', `${base}${path}`, token));

  it.each(['/profile', '/profile-on-demand'])(
    'refuses a DPoP-bound token on %s without calling /userinfo',
    async (path) => {
      const token = ks.token({ cnf: { jkt: client.jkt } });
      // A provider whose /userinfo does not enforce DPoP would answer it as a bearer token.
      ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com' });
      const calls = ks.userinfoCalls;

      const res = await withProof(path, token);

      expect([res.status, res.body.error, res.body.reason]).toEqual([
        401,
        'invalid_token',
        'userinfo_sender_constrained',
      ]);
      expect(res.body.message).toMatch(/bound to its sender \(cnf: .*\/userinfo/);
      expect(res.headers['www-authenticate']).toMatch(/DPoP realm="api", error="invalid_token"/);
      expect(ks.userinfoCalls).toBe(calls);
    },
  );

  it('accepts the same token on a route that needs no profile', async () => {
    const token = ks.token({ cnf: { jkt: client.jkt } });
    expect((await withProof('/private', token)).status).toBe(200);
  });

  it('still fetches the profile of an unbound bearer token', async () => {
    const token = ks.token();
    ks.profiles.set(token, { sub: 'auth0|user-1', email: 'ada@example.com' });
    const res = await request(base).get('/profile').set('Authorization', `Bearer ${token}`);
    expect([res.status, res.body.email]).toEqual([200, 'ada@example.com']);
  });
});
