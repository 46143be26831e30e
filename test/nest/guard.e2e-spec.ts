import type { ExecutionContext, INestApplication } from '@nestjs/common';
import request from 'supertest';
import { AccessTokenGuard, AuthOptionsError, UnsupportedContextError } from '../../lib';
import { FixtureController } from '../support/fixture.controllers';
import { createFixtureApp, PLATFORMS, type Registration } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';

describe.each(PLATFORMS)('AccessTokenGuard registration (%s)', (platform) => {
  let ks: KeyServer;

  beforeAll(async () => {
    ks = await KeyServer.start();
  });

  afterAll(() => ks.stop());

  describe.each<Registration>(['forRoot', 'forRootAsync'])(
    'with globalGuard: false (%s)',
    (registration) => {
      let app: INestApplication;

      beforeAll(async () => {
        app = await createFixtureApp(
          { issuerUrl: ks.issuer, audience: ks.audience },
          { platform, registration, globalGuard: false },
        );
      });

      afterAll(() => app.close());

      it('guards only the routes that use @UseGuards(AccessTokenGuard)', async () => {
        const server = app.getHttpServer();
        expect((await request(server).get('/guarded/open')).status).toBe(200);
        const refused = await request(server).get('/guarded');
        expect([refused.status, refused.headers['www-authenticate']]).toEqual([
          401,
          ks.bareChallenge,
        ]);
        const ok = await request(server)
          .get('/guarded')
          .set('Authorization', `Bearer ${ks.token()}`);
        expect([ok.status, ok.body]).toEqual([200, { sub: 'auth0|user-1' }]);
      });
    },
  );

  describe('in execution contexts other than HTTP', () => {
    let app: INestApplication;
    let guard: AccessTokenGuard;

    beforeAll(async () => {
      app = await createFixtureApp({ issuerUrl: ks.issuer, audience: ks.audience }, { platform });
      guard = app.get(AccessTokenGuard);
    });

    afterAll(() => app.close());

    const context = (type: string, handler: keyof FixtureController) =>
      ({
        getType: () => type,
        getHandler: () => FixtureController.prototype[handler],
        getClass: () => FixtureController,
        switchToHttp: () => {
          throw new Error('not http');
        },
      }) as unknown as ExecutionContext;

    it.each(['an-unknown-type', 'grpc-stream'])(
      'refuses a protected %s handler instead of letting it through',
      async (type) => {
        await expect(guard.canActivate(context(type, 'private'))).rejects.toBeInstanceOf(
          UnsupportedContextError,
        );
      },
    );

    it.each(['ws', 'rpc', 'graphql', 'an-unknown-type'])(
      'lets a public handler through in the %s context',
      async (type) => {
        await expect(guard.canActivate(context(type, 'open'))).resolves.toBe(true);
      },
    );
  });

  describe('option validation at bootstrap', () => {
    it.each([
      [{ issuerUrl: 'http://idp.example.com/', audience: 'a' }, 'issuerUrl'],
      [{ issuerUrl: '', audience: 'a' }, 'issuerUrl'],
      [{ issuerUrl: 'https://idp.example.com/', audience: [] }, 'audience'],
      [
        { issuerUrl: 'https://idp.example.com/', audience: 'a', algorithms: ['HS256'] },
        'algorithms',
      ],
      [
        { issuerUrl: 'https://idp.example.com/', audience: 'a', clockTolerance: -1 },
        'clockTolerance',
      ],
    ])('stops the app with an error naming the option: %j', async (options, option) => {
      const failure = createFixtureApp(options as never, {
        platform,
        registration: 'forRootAsync',
      });
      await expect(failure).rejects.toBeInstanceOf(AuthOptionsError);
      await expect(failure).rejects.toThrow(`'${option}'`);
    });
  });
});
