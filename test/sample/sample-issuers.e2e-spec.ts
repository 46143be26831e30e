import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TestIssuer } from '../../lib/testing';
import { AppModule } from '../../sample/app.module';
import { createPlatformApp, PLATFORMS } from '../support/create-fixture-app';
import { signRaw } from '../support/key-server';
import { rememberToken } from '../support/log-capture';

const AUDIENCE = 'https://api.example.com';
const NAMES = ['AUTH_ISSUER_URL', 'AUTH_AUDIENCE', 'AUTH_HS256_SECRET'] as const;

/** The sample's AUTH_ISSUER_URL with several issuers (commas), and AUTH_HS256_SECRET. */
describe.each(PLATFORMS)('the sample with several issuers and with HS256 (%s)', (platform) => {
  const saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
  let first: TestIssuer;
  let second: TestIssuer;

  beforeAll(async () => {
    [first, second] = await Promise.all([
      TestIssuer.start({ audience: AUDIENCE }),
      TestIssuer.start({ audience: AUDIENCE }),
    ]);
  });

  afterAll(async () => {
    await Promise.all([first.stop(), second.stop()]);
    for (const name of NAMES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  async function sample(env: Record<string, string>): Promise<INestApplication> {
    for (const name of NAMES) delete process.env[name];
    Object.assign(process.env, { AUTH_AUDIENCE: AUDIENCE }, env);
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.register('')],
    }).compile();
    return createPlatformApp(moduleRef, platform);
  }

  const get = (app: INestApplication, token: string) =>
    request(app.getHttpServer())
      .get('/api/private')
      .set('Authorization', `Bearer ${rememberToken(token)}`);

  it('accepts the tokens of every issuer AUTH_ISSUER_URL lists, separated by commas', async () => {
    const app = await sample({ AUTH_ISSUER_URL: `${first.issuerUrl}, ${second.issuerUrl}` });
    try {
      expect((await get(app, first.mintAccessToken())).status).toBe(200);
      expect((await get(app, second.mintAccessToken())).status).toBe(200);
      // Opaque tokens need one issuer: with several the sample turns them off.
      const opaque = first.opaqueToken({ profile: { sub: 'user-2' } });
      expect((await get(app, opaque)).body.reason).toBe('not_a_jwt');
    } finally {
      await app.close();
    }
  });

  it('accepts HS256 tokens signed with AUTH_HS256_SECRET, and no others', async () => {
    const secret = randomBytes(32).toString('base64url');
    const app = await sample({ AUTH_ISSUER_URL: first.issuerUrl, AUTH_HS256_SECRET: secret });
    try {
      const claims = {
        iss: first.issuerUrl,
        sub: 'user-hs',
        aud: AUDIENCE,
        exp: Math.floor(Date.now() / 1000) + 600,
      };
      expect((await get(app, signRaw({ alg: 'HS256', typ: 'JWT' }, claims, secret))).status).toBe(
        200,
      );
      const refused = await get(app, first.mintAccessToken());
      expect([refused.status, refused.body.reason]).toEqual([401, 'alg_not_allowed']);
    } finally {
      await app.close();
    }
  });
});
