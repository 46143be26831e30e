import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import * as fc from 'fast-check';
import request from 'supertest';
import { tokenHash } from '../../lib/token/token-hash';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';
import { capturedLogs, rememberToken } from '../support/log-capture';

const opaque = () => rememberToken(randomBytes(30).toString('base64url').replace(/^eyJ/, 'abc'));

/**
 * What the provider says of a token is data like any other: an introspection or userinfo answer
 * with members of the wrong type is the provider's fault (503, logged once with the token's hash),
 * never a 500 and never a grant.
 */
describe.each(PLATFORMS)('answers of the identity provider, checked by type (%s)', (platform) => {
  let ks: KeyServer;
  let introspecting: INestApplication;
  let userinfo: INestApplication;
  let logsBefore: number;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    logsBefore = capturedLogs().length;
    ks = await KeyServer.start();
    const base = { issuerUrl: ks.issuer, audience: ks.audience };
    introspecting = await createFixtureApp(
      {
        ...base,
        opaqueTokens: 'introspection',
        introspection: ks.introspectionClient,
        // The property below sends hundreds of distinct tokens: no budget may refuse them.
        upstream: { opaqueTokens: { maxConcurrent: 100, maxPerSecond: 100_000 } },
      },
      { platform },
    );
    userinfo = await createFixtureApp({ ...base, opaqueTokens: 'userinfo' }, { platform });
  });

  afterAll(async () => {
    await introspecting.close();
    await userinfo.close();
    await ks.stop();
  });

  it('warns once at startup, and only in userinfo mode, that /userinfo tells nothing of the audience', () => {
    const warnings = capturedLogs()
      .slice(logsBefore)
      .filter(
        (line) =>
          line.startsWith('warn') && line.includes('/userinfo says nothing of the audience'),
      );
    // Two apps started: one with opaqueTokens 'userinfo', one with 'introspection'.
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`audience=${ks.audience}`);
  });

  const get = (app: INestApplication, path: string, token: string) =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

  function introspected(answer: Record<string, unknown>): string {
    const token = opaque();
    ks.introspections.set(token, answer);
    return token;
  }

  const active = () => ({ active: true, sub: 'auth0|user-1', aud: ks.audience, exp: now() + 600 });

  it.each([
    ['scp', 42],
    ['scp', {}],
    ['permissions', 'admin'],
    ['permissions', [1, {}]],
    ['scope', ['admin']],
    ['sub', 42],
    ['exp', 'tomorrow'],
  ])('answers an introspection %s of %p with 503, and grants nothing', async (claim, value) => {
    const token = introspected({ ...active(), [claim]: value });
    for (const path of ['/private', '/admin/read', '/scoped']) {
      const res = await get(introspecting, path, token);
      expect([res.status, res.body.error]).toEqual([503, 'issuer_unavailable']);
      expect(res.body.message).toContain(`its ${claim} must be`);
      expect(res.headers['retry-after']).toBe('30');
    }
    const logged = capturedLogs().filter((line) => line.includes(tokenHash(token)));
    expect(
      logged.filter((line) => line.startsWith('warn') && line.includes('malformed')),
    ).toHaveLength(3);
  });

  /** `json` with an overlong "/" (C0 AF, not UTF-8) in a string member `name`. */
  const notUtf8 = (json: Record<string, unknown>) => {
    const text = JSON.stringify(json);
    return Buffer.concat([
      Buffer.from(`${text.slice(0, -1)},"name":"a`),
      Buffer.from([0xc0, 0xaf]),
      Buffer.from('b"}'),
    ]);
  };

  it.each(['introspection', 'userinfo'])(
    'answers a %s answer that is not UTF-8 with 503, logged once as malformed',
    async (endpoint) => {
      const token = opaque();
      ks.rawAnswers.set(
        token,
        notUtf8(endpoint === 'userinfo' ? { sub: 'auth0|user-1' } : active()),
      );
      const res = await get(endpoint === 'userinfo' ? userinfo : introspecting, '/private', token);
      expect([res.status, res.body.error, res.body.reason]).toEqual([
        503,
        'issuer_unavailable',
        'issuer_unavailable',
      ]);
      expect(res.body.message).toMatch(
        new RegExp(`${endpoint} answer is malformed: it is not valid UTF-8`),
      );
      const logged = capturedLogs().filter((line) => line.includes(tokenHash(token)));
      expect(
        logged.filter((line) => line.startsWith('warn') && line.includes('malformed')),
      ).toHaveLength(1);
    },
  );

  it('grants scopes from well-typed scp and permissions, as on the JWT path', async () => {
    const token = introspected({ ...active(), scp: ['read:messages'], permissions: ['admin'] });
    expect((await get(introspecting, '/scoped', token)).status).toBe(200);
    expect((await get(introspecting, '/admin/read', token)).status).toBe(200);
  });

  it.each([
    ['scope', 42],
    ['permissions', 'admin'],
    ['exp', 'never'],
  ])('answers a userinfo profile with %s of %p with 503', async (claim, value) => {
    const token = opaque();
    ks.profiles.set(token, { sub: 'auth0|user-1', [claim]: value });
    const res = await get(userinfo, '/private', token);
    expect([res.status, res.body.error]).toEqual([503, 'issuer_unavailable']);
    const jwt = ks.token({ jti: randomBytes(8).toString('hex') });
    ks.profiles.set(jwt, { sub: 'auth0|user-1', [claim]: value });
    const enriched = await get(userinfo, '/profile', jwt);
    expect([enriched.status, enriched.body.error]).toEqual([503, 'issuer_unavailable']);
    expect(
      capturedLogs().filter((line) => line.includes(tokenHash(jwt)) && line.includes('malformed')),
    ).toHaveLength(1);
  });

  it('answers any introspection answer with 200, 401, 403 or 503, and 200 only when it grants', async () => {
    const audience = ks.audience;
    const anyValue = fc.oneof(
      fc.jsonValue({ maxDepth: 2 }),
      fc.constantFrom(
        'read:messages',
        'admin',
        ['read:messages'],
        ['admin', 1],
        'read:messages admin',
      ),
      fc.constantFrom(audience, [audience], [audience, 7], ks.issuer, 'dpop', { jkt: 'x' }),
      fc.integer({ min: now() - 100, max: now() + 100 }),
    );
    /** Mostly a well-formed value, sometimes anything: every outcome stays reachable. */
    const mostly = <T>(valid: fc.Arbitrary<T>) =>
      fc.oneof({ weight: 5, arbitrary: valid }, { weight: 1, arbitrary: anyValue });
    const scopes = fc.constantFrom('read:messages', 'admin', 'read:messages admin', 'other');
    const answer = fc.record(
      {
        active: mostly(fc.constant(true)),
        aud: mostly(fc.constant(audience)),
        sub: mostly(fc.constant('auth0|user-1')),
        scope: mostly(scopes),
        scp: mostly(scopes.map((scope) => [scope])),
        permissions: mostly(scopes.map((scope) => [scope])),
        exp: mostly(fc.constant(now() + 600)),
        nbf: mostly(fc.constant(now() - 60)),
        iss: mostly(fc.constant(ks.issuer)),
        token_type: mostly(fc.constant('Bearer')),
        extra: anyValue,
      },
      { requiredKeys: ['active', 'aud'] },
    );
    const statuses = new Map<number, number>();
    await fc.assert(
      fc.asyncProperty(
        answer,
        fc.constantFrom('/private', '/scoped', '/admin/read'),
        async (body, path) => {
          const res = await get(introspecting, path, introspected(body));
          statuses.set(res.status, (statuses.get(res.status) ?? 0) + 1);
          if (![200, 401, 403, 503].includes(res.status)) return false;
          if (res.status !== 200 || path === '/private') return true;
          // A 200 on a scoped route: the answer grants the scope by the JWT path's rules.
          const needed = path === '/scoped' ? 'read:messages' : 'admin';
          const scope = typeof body.scope === 'string' ? body.scope.split(' ') : [];
          const scp = typeof body.scp === 'string' ? body.scp.split(' ') : body.scp;
          const permissions = body.permissions;
          return [scope, scp, permissions].some(
            (list) => Array.isArray(list) && list.includes(needed),
          );
        },
      ),
      { numRuns: 300 },
    );
    // The generator reaches every answer, not only one kind.
    expect([...statuses.keys()].sort()).toEqual([200, 401, 403, 503]);
  });
});
