import { Controller, Get, Injectable, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AuthModule,
  CurrentUser,
  InjectAuthOptions,
  Scopes,
  type AccessTokenClaims,
  type AuthModuleOptions,
  type AuthOptionsFactory,
  type AuthUser,
  type ResolvedAuthOptions,
} from '../../lib';
import { IssuerStartupCheck } from '../../lib/issuer/issuer-startup-check';
import { createPlatformApp } from '../support/create-fixture-app';
import { capturedLogs } from '../support/log-capture';
import { KeyServer } from '../support/key-server';

/** An application's own claims, as the README shows them. */
interface AppClaims extends AccessTokenClaims {
  'https://example.com/roles'?: string[];
}

@Controller()
class TypedController {
  constructor(@InjectAuthOptions() readonly options: ResolvedAuthOptions) {}

  @Get('me')
  me(@CurrentUser() user: AuthUser<AppClaims>): { sub: string; roles: string[] } {
    // `sub` is a string for every caller, and the application's claim has its own type.
    const sub: string = user.sub;
    return { sub, roles: user.claims['https://example.com/roles'] ?? [] };
  }

  @Scopes.any('read:messages', 'admin')
  @Get('any')
  any(): string {
    return 'ok';
  }
}

/** Configuration an options factory depends on, from a module of the application. */
@Injectable()
class AppConfig {
  values: Partial<AuthModuleOptions> = {};
}

@Module({ providers: [AppConfig], exports: [AppConfig] })
class ConfigModule {}

@Injectable()
class AuthConfig implements AuthOptionsFactory {
  static calls = 0;
  constructor(private readonly config: AppConfig) {}
  createAuthOptions(): AuthModuleOptions {
    AuthConfig.calls++;
    return this.config.values as AuthModuleOptions;
  }
}

@Module({ imports: [ConfigModule], providers: [AuthConfig], exports: [AuthConfig] })
class AuthConfigModule {}

