import { Controller, Get, Module, Req, UseGuards, type INestApplication } from '@nestjs/common';
import { APP_FILTER } from '@nestjs/core';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import passport from 'passport';
import request from 'supertest';
import {
  AccessTokenGuard,
  AuthHttpExceptionFilter,
  AuthModule,
  CurrentUser,
  type AuthModuleOptions,
  type AuthUser,
} from '../../lib';
import { createPlatformApp, PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';

/** A trivial second strategy: `X-Api-Key: test-key` is the caller `api-key-client`. */
passport.use('api-key', {
  authenticate(this: passport.StrategyCreated<passport.Strategy>, req) {
    if (req.headers['x-api-key'] === 'test-key') this.success({ sub: 'api-key-client' });
    else this.fail('ApiKey', 401);
  },
});

@Controller('library')
@UseGuards(AccessTokenGuard)
class LibraryController {
  @Get()
  get(@CurrentUser() user: AuthUser) {
    return { sub: user.sub };
  }
}

@Controller('passport')
@UseGuards(AuthGuard('oauth2-access-token'))
class PassportController {
  @Get()
  get(@Req() req: { user: AuthUser }) {
    return { sub: req.user.sub };
  }
}

@Controller('composed')
@UseGuards(AuthGuard(['api-key', 'oauth2-access-token']))
class ComposedController {
  @Get()
  get(@Req() req: { user: AuthUser }) {
    return { sub: req.user.sub };
  }
}

/**
 * `AuthGuard('oauth2-access-token')` of `@nestjs/passport` gives the answers of the library's own
 * guard: status, JSON body, `WWW-Authenticate` and `Retry-After`. On Express the strategy writes the
 * headers to `request.res`; on Fastify `AuthHttpExceptionFilter` sends them.
 */
describe.each(PLATFORMS)("Passport's AuthGuard (%s)", (platform) => {
  let ks: KeyServer;

  beforeAll(async () => {
    ks = await KeyServer.start();
  });

  afterAll(() => ks.stop());

  async function start(options: Partial<AuthModuleOptions> = {}): Promise<INestApplication> {
    @Module({
      imports: [
        AuthModule.forRoot({
          issuerUrl: ks.issuer,
          audience: ks.audience,
          globalGuard: false,
          ...options,
        }),
      ],
      controllers: [LibraryController, PassportController, ComposedController],
      // Fastify's request does not lead to its reply: the filter sends the strategy's headers.
      providers:
        platform === 'fastify' ? [{ provide: APP_FILTER, useClass: AuthHttpExceptionFilter }] : [],
    })
    class PassportAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [PassportAppModule] }).compile();
    return createPlatformApp(moduleRef, platform);
  }

  type Answer = [number, unknown, string | undefined, string | undefined];

  async function answer(
    app: INestApplication,
    path: string,
    authorization?: string | string[],
    apiKey?: string,
  ): Promise<Answer> {
    let call = request(app.getHttpServer()).get(path);
    // An array sends one header line per value (Node's setHeader), which superagent's types omit.
    if (authorization !== undefined) call = call.set('Authorization', authorization as string);
    if (apiKey !== undefined) call = call.set('X-Api-Key', apiKey);
    const res = await call;
    return [res.status, res.body, res.headers['www-authenticate'], res.headers['retry-after']];
  }

  describe('with the provider up', () => {
    let app: INestApplication;

    beforeAll(async () => {
      // Passport's path takes bearer tokens only; with DPoP on, the library guard also offers a
      // DPoP challenge (the test after this block).
      app = await start({ dpop: { mode: 'disabled' } });
    });

    afterAll(() => app.close());

    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => string | string[] | undefined]> = [
      ['a valid token', () => `Bearer ${ks.token()}`],
      ['an expired token', () => `Bearer ${ks.token({ exp: now() - 60 })}`],
      ['an ID token', () => `Bearer ${ks.token({ nonce: 'n' })}`],
      ['no token', () => undefined],
      ['another scheme', () => 'Basic dXNlcjpwYXNz'],
      ['a malformed header', () => 'Bearer a b'],
      ['a malformed JWT', () => 'Bearer a.b.c'],
      ['a forged signature', () => `Bearer ${ks.token().slice(0, -4)}AAAA`],
      ['two Authorization headers', () => [`Bearer ${ks.token()}`, `Bearer ${ks.token()}`]],
    ];

    it.each(cases)('answers %s as the library guard does', async (_name, make) => {
      const authorization = make();
      const expected = await answer(app, '/library', authorization);
      expect(await answer(app, '/passport', authorization)).toEqual(expected);
    });

    it('refuses with the RFC 6750 challenge (a check of the comparison itself)', async () => {
      const [status, body, challenge] = await answer(app, '/passport', 'Bearer a.b.c');
      expect([status, (body as { reason: string }).reason]).toEqual([401, 'malformed_jwt']);
      expect(challenge).toMatch(/^Bearer realm="api", error="invalid_token"/);
      const twice = await answer(app, '/passport', [`Bearer ${ks.token()}`, 'Bearer a.b.c']);
      expect([twice[0], (twice[1] as { reason: string }).reason]).toEqual([
        400,
        'multiple_token_methods',
      ]);
      expect(await answer(app, '/passport', `Bearer ${ks.token()}`)).toEqual([
        200,
        { sub: 'auth0|user-1' },
        undefined,
        undefined,
      ]);
    });

    it('composes with another strategy: either credential is accepted', async () => {
      expect((await answer(app, '/composed', undefined, 'test-key')).slice(0, 2)).toEqual([
        200,
        { sub: 'api-key-client' },
      ]);
      expect((await answer(app, '/composed', `Bearer ${ks.token()}`)).slice(0, 2)).toEqual([
        200,
        { sub: 'auth0|user-1' },
      ]);
    });

    it('composes with another strategy: refusals are the library guard’s', async () => {
      for (const authorization of [undefined, 'Bearer a.b.c', `Bearer ${ks.token({ nonce: 'n' })}`])
        expect(await answer(app, '/composed', authorization, 'wrong-key')).toEqual(
          await answer(app, '/library', authorization),
        );
    });
  });

  it('offers only the Bearer challenge, where the guard with DPoP on offers DPoP too', async () => {
    const app = await start();
    try {
      const [status, body, challenge] = await answer(app, '/passport');
      const guard = await answer(app, '/library');
      expect([status, body]).toEqual([guard[0], guard[1]]);
      expect(guard[2]).toMatch(/^Bearer realm="api", resource_metadata="[^"]+", DPoP realm="api"/);
      expect(challenge).toBe(guard[2]!.split(', DPoP ')[0]);
    } finally {
      await app.close();
    }
  });

  describe("with dpop.mode 'required'", () => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await start({ dpop: { mode: 'required', algorithms: ['ES256'] } });
    });

    afterAll(() => app.close());

    const now = () => Math.floor(Date.now() / 1000);
    const cases: Array<[string, () => string | undefined]> = [
      ['a valid bearer token', () => `Bearer ${ks.token()}`],
      [
        'a token bound to a DPoP key, as a bearer token',
        () => `Bearer ${ks.token({ cnf: { jkt: 'a'.repeat(43) } })}`,
      ],
      ['an expired bearer token', () => `Bearer ${ks.token({ exp: now() - 60 })}`],
      ['no token', () => undefined],
    ];

    it.each(cases)('answers %s as the library guard does', async (_name, make) => {
      const authorization = make();
      const expected = await answer(app, '/library', authorization);
      expect(expected[0]).toBe(401);
      expect(await answer(app, '/passport', authorization)).toEqual(expected);
      expect(await answer(app, '/composed', authorization, 'wrong-key')).toEqual(expected);
    });

    it('refuses a bearer token on every use, the verified-token cache hit included', async () => {
      const authorization = `Bearer ${ks.token()}`;
      for (let i = 0; i < 3; i++) {
        const [status, body, challenge] = await answer(app, '/passport', authorization);
        expect([status, (body as { reason: string }).reason]).toEqual([401, 'dpop_required']);
        expect(challenge).toMatch(/^DPoP realm="api", error="invalid_token", .*algs="ES256"$/);
      }
    });
  });

  it('answers 503 with Retry-After as the library guard does when the provider is down', async () => {
    const down = await KeyServer.start();
    const app = await start({ issuerUrl: down.issuer, audience: down.audience });
    try {
      await down.stop();
      const authorization = `Bearer ${down.token()}`;
      const expected = await answer(app, '/library', authorization);
      expect(expected[0]).toBe(503);
      const viaPassport = await answer(app, '/passport', authorization);
      expect([viaPassport[0], viaPassport[1], viaPassport[2]]).toEqual(expected.slice(0, 3));
      expect(viaPassport[3] === undefined).toBe(expected[3] === undefined);
    } finally {
      await app.close();
    }
  });

  it('accepts opaque tokens too when opaqueTokens is set', async () => {
    const app = await start({ opaqueTokens: 'userinfo' });
    try {
      ks.profiles.set('opaque-token-for-passport', { sub: 'auth0|opaque-user' });
      for (const token of ['opaque-token-for-passport', 'unknown-opaque-token'])
        expect(await answer(app, '/passport', `Bearer ${token}`)).toEqual(
          await answer(app, '/library', `Bearer ${token}`),
        );
      expect((await answer(app, '/passport', 'Bearer opaque-token-for-passport'))[1]).toEqual({
        sub: 'auth0|opaque-user',
      });
    } finally {
      await app.close();
    }
  });
});
