import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { GraphQLModule, Query, Resolver } from '@nestjs/graphql';
import { Test } from '@nestjs/testing';
import request from 'supertest';
import {
  AuthModule,
  ClaimRules,
  CurrentUser,
  claimCheck,
  claimEquals,
  claimIncludes,
  type AuthModuleOptions,
  type AuthUser,
} from '../../lib';
import { createPlatformApp, PLATFORMS, type Platform } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';
import { capturedLogs } from '../support/log-capture';

const ROLES = 'https://example.com/roles';

@ClaimRules(claimCheck((claims) => claims.suspended !== true, 'an account that is not suspended'))
@Controller('tenant')
class TenantController {
  @ClaimRules(claimEquals('org_id', 'acme'))
  @Get('acme')
  acme(@CurrentUser() user: AuthUser) {
    return { sub: user.sub };
  }

  @ClaimRules(claimIncludes(ROLES, 'admin', 'billing').withStatus(401))
  @Get('billing')
  billing() {
    return { ok: true };
  }

  @ClaimRules(
    claimCheck(() => {
      throw new Error('a bug in the app');
    }, 'a broken predicate'),
  )
  @Get('broken')
  broken() {
    return { ok: true };
  }

  @Get('any')
  any() {
    return { ok: true };
  }
}

@Resolver()
class TenantResolver {
  @ClaimRules(claimEquals('org_id', 'acme'))
  @Query(() => String, { nullable: true })
  acmeNote(): string {
    return 'for acme';
  }
}

async function claimRulesApp(
  options: AuthModuleOptions,
  platform: Platform,
  graphql = false,
): Promise<INestApplication> {
  @Module({
    imports: [
      AuthModule.forRoot(options),
      ...(graphql
        ? [
            GraphQLModule.forRoot<ApolloDriverConfig>({
              driver: ApolloDriver,
              autoSchemaFile: true,
              fieldResolverEnhancers: ['guards'],
            }),
          ]
        : []),
    ],
    controllers: [TenantController],
    providers: graphql ? [TenantResolver] : [],
  })
  class ClaimRulesModule {}
  const moduleRef = await Test.createTestingModule({ imports: [ClaimRulesModule] }).compile();
  return createPlatformApp(moduleRef, platform);
}