describe('AuthModule public API', () => {
  let ks: KeyServer;
  let app: INestApplication | undefined;

  beforeEach(async () => {
    ks = await KeyServer.start();
    AuthConfig.calls = 0;
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await ks.stop();
  });

  async function start(
    auth: ReturnType<typeof AuthModule.forRoot>,
    values: Partial<AuthModuleOptions> = {},
  ): Promise<INestApplication> {
    @Module({ imports: [ConfigModule, auth], controllers: [TypedController] })
    class AppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [AppModule] })
      .overrideProvider(AppConfig)
      .useValue({ values: { issuerUrl: ks.issuer, audience: ks.audience, ...values } })
      .compile();
    app = await createPlatformApp(moduleRef);
    return app;
  }

  const get = (path: string, token?: string) => {
    const call = request(app!.getHttpServer()).get(path);
    return token ? call.set('Authorization', `Bearer ${token}`) : call;
  };

  describe.each([
    ['useClass', () => AuthModule.forRootAsync({ imports: [ConfigModule], useClass: AuthConfig })],
    [
      'useExisting',
      () => AuthModule.forRootAsync({ imports: [AuthConfigModule], useExisting: AuthConfig }),
    ],
  ])('forRootAsync({ %s }) with an AuthOptionsFactory', (_, register) => {
    it('takes the options from createAuthOptions(), once, and protects routes', async () => {
      await start(register());
      expect(AuthConfig.calls).toBe(1);
      expect((await get('/me')).status).toBe(401);
      const token = ks.token({ 'https://example.com/roles': ['editor'] });
      const me = await get('/me', token);
      expect([me.status, me.body]).toEqual([200, { sub: 'auth0|user-1', roles: ['editor'] }]);
    });
  });

  it('refuses a JWT without sub with 401 missing_claim, naming the claim', async () => {
    await start(AuthModule.forRoot({ issuerUrl: ks.issuer, audience: ks.audience }));
    const res = await get('/me', ks.token({ sub: undefined }));
    expect([res.status, res.body.reason]).toEqual([401, 'missing_claim']);
    expect(res.headers['www-authenticate']).toContain('no sub claim');
  });

  it('words a 403 of @Scopes.any() as "requires one of the scopes ..."', async () => {
    await start(AuthModule.forRoot({ issuerUrl: ks.issuer, audience: ks.audience }));
    const res = await get('/any', ks.token({ scope: 'profile' }));
    expect(res.status).toBe(403);
    expect(res.body.message).toContain('requires one of the scopes read:messages, admin.');
  });

  it('refuses an option typo at bootstrap, naming the nearest option', async () => {
    const register = AuthModule.forRootAsync({ imports: [ConfigModule], useClass: AuthConfig });
    await expect(start(register, { audiance: 'x' } as Partial<AuthModuleOptions>)).rejects.toThrow(
      "AuthModule option 'audiance': is not an option; did you mean 'audience'?",
    );
  });

  describe('with introspection configured', () => {
    const secret = 'introspection-secret-never-injected';
    const introspecting = () =>
      AuthModule.forRoot({
        issuerUrl: ks.issuer,
        audience: ks.audience,
        opaqueTokens: 'introspection',
        introspection: { clientId: 'api-client', clientSecret: secret },
      });

    it('hands no secret to what injects the options', async () => {
      await start(introspecting());
      const { options } = app!.get(TypedController);
      expect(options.introspection).toEqual({ clientId: 'api-client' });
      expect(JSON.stringify(options)).not.toContain(secret);
    });

    it('keeps the raw options (with the secret) under no token an application can name', async () => {
      await start(introspecting());
      for (const name of ['AUTH_MODULE_OPTIONS', 'AuthModuleOptions', 'MODULE_OPTIONS']) {
        expect(() => app!.get(name)).toThrow();
      }
    });

    it('still introspects with the secret', async () => {
      ks.introspectionClient.clientSecret = secret;
      await start(introspecting());
      const token = 'opaque-token-of-alice-0123456789';
      ks.introspections.set(token, { active: true, sub: 'alice', aud: ks.audience });
      const me = await get('/me', token);
      expect([me.status, me.body.sub]).toEqual([200, 'alice']);
    });
  });

  describe('startup check of the issuer', () => {
    it('logs at error level, at startup, an issuerUrl without Auth0 trailing slash', async () => {
      const issuerUrl = ks.issuer.replace(/\/$/, '');
      const before = capturedLogs().length;
      await start(AuthModule.forRoot({ issuerUrl, audience: ks.audience }));
      await app!.get(IssuerStartupCheck).done;
      const logged = capturedLogs().slice(before);
      expect(logged).toContainEqual(
        expect.stringMatching(
          new RegExp(
            `^error issuerUrl "${issuerUrl}" differs from the issuer "${ks.issuer}" .*` +
              'add it\\)',
          ),
        ),
      );
      expect(ks.fetches.discovery).toBe(1);
      // The 503 of a request says it again, in the key store's log line.
      expect((await get('/me', ks.token())).status).toBe(503);
      expect(capturedLogs().slice(before)).toContainEqual(
        expect.stringMatching(/^warn Could not fetch .*issuerUrl ".*" differs from the issuer/),
      );
    });

    it('never holds startup up nor fails it while the provider is down', async () => {
      await ks.stop();
      const before = capturedLogs().length;
      await start(AuthModule.forRoot({ issuerUrl: ks.issuer, audience: ks.audience }));
      await app!.get(IssuerStartupCheck).done;
      expect(
        capturedLogs()
          .slice(before)
          .filter((line) => line.startsWith('error')),
      ).toEqual([]);
    });

    it('fetches the discovery document once for startup and the first requests', async () => {
      await start(AuthModule.forRoot({ issuerUrl: ks.issuer, audience: ks.audience }));
      await app!.get(IssuerStartupCheck).done;
      expect((await get('/me', ks.token())).status).toBe(200);
      expect(ks.fetches).toEqual({ discovery: 1, jwks: 1, other: 0 });
    });
  });
});
