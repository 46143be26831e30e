import { randomBytes } from 'node:crypto';
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AuthModule,
  CurrentUser,
  OptionalAuth,
  Scopes,
  StepUp,
  type AuthModuleOptions,
  type AuthUser,
} from '../../lib';
import { createPlatformApp, PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';
import { rememberToken } from '../support/log-capture';

const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
const LOA3 = 'urn:example:loa:3';
/** The module's default clock tolerance (`clockTolerance`), which applies to `max_age`. */
const TOLERANCE = 5;

@Controller('step-up')
class StepUpController {
  @StepUp({ acr: MFA, maxAge: 300 })
  @Get('mfa')
  mfa(@CurrentUser() user: AuthUser) {
    return { sub: user.sub, acr: user.claims.acr };
  }

  @StepUp({ acr: [MFA, LOA3] })
  @Get('acr-only')
  acrOnly() {
    return { ok: true };
  }

  @StepUp({ maxAge: 60 })
  @Get('fresh')
  fresh() {
    return { ok: true };
  }

  @Scopes('admin')
  @StepUp({ acr: MFA })
  @Get('scoped')
  scoped() {
    return { ok: true };
  }

  @OptionalAuth()
  @StepUp({ acr: MFA })
  @Get('optional')
  optional() {
    return { ok: true };
  }
}

/** Class-level `@StepUp()`, overridden by a handler's own. */
@StepUp({ maxAge: 60 })
@Controller('class-step-up')
class ClassStepUpController {
  @Get('inherited')
  inherited() {
    return { ok: true };
  }

  @StepUp({ acr: MFA })
  @Get('overridden')
  overridden() {
    return { ok: true };
  }
}

async function stepUpApp(
  options: AuthModuleOptions,
  platform: (typeof PLATFORMS)[number],
): Promise<INestApplication> {
  if (process.env.VERIFIED_TOKEN_CACHE === 'off')
    options = { ...options, verifiedTokenCache: false };
  @Module({
    imports: [AuthModule.forRoot(options)],
    controllers: [StepUpController, ClassStepUpController],
  })
  class StepUpAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [StepUpAppModule] }).compile();
  return createPlatformApp(moduleRef, platform);
}

/** The parameters of a one-challenge `WWW-Authenticate` value, in order. */
function challengeParams(header: string | undefined): [string, string][] {
  expect(header).toMatch(/^Bearer /);
  return [...header!.slice('Bearer '.length).matchAll(/([a-z_]+)="([^"]*)"/g)].map((m) => [
    m[1],
    m[2],
  ]);
}

const now = () => Math.floor(Date.now() / 1000);

/**
 * RFC 9470 step-up: `@StepUp()` requires an `acr` among a list and/or an `auth_time` at most
 * `maxAge` s old (plus the clock tolerance), read from JWT access tokens and introspection answers.
 * A token that falls short gets 401 `insufficient_user_authentication` with `acr_values` and/or
 * `max_age`, and a description of what is missing.
 */
