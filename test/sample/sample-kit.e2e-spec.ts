import type { INestApplication } from '@nestjs/common';
import { Test, type TestingModule } from '@nestjs/testing';
import { io } from 'socket.io-client';
import request from 'supertest';
import { TestIssuer } from '../../lib/testing';
import { AuthIoAdapter } from '../../lib/websockets/auth-io.adapter';
import { AppModule } from '../../sample/app.module';
import { createPlatformApp, PLATFORMS } from '../support/create-fixture-app';
import { listen } from '../support/listen';
import { capturingLogger, rememberToken } from '../support/log-capture';

const AUDIENCE = 'https://api.example.com';

/**
 * The sample's own module, tested as a user tests theirs: @nestjs/testing and the testing kit's
 * issuer in place of an identity provider (AUTH_ISSUER_URL and AUTH_AUDIENCE point at it).
 */
async function compileSample(issuer: TestIssuer): Promise<TestingModule> {
  process.env.AUTH_ISSUER_URL = issuer.issuerUrl;
  process.env.AUTH_AUDIENCE = AUDIENCE;
  // No Redis: the in-process cache only.
  return Test.createTestingModule({ imports: [AppModule.register('')] }).compile();
}

const saved = { issuer: process.env.AUTH_ISSUER_URL, audience: process.env.AUTH_AUDIENCE };
afterAll(() => {
  for (const [name, value] of [
    ['AUTH_ISSUER_URL', saved.issuer],
    ['AUTH_AUDIENCE', saved.audience],
  ] as const) {
    if (value === undefined) delete process.env[name];
    else process.env[name] = value;
  }
});

describe.each(PLATFORMS)('the sample module with the testing kit (%s)', (platform) => {
  let issuer: TestIssuer;
  let app: INestApplication;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    app = await createPlatformApp(await compileSample(issuer), platform);
  });

  afterAll(async () => {
    await app.close();
    await issuer.stop();
  });

  const get = (path: string, token?: string) => {
    const call = request(app.getHttpServer()).get(path);
    return token ? call.set('Authorization', `Bearer ${rememberToken(token)}`) : call;
  };

  it('serves the four routes of the contract', async () => {
    const reader = issuer.mintAccessToken({ sub: 'user-1', scopes: ['read:messages'] });
    expect((await get('/api/public')).status).toBe(200);
    expect((await get('/api/private')).status).toBe(401);
    expect((await get('/api/private', reader)).status).toBe(200);
    expect((await get('/api/private-scoped', reader)).status).toBe(200);
    const unscoped = issuer.mintAccessToken({ sub: 'user-1' });
    expect((await get('/api/private-scoped', unscoped)).status).toBe(403);
    const me = await get('/api/me', reader);
    expect(me.body).toMatchObject({ sub: 'user-1', scopes: ['read:messages'], tokenType: 'jwt' });
  });

  it('accepts an opaque token through userinfo (the sample sets opaqueTokens: userinfo)', async () => {
    const opaque = issuer.opaqueToken({ profile: { sub: 'user-2', email: 'u2@example.com' } });
    const me = await get('/api/me', opaque);
    expect([me.status, me.body.profile]).toEqual([200, { sub: 'user-2', email: 'u2@example.com' }]);
    expect((await get('/api/private-scoped', opaque)).status).toBe(403);
  });

  it('answers GraphQL: refused fields are null with an error, the rest intact', async () => {
    const query = '{ publicMessage scopedMessage me { sub scopes } }';
    const graphql = (token?: string) => {
      const call = request(app.getHttpServer()).post('/graphql').send({ query });
      return token ? call.set('Authorization', `Bearer ${rememberToken(token)}`) : call;
    };
    const anonymous = await graphql();
    expect(anonymous.body.data).toEqual({
      publicMessage: expect.any(String),
      scopedMessage: null,
      me: null,
    });
    const reader = issuer.mintAccessToken({ sub: 'user-1', scopes: ['read:messages'] });
    expect((await graphql(reader)).body).toEqual({
      data: {
        publicMessage: expect.any(String),
        scopedMessage: expect.any(String),
        me: { sub: 'user-1', scopes: ['read:messages'] },
      },
    });
  });
});

describe('the sample gateway with the testing kit (socket.io)', () => {
  let issuer: TestIssuer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: AUDIENCE });
    app = (await compileSample(issuer)).createNestApplication({ logger: capturingLogger });
    app.useWebSocketAdapter(new AuthIoAdapter(app));
    url = `${await listen(app)}/events`;
  });

  afterAll(async () => {
    await app.close();
    await issuer.stop();
  });

  it('refuses a handshake without a token, and answers whoami and scoped to a minted token', async () => {
    const connect = (auth: Record<string, unknown>) =>
      io(url, { auth, transports: ['websocket'], reconnection: false, forceNew: true });
    const anonymous = connect({});
    const token = rememberToken(
      issuer.mintAccessToken({ sub: 'user-1', scopes: ['read:messages'] }),
    );
    const socket = connect({ token });
    try {
      const refused = await new Promise<unknown>((resolve) =>
        anonymous.once('connect_error', (error: Error & { data?: unknown }) => resolve(error.data)),
      );
      expect(refused).toMatchObject({ status: 401, reason: 'missing_token' });
      expect(await socket.emitWithAck('whoami')).toEqual({ sub: 'user-1' });
      expect(await socket.emitWithAck('scoped')).toEqual({ ok: true });
    } finally {
      anonymous.close();
      socket.close();
    }
  });
});
