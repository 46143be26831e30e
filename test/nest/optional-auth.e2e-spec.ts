import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthModule, CurrentUser, OptionalAuth, Scopes, type AuthUser } from '../../lib';
import { createPlatformApp, PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';

let handlerRuns = 0;

@Controller()
class OptionalController {
  @OptionalAuth()
  @Get('optional')
  optional(@CurrentUser() user?: AuthUser) {
    handlerRuns++;
    return { sub: user?.sub ?? null };
  }

  @OptionalAuth()
  @Scopes('read:messages')
  @Get('optional-scoped')
  optionalScoped(@CurrentUser() user?: AuthUser) {
    handlerRuns++;
    return { sub: user?.sub ?? null };
  }

  @Get('private')
  private(@CurrentUser() user: AuthUser) {
    return { sub: user.sub };
  }
}

@OptionalAuth()
@Controller('feed')
class OptionalFeedController {
  @Get()
  feed(@CurrentUser('sub') sub?: string) {
    handlerRuns++;
    return { sub: sub ?? null };
  }
}

/**
 * `@OptionalAuth()`: no token runs the handler anonymously; a token is verified as on any route,
 * and a token that fails is refused, never taken as anonymous.
 */
describe.each(PLATFORMS)('@OptionalAuth() (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;

  async function start(issuer: KeyServer): Promise<INestApplication> {
    @Module({
      imports: [AuthModule.forRoot({ issuerUrl: issuer.issuer, audience: issuer.audience })],
      controllers: [OptionalController, OptionalFeedController],
    })
    class OptionalAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [OptionalAppModule] }).compile();
    return createPlatformApp(moduleRef, platform);
  }

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await start(ks);
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  async function get(path: string, authorization?: string) {
    let call = request(app.getHttpServer()).get(path);
    if (authorization !== undefined) call = call.set('Authorization', authorization);
    const res = await call;
    return { status: res.status, body: res.body, challenge: res.headers['www-authenticate'] };
  }

  it.each(['/optional', '/feed'])('runs %s without a token, with no user', async (path) => {
    const runs = handlerRuns;
    expect(await get(path)).toEqual({ status: 200, body: { sub: null }, challenge: undefined });
    expect(await get(path, 'Basic dXNlcjpwYXNz')).toMatchObject({ body: { sub: null } });
    expect(handlerRuns).toBe(runs + 2);
  });

  it.each(['/optional', '/feed'])('gives %s the user of a valid token', async (path) => {
    expect(await get(path, `Bearer ${ks.token()}`)).toEqual({
      status: 200,
      body: { sub: 'auth0|user-1' },
      challenge: undefined,
    });
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, () => string]>([
    ['an expired token', () => `Bearer ${ks.token({ exp: now() - 60 })}`],
    ['an ID token', () => `Bearer ${ks.token({ nonce: 'n' })}`],
    ['a malformed JWT', () => 'Bearer a.b.c'],
    ['a malformed header', () => 'Bearer a b'],
  ])('refuses %s as a protected route does, without running the handler', async (_, make) => {
    const authorization = make();
    const runs = handlerRuns;
    const refused = await get('/optional', authorization);
    expect(refused.status).toBeGreaterThanOrEqual(400);
    expect(refused).toEqual(await get('/private', authorization));
    expect(await get('/feed', authorization)).toEqual(refused);
    expect(handlerRuns).toBe(runs);
  });

  it('refuses an anonymous caller where @Scopes() asks for a scope', async () => {
    const runs = handlerRuns;
    expect(await get('/optional-scoped')).toMatchObject({
      status: 401,
      body: { error: 'missing_token' },
      challenge: ks.scopedChallenge('read:messages'),
    });
    expect(handlerRuns).toBe(runs);
    expect((await get('/optional-scoped', `Bearer ${ks.token({ scope: 'other' })}`)).status).toBe(
      403,
    );
    expect(await get('/optional-scoped', `Bearer ${ks.token()}`)).toMatchObject({
      status: 200,
      body: { sub: 'auth0|user-1' },
    });
  });

  it('answers 503 when the provider is down, never anonymous', async () => {
    const down = await KeyServer.start();
    const downApp = await start(down);
    try {
      await down.stop();
      const runs = handlerRuns;
      const res = await request(downApp.getHttpServer())
        .get('/optional')
        .set('Authorization', `Bearer ${down.token()}`);
      expect([res.status, res.body.error]).toEqual([503, 'issuer_unavailable']);
      expect(handlerRuns).toBe(runs);
      const anonymous = await request(downApp.getHttpServer()).get('/optional');
      expect([anonymous.status, anonymous.body]).toEqual([200, { sub: null }]);
    } finally {
      await downApp.close();
    }
  });
});
