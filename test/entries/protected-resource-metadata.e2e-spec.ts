import { Module, type INestApplication, type LoggerService } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import { AuthModule, PROTECTED_RESOURCE_METADATA_ROUTES, type AuthModuleOptions } from '../../lib';
import { DEFAULT_DPOP_ALGORITHMS } from '../../lib/binding/dpop-options';
import { createFixtureApp, PLATFORMS, type Platform } from '../support/create-fixture-app';
import { FixtureController } from '../support/fixture.controllers';
import { KeyServer } from '../support/key-server';
import { capturingLogger } from '../support/log-capture';

const WELL_KNOWN = '/.well-known/oauth-protected-resource';

/** The challenges of a `WWW-Authenticate` value, one per scheme. */
const schemes = (header: string) => header.split(/, (?=(?:Bearer|DPoP) )/);

/** The fixture app under a global prefix (`exclude` as the README tells), Nest's own way. */
async function prefixedApp(
  options: AuthModuleOptions,
  platform: Platform,
  exclude: string[],
): Promise<INestApplication> {
  return loggedApp(options, platform, capturingLogger, { exclude });
}

/** The fixture app with `logger`, initialised (`listen: true`: listening on 127.0.0.1, port 0). */
async function loggedApp(
  options: AuthModuleOptions,
  platform: Platform,
  logger: LoggerService,
  { exclude, listen = false }: { exclude?: string[]; listen?: boolean } = {},
): Promise<INestApplication> {
  @Module({ imports: [AuthModule.forRoot(options)], controllers: [FixtureController] })
  class FixtureAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [FixtureAppModule] }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger })
      : moduleRef.createNestApplication({ logger });
  if (exclude) app.setGlobalPrefix('api', { exclude });
  if (listen) {
    await app.listen(0, '127.0.0.1');
    return app;
  }
  await app.init();
  if (platform === 'fastify') {
    await (app.getHttpAdapter().getInstance() as { ready(): PromiseLike<unknown> }).ready();
  }
  return app;
}

