import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createFixtureApp, PLATFORMS, type Platform } from '../support/create-fixture-app';
import { freePort } from '../support/free-port';
import { KeyServer } from '../support/key-server';

/**
 * The sample's CORS settings (sample/main.ts): browsers may send Authorization and read the
 * challenge. Lists as strings (Express's cors joins an array with "," and @fastify/cors with ", "),
 * and the methods named (their defaults differ).
 */
const CORS = {
  origin: '*',
  methods: 'GET, HEAD, POST',
  allowedHeaders: 'Authorization, Content-Type',
  exposedHeaders: 'WWW-Authenticate, Retry-After',
};

/** The headers an answer is compared on: the library's, CORS's and the body's type. */
const COMPARED = [
  'www-authenticate',
  'retry-after',
  'content-type',
  'access-control-allow-origin',
  'access-control-allow-headers',
  'access-control-allow-methods',
  'access-control-expose-headers',
];

interface Answer {
  status: number;
  headers: Record<string, string | undefined>;
  body: unknown;
}

type Call = (app: INestApplication) => request.Test;

async function answer(app: INestApplication, call: Call): Promise<Answer> {
  const res = await call(app).set('Origin', 'https://spa.example');
  const headers = Object.fromEntries(
    COMPARED.map((name) => [name, res.headers[name] as string | undefined]),
  );
  // Fastify's JSON has no spaces either; only `charset` is spelled alike, so compare the body parsed.
  return { status: res.status, headers, body: res.body as unknown };
}

/**
 * One request, sent to the same app on Express and on Fastify: the two answers are equal, header
 * for header (challenge, Retry-After, CORS) and body for body. Each case also pins the answer itself.
 */
describe('the same answers on Express and on Fastify', () => {
  let ks: KeyServer;
  const apps = {} as Record<Platform, INestApplication>;
  const down = {} as Record<Platform, INestApplication>;

  beforeAll(async () => {
    ks = await KeyServer.start();
    const deadIssuer = `http://127.0.0.1:${await freePort()}`;
    for (const platform of PLATFORMS) {
      apps[platform] = await createFixtureApp(
        { issuerUrl: ks.issuer, audience: ks.audience },
        { platform, cors: CORS },
      );
      down[platform] = await createFixtureApp(
        { issuerUrl: deadIssuer, audience: ks.audience, httpTimeoutMs: 300 },
        { platform, cors: CORS },
      );
    }
  });

  afterAll(async () => {
    for (const platform of PLATFORMS) {
      await apps[platform].close();
      await down[platform].close();
    }
    await ks.stop();
  });

  async function both(call: Call, on = apps): Promise<Answer> {
    const [express, fastify] = [await answer(on.express, call), await answer(on.fastify, call)];
    expect(fastify).toEqual(express);
    return express;
  }

  const get = (path: string, authorization?: string) => (app: INestApplication) => {
    const req = request(app.getHttpServer()).get(path);
    return authorization === undefined ? req : req.set('Authorization', authorization);
  };

  it('answers a valid token with the handler, CORS headers exposed', async () => {
    const ok = await both(get('/private', `Bearer ${ks.token()}`));
    expect([ok.status, ok.body]).toEqual([200, { sub: 'auth0|user-1' }]);
    expect(ok.headers['access-control-allow-origin']).toBe('*');
    expect(ok.headers['access-control-expose-headers']).toBe('WWW-Authenticate, Retry-After');
  });

  it.each([
    ['no token', undefined, 401, 'missing_token'],
    ['a forged token', 'Bearer a.b.c', 401, 'invalid_token'],
    ['an empty Bearer', 'Bearer ', 400, 'invalid_request'],
    ['a token without the scope', 'scoped', 403, 'insufficient_scope'],
  ])('refuses %s with the same challenge and body', async (_, authorization, status, error) => {
    const path = authorization === 'scoped' ? '/scoped' : '/private';
    const header =
      authorization === 'scoped' ? `Bearer ${ks.token({ scope: 'other' })}` : authorization;
    const refused = await both(get(path, header));
    expect([refused.status, (refused.body as { error: string }).error]).toEqual([status, error]);
    expect(refused.headers['www-authenticate']).toMatch(/^Bearer realm="api"/);
    expect(refused.headers['access-control-expose-headers']).toBe('WWW-Authenticate, Retry-After');
  });

  it('refuses a userinfo profile of another subject from a handler (UserinfoService.getProfile)', async () => {
    const token = ks.token();
    ks.profiles.set(token, { sub: 'auth0|someone-else', email: 'eve@example.com' });
    const refused = await both(get('/profile-on-demand', `Bearer ${token}`));
    expect([refused.status, (refused.body as { reason: string }).reason]).toEqual([
      401,
      'userinfo_subject_mismatch',
    ]);
    expect(refused.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('answers 503 with Retry-After when the provider is down', async () => {
    const unavailable = await both(get('/private', `Bearer ${ks.token()}`), down);
    expect([unavailable.status, unavailable.headers['retry-after']]).toEqual([
      503,
      expect.stringMatching(/^\d+$/),
    ]);
    expect(unavailable.headers['www-authenticate']).toBeUndefined();
  });

  it('answers a CORS preflight with 204, Authorization allowed, and no challenge', async () => {
    const preflight = await both((app) =>
      request(app.getHttpServer())
        .options('/private')
        .set('Access-Control-Request-Method', 'GET')
        .set('Access-Control-Request-Headers', 'authorization'),
    );
    expect(preflight.status).toBe(204);
    expect(preflight.headers['access-control-allow-headers']).toBe('Authorization, Content-Type');
    expect(preflight.headers['access-control-allow-methods']).toBe('GET, HEAD, POST');
    expect(preflight.headers['www-authenticate']).toBeUndefined();
  });
});
