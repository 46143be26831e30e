import { randomBytes } from 'node:crypto';
import {
  Controller,
  Get,
  Module,
  Post,
  Req,
  UseGuards,
  type INestApplication,
  type Type,
} from '@nestjs/common';
import { AuthGuard } from '@nestjs/passport';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AccessTokenVerifier,
  AuthModule,
  CurrentUser,
  ProtectedResource,
  Public,
  Scopes,
  type AuthModuleOptions,
  type AuthUser,
} from '../../lib';
import { createPlatformApp, PLATFORMS, type Platform } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';
/** The MCP endpoint's resource identifier: its own URL, known only at runtime (from config). */
const MCP = 'http://localhost:3000/mcp';
const MCP_METADATA = `http://localhost:3000${WELL_KNOWN}/mcp`;

@Controller('api')
class ApiController {
  @Scopes('read:messages')
  @Get('messages')
  messages(@CurrentUser() user: AuthUser) {
    return { sub: user.sub };
  }
}

@ProtectedResource('mcp')
@Controller('mcp')
class McpController {
  @Scopes('mcp:tools')
  @Post()
  handle(@CurrentUser() user: AuthUser) {
    return { sub: user.sub };
  }
}

/** One controller, two resources: the decorator on a handler. */
@Controller('mixed')
class MixedController {
  @Get('api')
  api() {
    return { ok: true };
  }

  @ProtectedResource('mcp')
  @Scopes('mcp:admin')
  @Get('mcp')
  mcp() {
    return { ok: true };
  }
}

/** Passport's path (`AuthGuard('oauth2-access-token')`) serves the API: it knows no decorator. */
@Public()
@UseGuards(AuthGuard('oauth2-access-token'))
@Controller('passport')
class PassportController {
  @Get()
  get(@Req() req: { user: AuthUser }) {
    return { sub: req.user.sub };
  }
}

const CONTROLLERS = [ApiController, McpController, MixedController, PassportController];
/** `VERIFIED_TOKEN_CACHE=off` (as `npm test` runs the suite a second time) turns the cache off. */
const cacheOff = process.env.VERIFIED_TOKEN_CACHE === 'off';

/** The app through forRootAsync: the MCP resource comes from runtime config, as AUTH_PUBLIC_URL. */
async function resourcesApp(
  options: AuthModuleOptions,
  platform: Platform,
  controllers: Type[] = CONTROLLERS,
): Promise<INestApplication> {
  const config = { AUTH_PUBLIC_URL: 'http://localhost:3000' };
  @Module({
    imports: [
      AuthModule.forRootAsync({
        useFactory: async () => ({
          resources: {
            mcp: { resource: `${config.AUTH_PUBLIC_URL}/mcp`, resourceName: 'Test MCP' },
          },
          ...options,
          ...(cacheOff ? { verifiedTokenCache: false } : {}),
        }),
      }),
    ],
    controllers,
  })
  class ResourcesModule {}
  const moduleRef = await Test.createTestingModule({ imports: [ResourcesModule] }).compile();
  return createPlatformApp(moduleRef, platform);
}

