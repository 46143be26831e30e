import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import * as fc from 'fast-check';
import { DpopNonces } from '../../lib/binding/dpop-nonces';
import { PLATFORMS } from '../support/create-fixture-app';
import { FixtureController } from '../support/fixture.controllers';
import { DpopKey } from '../support/dpop-proofs';
import { KeyServer } from '../support/key-server';
import { listen } from '../support/listen';
import { redisBackedApp } from '../support/redis-app';
import { RedisServer } from '../support/redis-server';
import type { AuthModuleOptions } from '../../lib';

const PUBLIC = 'https://api.example.com';
const SECRET = 'a shared nonce secret of 32 bytes!';

/** Two instances behind one balancer (one public URL), sharing one real redis-server. */
describe.each(PLATFORMS)('DPoP across instances sharing Redis (%s)', (platform) => {
  let ks: KeyServer;
  let redis: RedisServer;
  const apps: INestApplication[] = [];
  const client = new DpopKey();

  beforeAll(async () => {
    [ks, redis] = await Promise.all([KeyServer.start(), RedisServer.start()]);
  });

  afterAll(async () => {
    redis.thaw();
    for (const app of apps) await app.close();
    await Promise.all([ks.stop(), redis.stop()]);
  });

  async function instance(dpop: AuthModuleOptions['dpop']): Promise<string> {
    const app = await redisBackedApp(
      redis.url,
      { issuerUrl: ks.issuer, audience: ks.audience, dpop: { publicBaseUrl: PUBLIC, ...dpop } },
      [FixtureController],
      platform,
      { storeTimeoutMs: 200 },
    );
    apps.push(app);
    return listen(app);
  }

  const call = (base: string, token: string, proof: string) =>
    request(base).get('/private').set('Authorization', `DPoP ${token}`).set('DPoP', proof);

  it("refuses on one instance a proof the other accepted, and the replay's own replay", async () => {
    const [first, second] = [await instance({}), await instance({})];
    const token = ks.token({ cnf: { jkt: client.jkt } });
    const proof = client.proof('GET', `${PUBLIC}/private`, token);
    expect((await call(first, token, proof)).status).toBe(200);
    const replay = await call(second, token, proof);
    expect([replay.status, replay.body.reason]).toEqual([401, 'dpop_proof_replayed']);
    expect((await call(first, token, proof)).body.reason).toBe('dpop_proof_replayed');
    const keys = String(await redis.command('KEYS nest-oauth2-bearer:dpop-jti:*'));
    expect(keys).not.toContain(proof.split('.')[2]);
  });

  it('refuses DPoP requests with 503 while Redis does not answer (fail-closed), then recovers', async () => {
    const base = await instance({});
    const token = ks.token({ cnf: { jkt: client.jkt } });
    redis.freeze();
    try {
      const res = await call(base, token, client.proof('GET', `${PUBLIC}/private`, token));
      expect([res.status, res.body.error, res.body.reason]).toEqual([
        503,
        'issuer_unavailable',
        'replay_store_unavailable',
      ]);
      expect(res.body.message).toMatch(/replay/);
      expect(res.headers['retry-after']).toBe('1');
    } finally {
      redis.thaw();
    }
    const again = await call(base, token, client.proof('GET', `${PUBLIC}/private`, token));
    expect(again.status).toBe(200);
  });

  it('nonces: asks for one (use_dpop_nonce), and each instance accepts the nonce of the other', async () => {
    const [first, second] = [
      await instance({ nonce: { secret: SECRET } }),
      await instance({ nonce: { secret: SECRET } }),
    ];
    const token = ks.token({ cnf: { jkt: client.jkt } });
    const asked = await call(first, token, client.proof('GET', `${PUBLIC}/private`, token));
    expect([asked.status, asked.body.error]).toEqual([401, 'use_dpop_nonce']);
    expect(asked.headers['www-authenticate']).toMatch(/^DPoP realm="api", error="use_dpop_nonce"/);
    const nonce = asked.headers['dpop-nonce'];
    expect(nonce).toMatch(/^[A-Za-z0-9_-]{43}$/);
    const proof = (n: string) => client.proof('GET', `${PUBLIC}/private`, token, { nonce: n });
    const ok = await call(second, token, proof(nonce));
    expect([ok.status, ok.headers['dpop-nonce']]).toEqual([200, undefined]);
    const forged = await call(second, token, proof('a'.repeat(43)));
    expect([forged.status, forged.body.error]).toEqual([401, 'use_dpop_nonce']);
    expect(forged.body.message).toMatch(/unknown or expired/);
  });

  it("nonces: sends a fresh DPoP-Nonce with the answer to a proof carrying the previous step's", async () => {
    const base = await instance({ nonce: { secret: SECRET, rotateSeconds: 60 } });
    const token = ks.token({ cnf: { jkt: client.jkt } });
    const previous = new DpopNonces(SECRET, 60, () => Date.now() - 60_000).current();
    const current = new DpopNonces(SECRET, 60).current();
    const res = await call(
      base,
      token,
      client.proof('GET', `${PUBLIC}/private`, token, { nonce: previous }),
    );
    expect([res.status, res.headers['dpop-nonce']]).toEqual([200, current]);
    const stale = new DpopNonces(SECRET, 60, () => Date.now() - 120_000).current();
    const refused = await call(
      base,
      token,
      client.proof('GET', `${PUBLIC}/private`, token, { nonce: stale }),
    );
    expect([refused.status, refused.headers['dpop-nonce']]).toEqual([401, current]);
  });

  it('answers any DPoP header with 400 or 401, never 500 (property)', async () => {
    const base = await instance({});
    const token = ks.token({ cnf: { jkt: client.jkt } });
    const header = fc.oneof(
      fc.string({ maxLength: 200 }),
      fc.tuple(fc.json(), fc.json(), fc.base64String()).map(([h, p, s]) =>
        [h, p]
          .map((part) => Buffer.from(part).toString('base64url'))
          .concat(s)
          .join('.'),
      ),
    );
    await fc.assert(
      fc.asyncProperty(header, async (value) => {
        const printable = value.replace(/[^\x20-\x7e]/g, 'x');
        const res = await call(base, token, printable);
        expect([400, 401]).toContain(res.status);
      }),
      { numRuns: 60 },
    );
  });
});
