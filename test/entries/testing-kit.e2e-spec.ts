import {
  Controller,
  Get,
  UseGuards,
  type CanActivate,
  type INestApplication,
} from '@nestjs/common';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AccessTokenGuard,
  AuthModule,
  CurrentUser,
  Public,
  Scopes,
  WithUserinfo,
  type AuthUser,
} from '../../lib';
import { TestIssuer } from '../../lib/testing';
import { createPlatformApp, PLATFORMS } from '../support/create-fixture-app';
import { rememberToken } from '../support/log-capture';

/** A controller as a user writes one: the kit tests it through the real guard. */
@Controller('messages')
class MessagesController {
  @Public()
  @Get('health')
  health() {
    return { ok: true };
  }

  @Scopes('read:messages')
  @Get()
  list(@CurrentUser() user: AuthUser) {
    return { sub: user.sub, messages: ['hello'] };
  }

  @WithUserinfo()
  @Get('me')
  me(@CurrentUser() user: AuthUser) {
    return { sub: user.sub, tokenType: user.tokenType, email: user.profile?.email };
  }
}

/** Guarded where it is used, for `globalGuard: false`. */
@Controller('guarded')
@UseGuards(AccessTokenGuard)
class GuardedController {
  @Get()
  get() {
    return { ok: true };
  }
}

// README "Testing" example: from here...
describe.each(PLATFORMS)('an app tested with nest-oauth2-bearer/testing (%s)', (platform) => {
  let issuer: TestIssuer;
  let app: INestApplication;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: 'https://api.example.com' });
    const moduleRef = await Test.createTestingModule({
      imports: [AuthModule.forRoot(issuer.moduleOptions({ opaqueTokens: 'userinfo' }))],
      controllers: [MessagesController],
    }).compile();
    app = await createPlatformApp(moduleRef, platform);
  });

  afterAll(async () => {
    await app.close();
    await issuer.stop();
  });

  const get = (path: string, token?: string) => {
    const call = request(app.getHttpServer()).get(path);
    return token === undefined ? call : call.set('Authorization', `Bearer ${rememberToken(token)}`);
  };

  it('answers 200 to a token with the scope, 403 without it, 401 without a token', async () => {
    const reader = issuer.mintAccessToken({ sub: 'user-1', scopes: ['read:messages'] });
    const res = await get('/messages', reader);
    expect([res.status, res.body]).toEqual([200, { sub: 'user-1', messages: ['hello'] }]);

    const other = issuer.mintAccessToken({ sub: 'user-1', scopes: ['write:messages'] });
    expect((await get('/messages', other)).body).toMatchObject({ error: 'insufficient_scope' });
    expect((await get('/messages')).status).toBe(401);
    expect((await get('/messages/health')).status).toBe(200);
  });

  it('refuses an expired token and an ID token', async () => {
    const expired = issuer.mintAccessToken({ scopes: ['read:messages'], expiresIn: -60 });
    expect((await get('/messages', expired)).body).toMatchObject({ reason: 'token_expired' });
    const idToken = issuer.mintIdToken();
    expect((await get('/messages', idToken)).body).toMatchObject({ reason: 'id_token' });
  });

  it('accepts an opaque token through userinfo, with its profile', async () => {
    const opaque = issuer.opaqueToken({ profile: { sub: 'user-2', email: 'u2@example.com' } });
    const res = await get('/messages/me', opaque);
    expect([res.status, res.body]).toEqual([
      200,
      { sub: 'user-2', tokenType: 'opaque', email: 'u2@example.com' },
    ]);
  });
  // ...to here.

  it('fetches the profile registered with a minted access token for @WithUserinfo()', async () => {
    const token = issuer.mintAccessToken({
      sub: 'user-3',
      profile: { sub: 'user-3', email: 'u3@example.com' },
    });
    const res = await get('/messages/me', token);
    expect([res.status, res.body]).toEqual([
      200,
      { sub: 'user-3', tokenType: 'jwt', email: 'u3@example.com' },
    ]);
  });

  it('weakens nothing: a tampered token, or one signed by another issuer, is refused', async () => {
    const token = issuer.mintAccessToken({ sub: 'user-1' });
    const [header, payload, signature] = token.split('.');
    const claims = JSON.parse(Buffer.from(payload, 'base64url').toString()) as object;
    const widened = Buffer.from(JSON.stringify({ ...claims, scope: 'read:messages' })).toString(
      'base64url',
    );
    const tampered = await get('/messages', `${header}.${widened}.${signature}`);
    expect([tampered.status, tampered.body.reason]).toEqual([401, 'signature_invalid']);

    // Keys are generated per issuer: another one's token claiming this issuer has an unknown key.
    const impostor = await TestIssuer.start({ audience: 'https://api.example.com' });
    try {
      const forged = impostor.mintAccessToken({
        scopes: ['read:messages'],
        claims: { iss: issuer.issuerUrl },
      });
      expect((await get('/messages', forged)).status).toBe(401);
    } finally {
      await impostor.stop();
    }

    const revoked = issuer.opaqueToken({ profile: { sub: 'user-4' } });
    issuer.revoke(revoked);
    expect((await get('/messages/me', revoked)).body).toMatchObject({
      reason: 'token_rejected_by_issuer',
    });
  });
});