/** Each resource its own audience: the module's API, and an MCP endpoint at its own URL. */
describe.each(PLATFORMS)('resources, each its own audience (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await resourcesApp({ issuerUrl: ks.issuer, audience: ks.audience }, platform);
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  const apiToken = () => ks.token({ scope: 'read:messages mcp:tools mcp:admin' });
  const mcpToken = () => ks.token({ aud: MCP, scope: 'read:messages mcp:tools mcp:admin' });
  const atApi = (token?: string, on: INestApplication = app) => {
    const call = request(on.getHttpServer()).get('/api/messages');
    return token === undefined ? call : call.set('Authorization', `Bearer ${token}`);
  };
  const atMcp = (token?: string, on: INestApplication = app) => {
    const call = request(on.getHttpServer()).post('/mcp').send({ jsonrpc: '2.0', id: 1 });
    return token === undefined ? call : call.set('Authorization', `Bearer ${token}`);
  };

  it("accepts the API's token at the API's routes", async () => {
    const res = await atApi(apiToken());
    expect([res.status, res.body]).toEqual([200, { sub: 'auth0|user-1' }]);
  });

  it("refuses the API's token at /mcp with 401, naming its aud and the resource's", async () => {
    const res = await atMcp(apiToken());
    expect([res.status, res.body.error, res.body.reason]).toEqual([
      401,
      'invalid_token',
      'audience_mismatch',
    ]);
    // The wording is the point: the client learns what it sent and what to ask for.
    expect(res.body.message).toBe(
      `The access token is for ${ks.audience} (aud); this resource, ${MCP}, accepts only tokens ` +
        `for ${MCP}: request the access token with resource=${MCP}.`,
    );
    const challenge = res.headers['www-authenticate'];
    expect(challenge).toMatch(/^Bearer /);
    expect(challenge).toContain('error="invalid_token"');
    expect(challenge).toContain(`resource_metadata="${MCP_METADATA}"`);
  });

  it("accepts /mcp's token at /mcp", async () => {
    const res = await atMcp(mcpToken());
    expect([res.status, res.body]).toEqual([201, { sub: 'auth0|user-1' }]);
  });

  it("refuses /mcp's token at the API's routes with 401, naming both audiences", async () => {
    const res = await atApi(mcpToken());
    expect([res.status, res.body.error, res.body.reason]).toEqual([
      401,
      'invalid_token',
      'audience_mismatch',
    ]);
    expect(res.body.message).toBe(
      `The access token is for ${MCP} (aud); this API, ${ks.audience}, accepts only tokens for ` +
        `${ks.audience}: request the access token with audience=${ks.audience}.`,
    );
    expect(res.headers['www-authenticate']).toContain(
      `resource_metadata="${ks.audience}${WELL_KNOWN}"`,
    );
  });

  it("checks the API's audience on direct verifier calls, and a resource's when named", async () => {
    const verifier = app.get(AccessTokenVerifier);
    const reason = (call: Promise<unknown>) =>
      call.then(
        () => 'ok',
        (error: { reason?: string }) => error.reason,
      );
    const token = mcpToken();
    expect(await reason(verifier.verify(token))).toBe('audience_mismatch');
    expect(await reason(verifier.verify(token, undefined, 'mcp'))).toBe('ok');
    expect(await reason(verifier.verify(apiToken(), undefined, 'mcp'))).toBe('audience_mismatch');
  });

  it('puts a handler under a resource when the decorator is on the handler', async () => {
    const mixed = (path: string, token: string) =>
      request(app.getHttpServer()).get(`/mixed/${path}`).set('Authorization', `Bearer ${token}`);
    expect((await mixed('api', apiToken())).status).toBe(200);
    expect((await mixed('api', mcpToken())).body.reason).toBe('audience_mismatch');
    expect((await mixed('mcp', mcpToken())).status).toBe(200);
    expect((await mixed('mcp', apiToken())).body.reason).toBe('audience_mismatch');
  });

  it('accepts a token issued for both (aud lists both, RFC 8707 §2) at both', async () => {
    const both = ks.token({ aud: [ks.audience, MCP], scope: 'read:messages mcp:tools' });
    expect((await atApi(both)).status).toBe(200);
    expect((await atMcp(both)).status).toBe(201);
  });

  it("refuses a token for neither, each route naming its own resource's identifier", async () => {
    const other = ks.token({ aud: 'https://elsewhere.example', scope: 'mcp:tools' });
    const [api, mcp] = [await atApi(other), await atMcp(other)];
    for (const res of [api, mcp]) {
      expect([res.status, res.body.reason]).toEqual([401, 'audience_mismatch']);
    }
    expect(api.body.message).toContain(`audience=${ks.audience}`);
    expect(mcp.body.message).toContain(`=${MCP}`);
    expect(mcp.body.message).not.toContain(ks.audience);
  });

  it("tells a client that sends an opaque token to /mcp to ask for /mcp's token", async () => {
    const res = await atMcp(randomBytes(24).toString('base64url'));
    expect([res.status, res.body.reason]).toEqual([401, 'not_a_jwt']);
    expect(res.body.message).toContain(`=${MCP}`);
    expect(res.body.message).not.toContain(ks.audience);
  });

  it("names /mcp's metadata in its 401 without a token and its 403 for a missing scope", async () => {
    const missing = await atMcp();
    expect(missing.status).toBe(401);
    expect(missing.headers['www-authenticate']).toContain(`resource_metadata="${MCP_METADATA}"`);
    const narrow = await atMcp(ks.token({ aud: MCP, scope: 'read:messages' }));
    expect([narrow.status, narrow.body.error]).toEqual([403, 'insufficient_scope']);
    expect(narrow.headers['www-authenticate']).toContain('scope="mcp:tools"');
    expect(narrow.headers['www-authenticate']).toContain(`resource_metadata="${MCP_METADATA}"`);
    const api = await atApi();
    expect(api.headers['www-authenticate']).toContain(
      `resource_metadata="${ks.audience}${WELL_KNOWN}"`,
    );
  });

  it("serves the API's document at the root, with the API's scopes only", async () => {
    const res = await request(app.getHttpServer()).get(WELL_KNOWN);
    expect(res.status).toBe(200);
    expect(res.body).toMatchObject({
      resource: ks.audience,
      authorization_servers: [ks.issuer],
      scopes_supported: ['read:messages'],
    });
  });

  it("serves /mcp's document at the path-suffixed URL, with its own scopes", async () => {
    const res = await request(app.getHttpServer()).get(`${WELL_KNOWN}/mcp`);
    expect(res.status).toBe(200);
    expect(res.headers['access-control-allow-origin']).toBe('*');
    expect(res.body).toMatchObject({
      resource: MCP,
      resource_name: 'Test MCP',
      authorization_servers: [ks.issuer],
      scopes_supported: ['mcp:admin', 'mcp:tools'],
      bearer_methods_supported: ['header'],
    });
  });

  describe.each([
    ['on', true],
    ['off', false],
  ])('with the verified-token cache %s', (_state, verifiedTokenCache) => {
    let cached: INestApplication;

    beforeAll(async () => {
      const options = { issuerUrl: ks.issuer, audience: ks.audience, verifiedTokenCache };
      cached = await resourcesApp(options, platform);
    });

    afterAll(() => cached.close());

    it('refuses at the API a token that /mcp accepted just before', async () => {
      const token = mcpToken();
      // Twice: the cache admits a token on its second use; the third is answered from it.
      expect((await atMcp(token, cached)).status).toBe(201);
      expect((await atMcp(token, cached)).status).toBe(201);
      const res = await atApi(token, cached);
      expect([res.status, res.body.reason]).toEqual([401, 'audience_mismatch']);
      expect((await atMcp(token, cached)).status).toBe(201);
    });

    it("refuses on Passport's path (the API's) a token that /mcp accepted just before", async () => {
      const token = mcpToken();
      expect((await atMcp(token, cached)).status).toBe(201);
      expect((await atMcp(token, cached)).status).toBe(201);
      const passport = () =>
        request(cached.getHttpServer()).get('/passport').set('Authorization', `Bearer ${token}`);
      for (const res of [await passport(), await passport()]) {
        expect([res.status, res.body.reason]).toEqual([401, 'audience_mismatch']);
      }
      const api = await request(cached.getHttpServer())
        .get('/passport')
        .set('Authorization', `Bearer ${apiToken()}`);
      expect(api.status).toBe(200);
    });

    it('refuses at /mcp a token that the API accepted just before', async () => {
      const token = apiToken();
      expect((await atApi(token, cached)).status).toBe(200);
      expect((await atApi(token, cached)).status).toBe(200);
      const res = await atMcp(token, cached);
      expect([res.status, res.body.reason]).toEqual([401, 'audience_mismatch']);
    });
  });

  describe('opaque tokens', () => {
    it('refuses at /mcp an opaque token userinfo vouches for (it names no audience)', async () => {
      const opaque = await resourcesApp(
        { issuerUrl: ks.issuer, audience: ks.audience, opaqueTokens: 'userinfo' },
        platform,
      );
      try {
        const token = randomBytes(24).toString('base64url');
        ks.profiles.set(token, { sub: 'auth0|user-1' });
        const api = await request(opaque.getHttpServer())
          .get('/mixed/api')
          .set('Authorization', `Bearer ${token}`);
        expect(api.status).toBe(200);
        const res = await atMcp(token, opaque);
        expect([res.status, res.body.error, res.body.reason]).toEqual([
          401,
          'invalid_token',
          'audience_mismatch',
        ]);
        expect(res.body.message).toContain('userinfo');
        expect(res.body.message).toContain(`resource=${MCP}`);
      } finally {
        await opaque.close();
      }
    });

    it("checks the aud of an introspection answer against the route's resource", async () => {
      const opaque = await resourcesApp(
        {
          issuerUrl: ks.issuer,
          audience: ks.audience,
          opaqueTokens: 'introspection',
          introspection: { ...ks.introspectionClient, endpoint: ks.introspectionUrl },
        },
        platform,
      );
      try {
        const forMcp = ks.activeOpaqueToken({ sub: 'u', aud: MCP, scope: 'mcp:tools' });
        const forApi = ks.activeOpaqueToken({ sub: 'u', scope: 'read:messages mcp:tools' });
        expect((await atMcp(forMcp, opaque)).status).toBe(201);
        expect((await atApi(forMcp, opaque)).body.reason).toBe('audience_mismatch');
        expect((await atApi(forApi, opaque)).status).toBe(200);
        const res = await atMcp(forApi, opaque);
        expect([res.status, res.body.reason]).toEqual([401, 'audience_mismatch']);
        expect(res.body.message).toContain(`is for ${ks.audience} (aud)`);
      } finally {
        await opaque.close();
      }
    });
  });

  describe('with several issuers, one with its own audience', () => {
    const EU = 'https://api-eu.test.local';
    let eu: KeyServer;
    let several: INestApplication;

    beforeAll(async () => {
      eu = await KeyServer.start();
      const issuerUrl = [ks.issuer, { url: eu.issuer, audience: EU }];
      several = await resourcesApp({ issuerUrl, audience: ks.audience }, platform);
    });

    afterAll(async () => {
      await several.close();
      await eu.stop();
    });

    it("holds the API's routes to each issuer's own audience, and /mcp to its own", async () => {
      const forEu = eu.token({ aud: EU, scope: 'read:messages mcp:tools' });
      expect((await atApi(forEu, several)).status).toBe(200);
      const refused = await atMcp(forEu, several);
      expect([refused.status, refused.body.reason]).toEqual([401, 'audience_mismatch']);
      const forMcp = eu.token({ aud: MCP, scope: 'read:messages mcp:tools' });
      expect((await atMcp(forMcp, several)).status).toBe(201);
      const api = await atApi(forMcp, several);
      expect([api.status, api.body.reason]).toEqual([401, 'audience_mismatch']);
      expect(api.body.message).toContain(`this API, ${EU}, accepts only tokens for ${EU}`);
      const forOthers = eu.token({ aud: ks.audience, scope: 'read:messages' });
      expect((await atApi(forOthers, several)).body.reason).toBe('audience_mismatch');
    });
  });

  describe('at startup', () => {
    it('stops the app when a decorator names no declared resource', async () => {
      @ProtectedResource('mpc')
      @Controller('typo')
      class TypoController {
        @Get()
        get() {
          return {};
        }
      }
      await expect(
        resourcesApp({ issuerUrl: ks.issuer, audience: ks.audience }, platform, [TypoController]),
      ).rejects.toThrow(
        /@ProtectedResource\('mpc'\) on TypoController names no resource of AuthModule's resources \(mcp\)/,
      );
    });

    it('stops the app when the resource is not a usable identifier', async () => {
      await expect(
        resourcesApp(
          {
            issuerUrl: ks.issuer,
            audience: ks.audience,
            resources: { mcp: { resource: 'http://mcp.example.com/mcp' } },
          },
          platform,
        ),
      ).rejects.toThrow(/AuthModule option 'resources\.mcp\.resource': .*https/);
    });
  });
});