/** Claim rules: the module's (401 by default) and the routes' (403 by default), on every request. */
describe.each(PLATFORMS)('claim rules (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await claimRulesApp(
      {
        issuerUrl: ks.issuer,
        audience: ks.audience,
        claimRules: [
          claimCheck((claims) => claims.blocked !== true, 'a caller that is not blocked'),
        ],
      },
      platform,
      platform === 'express',
    );
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  const get = (path: string, claims: Record<string, unknown>) =>
    request(app.getHttpServer())
      .get(path)
      .set('Authorization', `Bearer ${ks.token(claims)}`);

  it('serves a token that passes every rule', async () => {
    const res = await get('/tenant/acme', { org_id: 'acme' });
    expect([res.status, res.body]).toEqual([200, { sub: 'auth0|user-1' }]);
  });

  it('refuses a failed route rule with 403 insufficient_scope, naming the claim, without scope', async () => {
    const res = await get('/tenant/acme', { org_id: 'globex' });
    expect(res.status).toBe(403);
    expect(res.body).toEqual({
      statusCode: 403,
      error: 'insufficient_scope',
      reason: 'claim_rule_failed',
      message: `The token's org_id claim is "globex"; this route requires org_id "acme".`,
    });
    expect(res.headers['www-authenticate']).toBe(
      `Bearer realm="api", error="insufficient_scope", error_description="The token's org_id claim is 'globex'; this route requires org_id 'acme'.", ${ks.resourceMetadata}`,
    );
  });

  it('adds class-level rules to the handler ones', async () => {
    const res = await get('/tenant/acme', { org_id: 'acme', suspended: true });
    expect([res.status, res.body.message]).toEqual([
      403,
      'The token does not meet a claim rule of this route: an account that is not suspended.',
    ]);
    expect((await get('/tenant/any', { suspended: true })).status).toBe(403);
  });

  it('answers 401 invalid_token for a rule declared withStatus(401)', async () => {
    const res = await get('/tenant/billing', { [ROLES]: ['admin'] });
    expect([res.status, res.body.error, res.body.message]).toEqual([
      401,
      'invalid_token',
      "The token's https://example.com/roles claim lacks billing; this route requires https://example.com/roles to include admin and billing.",
    ]);
    expect((await get('/tenant/billing', { [ROLES]: 'billing admin' })).status).toBe(200);
  });

  it('refuses a token failing a module rule with 401 on every route, on every use', async () => {
    // The second use of the same token is served by the verified-token cache: the rule still runs.
    const token = ks.token({ blocked: true });
    for (let i = 0; i < 2; i++) {
      const res = await request(app.getHttpServer())
        .get('/tenant/any')
        .set('Authorization', `Bearer ${token}`);
      expect([res.status, res.body.reason, res.body.message]).toEqual([
        401,
        'claim_rule_failed',
        'The token does not meet a claim rule of this API: a caller that is not blocked.',
      ]);
    }
  });

  it('fails closed when a predicate throws, and logs the bug without the token', async () => {
    const token = ks.token();
    const res = await request(app.getHttpServer())
      .get('/tenant/broken')
      .set('Authorization', `Bearer ${token}`);
    expect([res.status, res.body.reason]).toEqual([403, 'claim_rule_failed']);
    expect(res.body.message).toMatch(/'a broken predicate' of this route could not be checked/);
    const logged = capturedLogs().filter((line) => line.includes('a broken predicate'));
    expect(logged.length).toBeGreaterThan(0);
    expect(logged.join('\n')).not.toContain(token);
  });

  if (platform === 'express') {
    it('checks the rules of GraphQL resolvers through the same guard', async () => {
      const query = (claims: Record<string, unknown>) =>
        request(app.getHttpServer())
          .post('/graphql')
          .set('Authorization', `Bearer ${ks.token(claims)}`)
          .send({ query: '{ acmeNote }' });
      expect((await query({ org_id: 'acme' })).body).toEqual({ data: { acmeNote: 'for acme' } });
      const refused = await query({ org_id: 'globex' });
      expect(refused.body.data).toEqual({ acmeNote: null });
      expect(refused.body.errors[0].extensions).toMatchObject({
        code: 'FORBIDDEN',
        status: 403,
        reason: 'claim_rule_failed',
      });
    });
  }
});

describe('claim rules on opaque tokens', () => {
  let ks: KeyServer;

  beforeAll(async () => {
    ks = await KeyServer.start();
  });

  afterAll(async () => {
    await ks.stop();
  });

  it('refuses a userinfo-checked opaque token (it has no token claims), saying why', async () => {
    const app = await claimRulesApp(
      { issuerUrl: ks.issuer, audience: ks.audience, opaqueTokens: 'userinfo' },
      'express',
    );
    try {
      const token = 'opaque-userinfo-token-0123456789';
      ks.profiles.set(token, { sub: 'auth0|user-1', org_id: 'acme' });
      const res = await request(app.getHttpServer())
        .get('/tenant/acme')
        .set('Authorization', `Bearer ${token}`);
      expect([res.status, res.body.reason]).toEqual([403, 'claim_rule_failed']);
      expect(res.body.message).toMatch(/token is opaque and checked through \/userinfo/);
    } finally {
      await app.close();
    }
  });

  it('checks an introspected opaque token on what introspection answered', async () => {
    const app = await claimRulesApp(
      {
        issuerUrl: ks.issuer,
        audience: ks.audience,
        opaqueTokens: 'introspection',
        introspection: ks.introspectionClient,
      },
      'express',
    );
    try {
      const now = Math.floor(Date.now() / 1000);
      const answer = (org: string) => ({
        active: true,
        sub: 'auth0|user-1',
        iss: ks.issuer,
        aud: ks.audience,
        exp: now + 600,
        org_id: org,
      });
      ks.introspections.set('opaque-acme-0123456789', answer('acme'));
      ks.introspections.set('opaque-globex-0123456789', answer('globex'));
      const call = (token: string) =>
        request(app.getHttpServer()).get('/tenant/acme').set('Authorization', `Bearer ${token}`);
      expect((await call('opaque-acme-0123456789')).status).toBe(200);
      const refused = await call('opaque-globex-0123456789');
      expect([refused.status, refused.body.message]).toEqual([
        403,
        `The token's org_id claim is "globex"; this route requires org_id "acme".`,
      ]);
    } finally {
      await app.close();
    }
  });
});