describe('introspection with the kit', () => {
  let issuer: TestIssuer;
  let app: INestApplication;

  beforeAll(async () => {
    issuer = await TestIssuer.start();
    const moduleRef = await Test.createTestingModule({
      imports: [AuthModule.forRoot(issuer.moduleOptions({ opaqueTokens: 'introspection' }))],
      controllers: [MessagesController],
    }).compile();
    app = await createPlatformApp(moduleRef);
  });

  afterAll(async () => {
    await app.close();
    await issuer.stop();
  });

  it('checks opaque tokens with the scopes introspection reports', async () => {
    const call = (token: string) =>
      request(app.getHttpServer())
        .get('/messages')
        .set('Authorization', `Bearer ${rememberToken(token)}`);
    const scoped = issuer.opaqueToken({ profile: { sub: 'svc' }, scopes: ['read:messages'] });
    expect((await call(scoped)).body).toEqual({ sub: 'svc', messages: ['hello'] });
    const unscoped = issuer.opaqueToken({ profile: { sub: 'svc' } });
    expect((await call(unscoped)).status).toBe(403);
    const expired = issuer.opaqueToken({ profile: { sub: 'svc' }, expiresIn: -1 });
    expect((await call(expired)).body).toMatchObject({ reason: 'token_inactive' });
  });
});

/**
 * The trap the README warns about: the module registers its guard as APP_GUARD, which
 * `overrideGuard(AccessTokenGuard)` does not reach. The kit's real tokens make overriding needless.
 */
describe('overrideGuard(AccessTokenGuard) in a test', () => {
  const compileWith = async (globalGuard: boolean, issuer: TestIssuer) => {
    const allowAll: CanActivate = { canActivate: () => true };
    const moduleRef = await Test.createTestingModule({
      imports: [AuthModule.forRoot({ ...issuer.moduleOptions(), globalGuard })],
      controllers: [MessagesController, GuardedController],
    })
      .overrideGuard(AccessTokenGuard)
      .useValue(allowAll)
      .compile();
    return createPlatformApp(moduleRef);
  };

  it('leaves the global guard active: the route still needs a token', async () => {
    const issuer = await TestIssuer.start();
    const app = await compileWith(true, issuer);
    try {
      expect((await request(app.getHttpServer()).get('/messages')).status).toBe(401);
    } finally {
      await app.close();
      await issuer.stop();
    }
  });

  it('replaces @UseGuards(AccessTokenGuard) when the module has globalGuard: false', async () => {
    const issuer = await TestIssuer.start();
    const app = await compileWith(false, issuer);
    try {
      expect((await request(app.getHttpServer()).get('/guarded')).status).toBe(200);
    } finally {
      await app.close();
      await issuer.stop();
    }
  });
});
