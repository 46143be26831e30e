import type { INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { TestIssuer } from '../../lib/testing';
import { AppModule } from '../../sample/app.module';
import { createPlatformApp, PLATFORMS } from '../support/create-fixture-app';
import { rememberToken } from '../support/log-capture';

const AUDIENCE = 'https://api.example.com';
const RESOURCE = 'https://api.example.net/v1';
const WELL_KNOWN = '/.well-known/oauth-protected-resource';
const NAMES = ['AUTH_ISSUER_URL', 'AUTH_AUDIENCE', 'AUTH_RESOURCE_URL'] as const;

/** The sample's AUTH_RESOURCE_URL: the RFC 9728 resource its document and challenges name. */
describe.each(PLATFORMS)('the sample with AUTH_RESOURCE_URL (%s)', (platform) => {
  const saved = Object.fromEntries(NAMES.map((name) => [name, process.env[name]]));
  let issuer: TestIssuer;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
  });

  afterAll(async () => {
    await issuer.stop();
    for (const name of NAMES) {
      if (saved[name] === undefined) delete process.env[name];
      else process.env[name] = saved[name];
    }
  });

  async function sample(env: Record<string, string>): Promise<INestApplication> {
    for (const name of NAMES) delete process.env[name];
    Object.assign(process.env, { AUTH_ISSUER_URL: issuer.issuerUrl, AUTH_AUDIENCE: AUDIENCE }, env);
    const moduleRef = await Test.createTestingModule({
      imports: [AppModule.register('')],
    }).compile();
    return createPlatformApp(moduleRef, platform);
  }

  const get = (app: INestApplication, path: string, token?: string) => {
    const call = request(app.getHttpServer()).get(path);
    return token === undefined ? call : call.set('Authorization', `Bearer ${rememberToken(token)}`);
  };

  it('publishes that resource, names its document in challenges, and accepts tokens for it', async () => {
    const app = await sample({ AUTH_RESOURCE_URL: RESOURCE });
    try {
      const document = await get(app, `${WELL_KNOWN}/v1`);
      expect(document.status).toBe(200);
      expect(document.body).toMatchObject({
        resource: RESOURCE,
        authorization_servers: [issuer.issuerUrl],
      });
      const refused = await get(app, '/api/private');
      expect(refused.headers['www-authenticate']).toContain(
        `Bearer realm="api", resource_metadata="https://api.example.net${WELL_KNOWN}/v1"`,
      );
      // RFC 8707: a token requested for the resource, as MCP clients do, and one for the API.
      expect(
        (await get(app, '/api/private', issuer.mintAccessToken({ audience: RESOURCE }))).status,
      ).toBe(200);
      expect((await get(app, '/api/private', issuer.mintAccessToken())).status).toBe(200);
      const other = issuer.mintAccessToken({ audience: 'https://other.example.com' });
      expect((await get(app, '/api/private', other)).body.reason).toBe('audience_mismatch');
    } finally {
      await app.close();
    }
  });

  it('without it, publishes the first audience (the library default)', async () => {
    const app = await sample({});
    try {
      const document = await get(app, WELL_KNOWN);
      expect([document.status, document.body.resource]).toEqual([200, AUDIENCE]);
      const forResource = issuer.mintAccessToken({ audience: RESOURCE });
      expect((await get(app, '/api/private', forResource)).body.reason).toBe('audience_mismatch');
    } finally {
      await app.close();
    }
  });
});