/** RFC 9728 protected resource metadata, and the resource_metadata of every challenge. */
describe.each(PLATFORMS)('protected resource metadata (RFC 9728) (%s)', (platform) => {
  let ks: KeyServer;

  beforeAll(async () => {
    ks = await KeyServer.start();
  });

  afterAll(async () => {
    await ks.stop();
  });

  describe('with the default resource (the first audience, an https URL)', () => {
    let app: INestApplication;
    const metadataUrl = `https://api.test.local${WELL_KNOWN}`;
    const challenge = `resource_metadata="${metadataUrl}"`;

    beforeAll(async () => {
      app = await createFixtureApp({ issuerUrl: ks.issuer, audience: ks.audience }, { platform });
    });

    afterAll(async () => {
      await app.close();
    });

    const get = (path: string, token?: string) => {
      const call = request(app.getHttpServer()).get(path);
      return token === undefined ? call : call.set('Authorization', `Bearer ${token}`);
    };

    it('serves the document without a token, readable from any origin', async () => {
      const res = await get(WELL_KNOWN).set('Origin', 'https://inspector.example');
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.body).toEqual({
        resource: 'https://api.test.local',
        authorization_servers: [ks.issuer],
        // Every @Scopes() and @Scopes.any() of the app's controllers, class-level ones too.
        scopes_supported: ['admin', 'read:messages', 'write:messages'],
        bearer_methods_supported: ['header'],
        // DPoP allowed (the default): its proof algorithms; bound tokens not required.
        dpop_signing_alg_values_supported: [...DEFAULT_DPOP_ALGORITHMS],
        // mTLS allowed (the default): certificate-bound tokens are checked, not refused.
        tls_client_certificate_bound_access_tokens: true,
      });
    });

    it('serves it even with a broken token (the route is public)', async () => {
      expect((await get(WELL_KNOWN, 'not.a.token')).status).toBe(200);
    });

    it('answers a CORS preflight for it', async () => {
      const res = await request(app.getHttpServer())
        .options(WELL_KNOWN)
        .set('Origin', 'https://inspector.example')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'mcp-protocol-version');
      expect(res.status).toBe(204);
      expect(res.headers['access-control-allow-origin']).toBe('*');
      expect(res.headers['access-control-allow-headers']).toMatch(/mcp-protocol-version/i);
    });

    it('sends the CORS header on the document only', async () => {
      const res = await get('/public').set('Origin', 'https://inspector.example');
      expect(res.headers['access-control-allow-origin']).toBeUndefined();
    });

    it.each([
      ['no token', '/private', undefined, 401, new RegExp(`^Bearer realm="api", ${challenge}$`)],
      [
        'an expired token',
        '/private',
        'expired',
        401,
        new RegExp(
          `^Bearer realm="api", error="invalid_token", error_description="[^"]+", ${challenge}$`,
        ),
      ],
      [
        'a forged token',
        '/private',
        'forged',
        401,
        new RegExp(
          `^Bearer realm="api", error="invalid_token", error_description="[^"]+", ${challenge}$`,
        ),
      ],
      [
        'a missing scope',
        '/admin/write',
        'valid',
        403,
        new RegExp(
          `^Bearer realm="api", error="insufficient_scope", scope="write:messages admin", error_description="[^"]+", ${challenge}$`,
        ),
      ],
    ])('names the document in the challenge of %s', async (_, path, kind, status, expected) => {
      const now = Math.floor(Date.now() / 1000);
      const token =
        kind === 'expired'
          ? ks.token({ exp: now - 60, iat: now - 600 })
          : kind === 'forged'
            ? `${ks.token().slice(0, -4)}AAAA`
            : kind === 'valid'
              ? ks.token()
              : undefined;
      const res = await get(path, token);
      expect(res.status).toBe(status);
      // The Bearer challenge, and any other scheme's (DPoP) beside it, each name the document.
      const [bearer, ...others] = schemes(res.headers['www-authenticate']);
      expect(bearer).toMatch(expected);
      for (const other of others) expect(other).toContain(challenge);
    });

    it('answers 404 at a path-suffixed URL of another resource', async () => {
      expect((await get(`${WELL_KNOWN}/other`)).status).toBe(404);
    });
  });

  describe('with a resource with a path (an MCP server URL) and query tokens', () => {
    let app: INestApplication;
    const resource = 'http://localhost:3000/tenant-a/mcp';

    beforeAll(async () => {
      app = await createFixtureApp(
        {
          issuerUrl: ks.issuer,
          audience: [resource],
          allowQueryToken: true,
          protectedResource: {
            resource,
            resourceName: 'Fixture MCP server',
            resourceDocumentation: 'https://docs.example.com/mcp',
          },
        },
        { platform },
      );
    });

    afterAll(async () => {
      await app.close();
    });

    const document = {
      resource,
      scopes_supported: ['admin', 'read:messages', 'write:messages'],
      bearer_methods_supported: ['header', 'query'],
      dpop_signing_alg_values_supported: [...DEFAULT_DPOP_ALGORITHMS],
      tls_client_certificate_bound_access_tokens: true,
      resource_name: 'Fixture MCP server',
      resource_documentation: 'https://docs.example.com/mcp',
    };

    it.each([`${WELL_KNOWN}/tenant-a/mcp`, WELL_KNOWN])(
      'serves the document at %s',
      async (path) => {
        const res = await request(app.getHttpServer()).get(path);
        expect(res.status).toBe(200);
        expect(res.body).toEqual({ ...document, authorization_servers: [ks.issuer] });
      },
    );

    it('points challenges to the path-suffixed URL', async () => {
      const res = await request(app.getHttpServer()).get('/private');
      expect(schemes(res.headers['www-authenticate'])[0]).toBe(
        `Bearer realm="api", resource_metadata="http://localhost:3000${WELL_KNOWN}/tenant-a/mcp"`,
      );
    });
  });

  // Functions of the issuer: the key server starts after the tables are read.
  describe.each<
    [string, (issuer: string) => Partial<AuthModuleOptions>, (issuer: string) => object]
  >([
    [
      'several issuers, DPoP required and mTLS disabled',
      (issuer) => ({
        issuerUrl: [issuer, 'https://second-tenant.example/'],
        dpop: { mode: 'required', algorithms: ['ES256', 'EdDSA'] },
        mtls: { mode: 'disabled' },
      }),
      (issuer) => ({
        authorization_servers: [issuer, 'https://second-tenant.example/'],
        dpop_signing_alg_values_supported: ['ES256', 'EdDSA'],
        dpop_bound_access_tokens_required: true,
      }),
    ],
    [
      'DPoP disabled',
      () => ({ dpop: { mode: 'disabled' } }),
      (issuer) => ({
        authorization_servers: [issuer],
        tls_client_certificate_bound_access_tokens: true,
      }),
    ],
  ])('with %s', (_, overrides, expected) => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await createFixtureApp(
        { issuerUrl: ks.issuer, audience: ks.audience, ...overrides(ks.issuer) },
        { platform },
      );
    });

    afterAll(async () => {
      await app.close();
    });

    it('says so in the document (every issuer, DPoP and mTLS fields)', async () => {
      const res = await request(app.getHttpServer()).get(WELL_KNOWN);
      expect(res.status).toBe(200);
      expect(res.body).toEqual({
        resource: 'https://api.test.local',
        scopes_supported: ['admin', 'read:messages', 'write:messages'],
        bearer_methods_supported: ['header'],
        ...expected(ks.issuer),
      });
    });
  });

  describe.each([
    ['an audience that is not a URL', 'my-api', {}],
    ['protectedResource: false', 'https://api.test.local', { protectedResource: false as const }],
  ])('with %s', (_, audience, overrides) => {
    let app: INestApplication;

    beforeAll(async () => {
      app = await createFixtureApp({ issuerUrl: ks.issuer, audience, ...overrides }, { platform });
    });

    afterAll(async () => {
      await app.close();
    });

    it('serves no document and names none in challenges', async () => {
      expect((await request(app.getHttpServer()).get(WELL_KNOWN)).status).toBe(404);
      const res = await request(app.getHttpServer()).get('/private');
      expect(schemes(res.headers['www-authenticate'])[0]).toBe('Bearer realm="api"');
      expect(res.headers['www-authenticate']).not.toMatch(/resource_metadata/);
      const scoped = await request(app.getHttpServer())
        .get('/scoped')
        .set('Authorization', `Bearer ${ks.token({ scope: 'other', aud: audience })}`);
      expect(scoped.status).toBe(403);
      expect(scoped.headers['www-authenticate']).not.toMatch(/resource_metadata/);
    });
  });

  describe('its routes', () => {
    /** What the app logs with `context`, one string a line (`log` level). */
    function recorder(context: string) {
      const lines: string[] = [];
      const logger: LoggerService = {
        ...capturingLogger,
        log: (message: unknown, ...params: unknown[]) => {
          capturingLogger.log(message, ...params);
          if (params.at(-1) === context) lines.push(String(message));
        },
      };
      return { lines, logger };
    }

    it('are logged as at most two lines: one route for GET, one for OPTIONS', async () => {
      const { lines, logger } = recorder('RouterExplorer');
      const app = await loggedApp(
        { issuerUrl: ks.issuer, audience: ks.audience },
        platform,
        logger,
      );
      await app.close();
      const mapped = lines.filter((line) => line.includes('oauth-protected-resource'));
      expect(mapped.length).toBeGreaterThan(0);
      expect(mapped.length).toBeLessThanOrEqual(2);
    });

    it('serve the document of a resource whose path has 7 segments, and its preflight', async () => {
      const resource = 'https://api.test.local/a/b/c/d/e/f/mcp';
      const app = await createFixtureApp(
        { issuerUrl: ks.issuer, audience: [resource], protectedResource: { resource } },
        { platform },
      );
      try {
        const res = await request(app.getHttpServer()).get(`${WELL_KNOWN}/a/b/c/d/e/f/mcp`);
        expect(res.status).toBe(200);
        expect(res.body.resource).toBe(resource);
        expect(res.headers['access-control-allow-origin']).toBe('*');
        const preflight = await request(app.getHttpServer()).options(
          `${WELL_KNOWN}/a/b/c/d/e/f/mcp`,
        );
        expect(preflight.status).toBe(204);
        const other = await request(app.getHttpServer()).get(`${WELL_KNOWN}/a/b/c/d/e/f/g/h`);
        expect(other.status).toBe(404);
        expect(other.body.message).toContain(`${WELL_KNOWN}/a/b/c/d/e/f/mcp`);
        // Not a path below the well-known one: no preflight either.
        const sibling = await request(app.getHttpServer()).options(`${WELL_KNOWN}-other`);
        expect(sibling.status).toBe(404);
      } finally {
        await app.close();
      }
    });

    it('name the URL clients fetch at startup, and the address the app listens on when it differs', async () => {
      const { lines, logger } = recorder('ProtectedResourceMetadata');
      const resource = 'http://localhost:3000/mcp';
      const options = {
        issuerUrl: ks.issuer,
        audience: [resource],
        protectedResource: { resource },
      };
      const url = `http://localhost:3000${WELL_KNOWN}/mcp`;
      // Initialised only: the URL, and no address to compare it with.
      const initialised = await loggedApp(options, platform, logger);
      await initialised.close();
      expect(lines).toEqual([`Protected resource metadata (RFC 9728) at ${url}`]);
      lines.length = 0;
      // Listening elsewhere (127.0.0.1, a random port): a line names both, on one line.
      const listening = await loggedApp(options, platform, logger, { listen: true });
      const { port } = listening.getHttpServer().address() as { port: number };
      await listening.close();
      expect(lines).toHaveLength(2);
      expect(lines[0]).toBe(`Protected resource metadata (RFC 9728) at ${url}`);
      expect(lines[1]).toContain(`Protected resource metadata (RFC 9728) at ${url} (`);
      expect(lines[1]).toContain(`this app listens on 127.0.0.1:${port}`);
      expect(lines[1]).not.toContain('\n');
    });
  });

  describe('under a global prefix', () => {
    it('stays at the root when the routes are excluded from the prefix', async () => {
      const app = await prefixedApp({ issuerUrl: ks.issuer, audience: ks.audience }, platform, [
        ...PROTECTED_RESOURCE_METADATA_ROUTES,
      ]);
      try {
        const res = await request(app.getHttpServer()).get(WELL_KNOWN);
        expect(res.status).toBe(200);
        expect(res.body.scopes_supported).toEqual(['admin', 'read:messages']);
        const refused = await request(app.getHttpServer()).get('/api/private');
        expect(refused.status).toBe(401);
        expect(refused.headers['www-authenticate']).toMatch(/resource_metadata=/);
      } finally {
        await app.close();
      }
    });

    it('says what to do when they are not excluded', async () => {
      const app = await prefixedApp({ issuerUrl: ks.issuer, audience: ks.audience }, platform, []);
      try {
        expect((await request(app.getHttpServer()).get(WELL_KNOWN)).status).toBe(404);
        const res = await request(app.getHttpServer()).get(`/api${WELL_KNOWN}`);
        expect(res.status).toBe(404);
        expect(res.body.message).toMatch(/PROTECTED_RESOURCE_METADATA_ROUTES/);
      } finally {
        await app.close();
      }
    });
  });
});