describe.each(PLATFORMS)('step-up authentication, RFC 9470 (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;
  let introspecting: INestApplication;
  let userinfo: INestApplication;
  const metadataUrl = 'https://api.test.local/.well-known/oauth-protected-resource';

  beforeAll(async () => {
    ks = await KeyServer.start();
    const base = { issuerUrl: ks.issuer, audience: ks.audience };
    app = await stepUpApp(base, platform);
    introspecting = await stepUpApp(
      { ...base, opaqueTokens: 'introspection', introspection: ks.introspectionClient },
      platform,
    );
    userinfo = await stepUpApp({ ...base, opaqueTokens: 'userinfo' }, platform);
  });

  afterAll(async () => {
    await app?.close();
    await introspecting?.close();
    await userinfo?.close();
    await ks?.stop();
  });

  const get = (path: string, token?: string, on: INestApplication = app) => {
    const call = request(on.getHttpServer()).get(path);
    return token === undefined ? call : call.set('Authorization', `Bearer ${token}`);
  };

  /** A refusal's status, reason and challenge parameters (`error_description` matched apart). */
  async function refusal(path: string, token: string, on: INestApplication = app) {
    const res = await get(path, token, on);
    const params = challengeParams(res.headers['www-authenticate']);
    return {
      status: res.status,
      error: res.body.error,
      reason: res.body.reason,
      params,
      description: Object.fromEntries(params).error_description,
      message: res.body.message as string,
    };
  }

  /** The challenge parameters of a step-up refusal of the /mfa route, in order. */
  const mfaChallenge = (description: string | RegExp) => [
    ['realm', 'api'],
    ['error', 'insufficient_user_authentication'],
    ['acr_values', MFA],
    ['max_age', '300'],
    [
      'error_description',
      typeof description === 'string' ? description : expect.stringMatching(description),
    ],
    ['resource_metadata', metadataUrl],
  ];

  it('answers 200 to a token with an accepted acr and a fresh auth_time; the user has both', async () => {
    const res = await get('/step-up/mfa', ks.token({ acr: MFA, auth_time: now() - 10 }));
    expect([res.status, res.body]).toEqual([200, { sub: 'auth0|user-1', acr: MFA }]);
  });

  it('refuses a token without acr: 401 insufficient_user_authentication, acr_values and max_age', async () => {
    const res = await refusal('/step-up/mfa', ks.token({ auth_time: now() - 10 }));
    expect(res).toMatchObject({
      status: 401,
      error: 'insufficient_user_authentication',
      reason: 'acr_missing',
    });
    expect(res.params).toEqual(
      mfaChallenge(
        `The token has no acr claim, but this route requires an authentication context class (acr) of: ${MFA}. Sign in again with one of this challenge's acr_values.`,
      ),
    );
    expect(res.description).toBe(res.message);
  });

  it('refuses a token whose acr is not accepted, naming it and the accepted ones', async () => {
    const res = await refusal(
      '/step-up/mfa',
      ks.token({ acr: 'urn:example:pwd', auth_time: now() - 10 }),
    );
    expect([res.status, res.reason]).toEqual([401, 'acr_not_accepted']);
    expect(res.params).toEqual(
      mfaChallenge(
        `The token's acr is 'urn:example:pwd', but this route accepts only: ${MFA}. Sign in again with one of this challenge's acr_values.`,
      ),
    );
  });

  it('refuses a token without auth_time', async () => {
    const res = await refusal('/step-up/mfa', ks.token({ acr: MFA }));
    expect([res.status, res.reason]).toEqual([401, 'auth_time_missing']);
    expect(res.params).toEqual(
      mfaChallenge(
        'The token has no auth_time claim, but this route requires an authentication at most 300 s old. Sign in again.',
      ),
    );
  });

  it('refuses an authentication older than maxAge plus the clock tolerance, saying how old', async () => {
    const res = await refusal('/step-up/mfa', ks.token({ acr: MFA, auth_time: now() - 320 }));
    expect([res.status, res.reason]).toEqual([401, 'authentication_too_old']);
    expect(res.params).toEqual(
      mfaChallenge(
        /^The user authenticated 32[01] s ago, while at most 300 s is allowed on this route\. Sign in again\.$/,
      ),
    );
  });

  it('accepts an authentication older than maxAge but within the clock tolerance', async () => {
    const authTime = now() - 300 - TOLERANCE + 2;
    expect((await get('/step-up/mfa', ks.token({ acr: MFA, auth_time: authTime }))).status).toBe(
      200,
    );
    // An auth_time a little ahead of this clock (another server's clock) is within the tolerance.
    const ahead = ks.token({ acr: MFA, auth_time: now() + TOLERANCE - 2 });
    expect((await get('/step-up/mfa', ahead)).status).toBe(200);
  });

  it.each<[string, Record<string, unknown>, string, RegExp]>([
    [
      'acr as a number',
      { acr: 3, auth_time: 'now' },
      'acr_invalid',
      /^The token's acr claim is 3, not a string;/,
    ],
    [
      'acr as null',
      { acr: null, auth_time: 'now' },
      'acr_invalid',
      /^The token's acr claim is null, not a string;/,
    ],
    [
      'acr as an array',
      { acr: [MFA], auth_time: 'now' },
      'acr_invalid',
      /^The token's acr claim is \['http.*'\], not a string;/,
    ],
    [
      'auth_time as a string',
      { acr: MFA, auth_time: '1700000000' },
      'auth_time_invalid',
      /^The token's auth_time claim is '1700000000', not a NumericDate \(seconds since 1970\)/,
    ],
    [
      'auth_time far in the future',
      { acr: MFA, auth_time: 'future' },
      'auth_time_invalid',
      /^The token's auth_time is 3(600|599) s in the future, beyond the clock tolerance of 5 s: check the clocks/,
    ],
  ])(
    'refuses %s with 401 insufficient_user_authentication, never 500 nor a pass',
    async (_case, claims, reason, description) => {
      const authTime =
        claims.auth_time === 'now'
          ? now() - 1
          : claims.auth_time === 'future'
            ? now() + 3600
            : claims.auth_time;
      const res = await refusal('/step-up/mfa', ks.token({ ...claims, auth_time: authTime }));
      expect([res.status, res.error, res.reason]).toEqual([
        401,
        'insufficient_user_authentication',
        reason,
      ]);
      expect(res.params).toEqual(mfaChallenge(description));
    },
  );

  it('never lets a text of the token put scope= into the challenge', async () => {
    const res = await refusal(
      '/step-up/mfa',
      ks.token({ acr: 'x scope="admin"', auth_time: now() }),
    );
    expect([res.status, res.reason]).toEqual([401, 'acr_not_accepted']);
    expect(res.params.map(([name]) => name)).not.toContain('scope');
    expect(res.description).toMatch(/^The token's acr is 'x scope ='admin'', but/);
    const header = (await get('/step-up/mfa', ks.token({ acr: 'scope=admin' }))).headers[
      'www-authenticate'
    ];
    expect(header).not.toMatch(/scope=/i);
  });

  it('sends only acr_values when only acr is required, and only max_age when only maxAge is', async () => {
    const acrOnly = await refusal('/step-up/acr-only', ks.token());
    expect([acrOnly.status, acrOnly.reason]).toEqual([401, 'acr_missing']);
    expect(acrOnly.params.map(([name]) => name)).toEqual([
      'realm',
      'error',
      'acr_values',
      'error_description',
      'resource_metadata',
    ]);
    expect(Object.fromEntries(acrOnly.params).acr_values).toBe(`${MFA} ${LOA3}`);
    const fresh = await refusal('/step-up/fresh', ks.token());
    expect([fresh.status, fresh.reason]).toEqual([401, 'auth_time_missing']);
    expect(fresh.params.map(([name]) => name)).toEqual([
      'realm',
      'error',
      'max_age',
      'error_description',
      'resource_metadata',
    ]);
    expect(Object.fromEntries(fresh.params).max_age).toBe('60');
  });

  it('checks each route with the same token: no pass nor refusal is carried to another route', async () => {
    const token = ks.token({ acr: LOA3 });
    expect((await get('/step-up/acr-only', token)).status).toBe(200);
    expect((await refusal('/step-up/fresh', token)).reason).toBe('auth_time_missing');
    expect((await refusal('/step-up/mfa', token)).reason).toBe('acr_not_accepted');
    expect((await get('/step-up/acr-only', token)).status).toBe(200);
  });

  it('answers 403 insufficient_scope before step-up when the scope is missing', async () => {
    const res = await get('/step-up/scoped', ks.token());
    expect([res.status, res.body.reason]).toEqual([403, 'insufficient_scope']);
    expect(res.headers['www-authenticate']).toContain('error="insufficient_scope", ');
    const scoped = await refusal('/step-up/scoped', ks.token({ scope: 'admin' }));
    expect([scoped.status, scoped.reason]).toEqual([401, 'acr_missing']);
    const granted = await get('/step-up/scoped', ks.token({ scope: 'admin', acr: MFA }));
    expect(granted.status).toBe(200);
  });

  it("applies the class's @StepUp() to its handlers, and a handler's own instead", async () => {
    expect((await refusal('/class-step-up/inherited', ks.token({ acr: MFA }))).reason).toBe(
      'auth_time_missing',
    );
    expect((await get('/class-step-up/inherited', ks.token({ auth_time: now() }))).status).toBe(
      200,
    );
    // The handler's requirement replaces the class's: acr, and no auth_time.
    expect((await get('/class-step-up/overridden', ks.token({ acr: MFA }))).status).toBe(200);
    expect(
      (await refusal('/class-step-up/overridden', ks.token({ auth_time: now() }))).reason,
    ).toBe('acr_missing');
  });

  it('never serves an anonymous caller on an @OptionalAuth() route that requires step-up', async () => {
    const res = await get('/step-up/optional');
    expect([res.status, res.body.reason]).toEqual([401, 'missing_token']);
  });

  describe('introspection answers (RFC 7662)', () => {
    const opaque = (answer: Record<string, unknown>) => {
      const token = rememberToken(randomBytes(24).toString('base64url'));
      ks.introspections.set(token, {
        active: true,
        sub: 'auth0|opaque-1',
        aud: ks.audience,
        exp: now() + 600,
        ...answer,
      });
      return token;
    };

    it('answers 200 to an answer with an accepted acr and a fresh auth_time', async () => {
      const res = await get(
        '/step-up/mfa',
        opaque({ acr: MFA, auth_time: now() - 5 }),
        introspecting,
      );
      expect([res.status, res.body]).toEqual([200, { sub: 'auth0|opaque-1', acr: MFA }]);
    });

    it.each<[string, Record<string, unknown>, string]>([
      ['no acr', { auth_time: 0 }, 'acr_missing'],
      ['another acr', { acr: LOA3, auth_time: 0 }, 'acr_not_accepted'],
      ['no auth_time', { acr: MFA }, 'auth_time_missing'],
      ['an old auth_time', { acr: MFA, auth_time: 1 }, 'authentication_too_old'],
      ['acr as an object', { acr: { level: 3 }, auth_time: 0 }, 'acr_invalid'],
      ['auth_time as a string', { acr: MFA, auth_time: 'yesterday' }, 'auth_time_invalid'],
    ])('refuses an answer with %s: 401 with the challenge', async (_case, answer, reason) => {
      const fresh = { ...answer, ...(answer.auth_time === 0 ? { auth_time: now() } : {}) };
      const res = await refusal('/step-up/mfa', opaque(fresh), introspecting);
      expect([res.status, res.error, res.reason]).toEqual([
        401,
        'insufficient_user_authentication',
        reason,
      ]);
      expect(res.params).toEqual(mfaChallenge(/./));
    });
  });

  it('refuses an opaque token checked through /userinfo, which tells nothing of the authentication', async () => {
    const token = rememberToken(randomBytes(24).toString('base64url'));
    ks.profiles.set(token, { sub: 'auth0|user-1', acr: MFA, auth_time: now() });
    const res = await refusal('/step-up/mfa', token, userinfo);
    expect([res.status, res.error, res.reason]).toEqual([
      401,
      'insufficient_user_authentication',
      'acr_missing',
    ]);
    expect(res.description).toMatch(/opaque and checked through \/userinfo/);
    expect(res.params).toEqual(mfaChallenge(/./));
  });
});
