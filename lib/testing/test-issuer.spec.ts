import { createPublicKey, type JsonWebKey } from 'node:crypto';
import { request, type Server } from 'node:http';
import * as mainEntry from '../index';
import { verifySignature } from '../token/verify-signature';
import { TestingKitError } from './kit-checks';
import { TestIssuer } from './test-issuer';
import type { TestSigningAlgorithm } from './signing-key';

const decode = (part: string) =>
  JSON.parse(Buffer.from(part, 'base64url').toString()) as Record<string, unknown>;

/** Verifies a token against the issuer's published JWKS, with the library's own signature check. */
async function verifiesAgainstJwks(issuer: TestIssuer, token: string): Promise<boolean> {
  const { keys } = (await (await fetch(issuer.jwksUri)).json()) as { keys: JsonWebKey[] };
  const [header, payload, signature] = token.split('.');
  const { alg, kid } = decode(header) as { alg: TestSigningAlgorithm; kid: string };
  const jwk = keys.find((key) => key.kid === kid);
  if (!jwk) return false;
  return verifySignature(
    alg,
    createPublicKey({ key: jwk, format: 'jwk' }),
    Buffer.from(`${header}.${payload}`),
    Buffer.from(signature, 'base64url'),
  );
}

/** A raw request, for what fetch cannot send (a body larger than the issuer accepts). */
function post(url: string, headers: Record<string, string>, body: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', headers }, (res) => {
      res.resume();
      resolve(res.statusCode ?? 0);
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('TestIssuer', () => {
  let issuer: TestIssuer;

  beforeAll(async () => {
    issuer = await TestIssuer.start({ audience: ['https://api.test', 'https://other.test'] });
  });

  afterAll(() => issuer.stop());

  describe('refuses to run with NODE_ENV=production', () => {
    const previous = process.env.NODE_ENV;
    beforeEach(() => (process.env.NODE_ENV = 'production'));
    afterEach(() => (process.env.NODE_ENV = previous));

    it('at start and at every mint, naming the kit', async () => {
      const refusal = /^nest-oauth2-bearer\/testing: .*refuses to run with NODE_ENV=production/;
      await expect(TestIssuer.start()).rejects.toThrow(refusal);
      expect(() => issuer.mintAccessToken()).toThrow(refusal);
      expect(() => issuer.mintIdToken()).toThrow(refusal);
      expect(() => issuer.opaqueToken({ profile: { sub: 'x' } })).toThrow(refusal);
    });
  });

  it('is not reachable from the main entry: the kit ships only under ./testing', () => {
    expect(Object.keys(mainEntry)).not.toEqual(
      expect.arrayContaining([expect.stringMatching(/TestIssuer|TestingKit|mint/i)]),
    );
  });

  it('listens on 127.0.0.1 only, and has no option to listen elsewhere', async () => {
    expect(new URL(issuer.issuerUrl).hostname).toBe('127.0.0.1');
    const { server } = issuer as unknown as { server: Server };
    expect(server.address()).toMatchObject({ address: '127.0.0.1', family: 'IPv4' });
    for (const host of ['host', 'hostname', 'listen', 'port']) {
      await expect(TestIssuer.start({ [host]: '0.0.0.0' } as object)).rejects.toThrow(
        new RegExp(`unknown option "${host}"`),
      );
    }
  });

  it.each([
    [{ audience: '' }, /audience must be/],
    [{ audience: [] }, /audience must be/],
    [{ algorithm: 'HS256' }, /algorithm must be one of RS256, PS256, ES256/],
    [{ maxProfiles: 0 }, /maxProfiles must be/],
    [{ maxProfiles: '5' }, /maxProfiles must be/],
    ['https://issuer', /options must be an object/],
  ])('refuses start(%p)', async (options, message) => {
    const start = TestIssuer.start(options as never);
    await expect(start).rejects.toThrow(TestingKitError);
    await expect(start).rejects.toThrow(message);
  });

  it.each([
    [{ sub: '' }, /sub must be a non-empty string/],
    [{ sub: 42 }, /sub must be a non-empty string/],
    [{ scopes: 'read:messages' }, /scopes must be an array/],
    [{ scopes: ['read messages'] }, /scopes must be an array of scope names without spaces/],
    [{ claims: [] }, /claims must be a plain object/],
    [{ claims: new Date() }, /claims must be a plain object/],
    [{ expiresIn: 1.5 }, /expiresIn must be a whole number/],
    [{ expiresIn: Number.NaN }, /expiresIn must be a whole number/],
    [{ audience: [1] }, /audience must be/],
    [{ clientId: '  ' }, /clientId must be a non-empty string/],
    [{ profile: { email: 'x' } }, /profile must be an object with a non-empty sub/],
    [{ scope: ['read:messages'] }, /unknown option "scope"/],
  ])('refuses mintAccessToken(%p)', (options, message) => {
    expect(() => issuer.mintAccessToken(options as never)).toThrow(message);
  });

  it('refuses bad mintIdToken() and opaqueToken() options', () => {
    expect(() => issuer.mintIdToken({ clientId: '' })).toThrow(/clientId must be/);
    expect(() => issuer.mintIdToken({ nonce: 'n' } as never)).toThrow(/unknown option "nonce"/);
    expect(() => issuer.opaqueToken(undefined as never)).toThrow(/profile must be an object/);
    expect(() => issuer.opaqueToken({ profile: { sub: '' } })).toThrow(/non-empty sub/);
    expect(() => issuer.opaqueToken({ profile: { sub: 'x' }, scopes: [''] })).toThrow(/scopes/);
  });

  it('mints access tokens with every claim strict mode requires, claims winning', () => {
    const token = issuer.mintAccessToken({
      sub: 'user-1',
      scopes: ['read:messages', 'write:messages'],
      claims: { org: 'acme', client_id: 'spa' },
    });
    const [header, payload] = token.split('.').map((part, i) => (i < 2 ? decode(part) : part));
    expect(header).toMatchObject({ typ: 'at+jwt', alg: 'RS256', kid: expect.any(String) });
    expect(payload).toEqual({
      iss: issuer.issuerUrl,
      sub: 'user-1',
      aud: ['https://api.test', 'https://other.test'],
      client_id: 'spa',
      iat: expect.any(Number),
      exp: expect.any(Number),
      jti: expect.any(String),
      scope: 'read:messages write:messages',
      org: 'acme',
    });
    const { iat, exp } = payload as { iat: number; exp: number };
    expect(exp - iat).toBe(300);
    expect(decode(issuer.mintAccessToken().split('.')[1])).not.toHaveProperty('scope');
  });

  it('mints ID tokens addressed to the client, with a nonce', () => {
    const [header, payload] = issuer.mintIdToken({ sub: 'u', claims: { email: 'u@x' } }).split('.');
    expect(decode(header).typ).toBe('JWT');
    expect(decode(payload)).toMatchObject({
      aud: 'test-client',
      azp: 'test-client',
      nonce: expect.any(String),
      email: 'u@x',
    });
  });

  it.each(['RS256', 'PS256', 'ES256'] as const)(
    'signs %s tokens that verify against its JWKS, and not once tampered',
    async (algorithm) => {
      const own = algorithm === 'RS256' ? issuer : await TestIssuer.start({ algorithm });
      try {
        const token = own.mintAccessToken({ scopes: ['read'] });
        expect(await verifiesAgainstJwks(own, token)).toBe(true);
        const [header, payload, signature] = token.split('.');
        const widened = Buffer.from(
          JSON.stringify({ ...decode(payload), scope: 'admin' }),
        ).toString('base64url');
        expect(await verifiesAgainstJwks(own, `${header}.${widened}.${signature}`)).toBe(false);
      } finally {
        if (own !== issuer) await own.stop();
      }
    },
  );

  it('publishes discovery, and answers 404 elsewhere', async () => {
    const discovery = await (
      await fetch(`${issuer.issuerUrl}.well-known/openid-configuration`)
    ).json();
    expect(discovery).toMatchObject({
      issuer: issuer.issuerUrl,
      jwks_uri: issuer.jwksUri,
      userinfo_endpoint: issuer.userinfoUrl,
      introspection_endpoint: issuer.introspectionUrl,
    });
    expect((await fetch(`${issuer.issuerUrl}token`, { method: 'POST' })).status).toBe(404);
  });

  it('answers userinfo for registered, unexpired, unrevoked tokens only', async () => {
    const userinfo = (token?: string) =>
      fetch(issuer.userinfoUrl, token ? { headers: { authorization: `Bearer ${token}` } } : {});
    const token = issuer.opaqueToken({ profile: { sub: 'u1', email: 'u1@x' } });
    const ok = await userinfo(token);
    expect([ok.status, await ok.json()]).toEqual([200, { sub: 'u1', email: 'u1@x' }]);
    expect((await userinfo()).status).toBe(401);
    expect((await userinfo('unknown')).status).toBe(401);
    const expired = issuer.opaqueToken({ profile: { sub: 'u1' }, expiresIn: 0 });
    expect((await userinfo(expired)).status).toBe(401);
    issuer.revoke(token);
    const revoked = await userinfo(token);
    expect(revoked.status).toBe(401);
    expect(revoked.headers.get('www-authenticate')).toBe('Bearer error="invalid_token"');
  });

  it('keeps at most maxProfiles tokens, forgetting the oldest', async () => {
    const small = await TestIssuer.start({ maxProfiles: 2 });
    try {
      const tokens = ['a', 'b', 'c'].map((sub) => small.opaqueToken({ profile: { sub } }));
      const statuses = await Promise.all(
        tokens.map(
          async (token) =>
            (await fetch(small.userinfoUrl, { headers: { authorization: `Bearer ${token}` } }))
              .status,
        ),
      );
      expect(statuses).toEqual([401, 200, 200]);
    } finally {
      await small.stop();
      await small.stop();
    }
  });

  it('introspects with its per-run client credentials, bounded bodies', async () => {
    const { clientId, clientSecret } = issuer.introspectionClient;
    const basic = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    const introspect = async (token: string, authorization = basic) => {
      const res = await fetch(issuer.introspectionUrl, {
        method: 'POST',
        headers: { authorization, 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ token }),
      });
      return [res.status, await res.json()];
    };
    const token = issuer.opaqueToken({ profile: { sub: 'svc' }, scopes: ['read'] });
    expect(await introspect(token)).toEqual([
      200,
      expect.objectContaining({ active: true, sub: 'svc', scope: 'read', iss: issuer.issuerUrl }),
    ]);
    expect(await introspect('unknown')).toEqual([200, { active: false }]);
    expect(await introspect(token, 'Basic d3Jvbmc6d3Jvbmc=')).toEqual([
      401,
      { error: 'invalid_client' },
    ]);
    const headers = { authorization: basic, 'content-type': 'application/x-www-form-urlencoded' };
    expect(await post(issuer.introspectionUrl, headers, `token=${'x'.repeat(20_000)}`)).toBe(413);
  });

  it('fills in module options: issuer, audience, and its introspection client when asked', () => {
    expect(issuer.moduleOptions()).toEqual({
      issuerUrl: issuer.issuerUrl,
      audience: ['https://api.test', 'https://other.test'],
    });
    expect(issuer.moduleOptions({ audience: 'https://api.test', strict: true })).toEqual({
      issuerUrl: issuer.issuerUrl,
      audience: 'https://api.test',
      strict: true,
    });
    expect(issuer.moduleOptions({ opaqueTokens: 'introspection' }).introspection).toEqual(
      issuer.introspectionClient,
    );
    const own = { clientId: 'mine', clientSecret: 's' };
    expect(
      issuer.moduleOptions({ opaqueTokens: 'introspection', introspection: own }).introspection,
    ).toBe(own);
  });
});
