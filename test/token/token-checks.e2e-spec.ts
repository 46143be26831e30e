import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { generateKey, KeyServer, signInput, signRaw, withUnusedBits } from '../support/key-server';
import { capturedLogs, findLeaks } from '../support/log-capture';
import { generateRocaKey } from '../support/roca-key';

/** Every check of the verifier, each shown refusing the attack it exists for. */
describe.each(PLATFORMS)('access token checks (local key server) (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;
  let attacker: Server;
  let attackerHits = 0;
  let attackerUrl: string;
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    ks = await KeyServer.start();
    ks.keys.push(generateKey('PS256'), generateKey('ES256'), generateKey('RSA1024'));
    app = await createFixtureApp({ issuerUrl: ks.issuer, audience: ks.audience }, { platform });
    attacker = createServer((_req, res) => {
      attackerHits++;
      res.end('{"keys":[]}');
    });
    await new Promise<void>((resolve) => attacker.listen(0, '127.0.0.1', resolve));
    attackerUrl = `http://127.0.0.1:${(attacker.address() as AddressInfo).port}/jwks.json`;
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
    await new Promise((resolve) => attacker.close(resolve));
  });

  const get = (token: string, path = '/private') =>
    request(app.getHttpServer()).get(path).set('Authorization', `Bearer ${token}`);

  async function expectRefused(token: string, reason: string, status = 401) {
    const res = await get(token);
    expect({ status: res.status, reason: res.body.reason }).toEqual({ status, reason });
    const code = status === 400 ? 'invalid_request' : 'invalid_token';
    expect(res.headers['www-authenticate']).toMatch(
      new RegExp(
        `^Bearer realm="api", error="${code}", error_description="[^"]+", ${ks.resourceMetadata}$`,
      ),
    );
    return res;
  }

  it('accepts a valid RS256 access token and exposes the caller', async () => {
    const res = await get(ks.token());
    expect(res.status).toBe(200);
    expect(res.body).toEqual({ sub: 'auth0|user-1' });
  });

  it.each([1, 2])('accepts PS256 and ES256 keys (key %i)', async (index) => {
    expect((await get(ks.token({}, {}, ks.keys[index]))).status).toBe(200);
  });

  describe('algorithm', () => {
    it.each(['none', 'None', 'NONE', 'nOnE'])('refuses an unsigned token (alg %s)', async (alg) => {
      await expectRefused(
        ks.token({}, { alg }, { ...ks.key, privateKey: ks.key.privateKey }),
        'alg_not_allowed',
      );
    });

    it('refuses HS256 signed with the public key as the HMAC secret', async () => {
      const pem = ks.key.privateKey.export({ format: 'pem', type: 'pkcs1' }).toString();
      const publicPem = JSON.stringify(ks.key.publicJwk);
      for (const secret of [pem, publicPem]) {
        const token = signRaw(
          { alg: 'HS256', typ: 'at+jwt', kid: ks.key.kid },
          tokenPayload(),
          secret,
        );
        await expectRefused(token, 'alg_not_allowed');
      }
    });

    it.each(['rs256', 'Rs256', 'RS256 ', 'EdDSA', 'HS512'])(
      'refuses alg %j (case-sensitive allow-list)',
      async (alg) => {
        const token = signRaw(
          { alg, typ: 'at+jwt', kid: ks.key.kid },
          tokenPayload(),
          ks.key.privateKey,
        );
        await expectRefused(token, 'alg_not_allowed');
      },
    );

    it('refuses an ES256 header pointing at an RSA key', async () => {
      const es = ks.keys[2];
      await expectRefused(ks.token({}, { kid: ks.key.kid }, es), 'key_mismatch');
    });

    it('honours an explicit allow-list', async () => {
      const strictApp = await createFixtureApp(
        { issuerUrl: ks.issuer, audience: ks.audience, algorithms: ['ES256'] },
        { platform },
      );
      try {
        const res = await request(strictApp.getHttpServer())
          .get('/private')
          .set('Authorization', `Bearer ${ks.token()}`);
        expect([res.status, res.body.reason]).toEqual([401, 'alg_not_allowed']);
        const ok = await request(strictApp.getHttpServer())
          .get('/private')
          .set('Authorization', `Bearer ${ks.token({}, {}, ks.keys[2])}`);
        expect(ok.status).toBe(200);
      } finally {
        await strictApp.close();
      }
    });
  });

  describe('signature', () => {
    it('refuses a token whose payload was altered', async () => {
      const [h, , s] = ks.token().split('.');
      const forged = Buffer.from(JSON.stringify(tokenPayload({ sub: 'admin' }))).toString(
        'base64url',
      );
      await expectRefused(`${h}.${forged}.${s}`, 'signature_invalid');
    });

    it('refuses a token signed by another key under a known kid', async () => {
      const evil = generateKey('RS256', ks.key.kid);
      await expectRefused(ks.token({}, {}, evil), 'signature_invalid');
    });

    it.each([1, 2])(
      'refuses a PS or ES signature of the wrong length with 401, not 500 (key %i)',
      async (index) => {
        const [h, p] = ks.token({}, {}, ks.keys[index]).split('.');
        for (const signature of [
          'AAAA',
          Buffer.alloc(63).toString('base64url'),
          Buffer.alloc(200).toString('base64url'),
        ]) {
          const res = await get(`${h}.${p}.${signature}`);
          expect([res.status, res.body.error]).toEqual([401, 'invalid_token']);
        }
      },
    );

    it('refuses a token with an empty signature', async () => {
      const [h, p] = ks.token().split('.');
      const res = await get(`${h}.${p}.`);
      expect(res.status).toBe(401);
    });

    it('never uses an embedded jwk, jku, x5u or x5c to find the key', async () => {
      const evil = generateKey('RS256', undefined);
      const token = ks.token(
        {},
        {
          kid: undefined,
          jwk: evil.publicJwk,
          jku: attackerUrl,
          x5u: attackerUrl,
          x5c: [randomBytes(64).toString('base64')],
        },
        evil,
      );
      const before = ks.fetches.jwks;
      const res = await get(token);
      expect(res.status).toBe(401);
      expect(['signature_invalid', 'ambiguous_key']).toContain(res.body.reason);
      expect(attackerHits).toBe(0);
      expect(ks.fetches.jwks).toBe(before);
    });

    it('refuses a token signed with a weak (1024-bit) RSA key', async () => {
      await expectRefused(ks.token({}, {}, ks.keys[3]), 'weak_key');
    });
  });

  describe('header', () => {
    it.each(['at+jwt', 'application/at+jwt', 'JWT', 'jwt', 'AT+JWT'])(
      'accepts typ %s',
      async (typ) => {
        expect((await get(ks.token({}, { typ }))).status).toBe(200);
      },
    );

    it('accepts a token without typ', async () => {
      expect((await get(ks.token({}, { typ: undefined }))).status).toBe(200);
    });

    it.each(['dpop+jwt', 'logout+jwt', 'secevent+jwt', 'JOSE', 42])(
      'refuses typ %j',
      async (typ) => {
        await expectRefused(ks.token({}, { typ }), 'unsupported_typ');
      },
    );

    it('refuses unknown critical extensions', async () => {
      await expectRefused(ks.token({}, { crit: ['exp'], exp: 1 }), 'unsupported_crit');
    });

    it('refuses an unencoded payload (b64: false)', async () => {
      await expectRefused(ks.token({}, { b64: false, crit: undefined }), 'unencoded_payload');
    });

    it.each([[123], [''], ['x'.repeat(300)], [{ a: 1 }]])(
      'refuses a kid that is not bounded text: %j',
      async (kid) => {
        await expectRefused(ks.token({}, { kid }), 'invalid_kid');
      },
    );

    it('treats a path-like kid as plain text, fetching nothing from it', async () => {
      const before = { ...ks.fetches };
      await expectRefused(ks.token({}, { kid: '../../../etc/passwd' }), 'unknown_kid');
      expect(ks.fetches.other).toBe(before.other);
      expect(attackerHits).toBe(0);
    });

    it('refuses a header that is not JSON', async () => {
      const [, p, s] = ks.token().split('.');
      await expectRefused(
        `${Buffer.from('{"alg":').toString('base64url')}.${p}.${s}`,
        'malformed_jwt',
      );
    });
  });

  describe('encoding (RFC 4648 §3.5, RFC 7519 §7.2)', () => {
    const segment = (bytes: string | Buffer) => Buffer.from(bytes).toString('base64url');
    const sign = (header: string, payload: string) =>
      signInput(`${header}.${payload}`, 'RS256', ks.key.privateKey);
    const header = () => segment(JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: ks.key.kid }));
    /** The claims as JSON, padded so that their base64url ends with unused bits. */
    function claimsText(): string {
      const text = JSON.stringify(tokenPayload());
      return Buffer.byteLength(text) % 3 === 0 ? JSON.stringify(tokenPayload({ pad: 'x' })) : text;
    }

    it('refuses claims whose segment is not canonical base64url, signed as sent', async () => {
      const payload = segment(claimsText());
      expect((await get(sign(header(), payload))).status).toBe(200);
      const res = await expectRefused(sign(header(), withUnusedBits(payload)), 'malformed_jwt');
      expect(res.body.message).toMatch(/payload segment is not canonical base64url/);
    });

    it('refuses a header segment that is not canonical base64url, signed as sent', async () => {
      const json = JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: ks.key.kid });
      const text = Buffer.byteLength(json) % 3 === 0 ? `${json.slice(0, -1)},"x":1}` : json;
      const payload = segment(claimsText());
      expect((await get(sign(segment(text), payload))).status).toBe(200);
      await expectRefused(sign(withUnusedBits(segment(text)), payload), 'malformed_jwt');
    });

    it('refuses claims that are not UTF-8 (an overlong "/", C0 AF)', async () => {
      const text = JSON.stringify(tokenPayload());
      const claims = Buffer.concat([
        Buffer.from(`${text.slice(0, -1)},"name":"a`),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from('b"}'),
      ]);
      const res = await expectRefused(sign(header(), segment(claims)), 'invalid_encoding');
      expect(res.body.message).toMatch(/not valid UTF-8/);
    });

    it('refuses a header that is not UTF-8', async () => {
      const json = JSON.stringify({ alg: 'RS256', typ: 'at+jwt', kid: ks.key.kid });
      const bytes = Buffer.concat([
        Buffer.from(`${json.slice(0, -1)},"x":"`),
        Buffer.from([0xed, 0xa0, 0x80]),
        Buffer.from('"}'),
      ]);
      await expectRefused(sign(segment(bytes), segment(claimsText())), 'invalid_encoding');
    });

    it('says that the payload is empty, not that it is not base64url', async () => {
      const res = await expectRefused(sign(header(), ''), 'malformed_jwt');
      expect(res.body.message).toMatch(/payload is empty/);
    });
  });

  describe('claims', () => {
    it('refuses another issuer', async () => {
      await expectRefused(ks.token({ iss: ks.issuer.replace(/\/$/, '') }), 'issuer_mismatch');
      await expectRefused(ks.token({ iss: 'https://evil.example/' }), 'issuer_mismatch');
    });

    it('accepts aud as an array containing the API (Auth0 with openid)', async () => {
      expect((await get(ks.token({ aud: [ks.audience, `${ks.issuer}userinfo`] }))).status).toBe(
        200,
      );
    });

    it('refuses a token for another API', async () => {
      const res = await expectRefused(
        ks.token({ aud: 'https://other-api.example' }),
        'audience_mismatch',
      );
      expect(res.body.message).toContain(`audience=${ks.audience}`);
    });

    it('says so when the token is only for /userinfo (no audience requested)', async () => {
      const res = await expectRefused(
        ks.token({ aud: `${ks.issuer}userinfo` }),
        'userinfo_audience_only',
      );
      expect(res.body.message).toContain(`audience=${ks.audience}`);
    });

    it.each([
      ['nonce', { nonce: 'n-1', aud: 'client-abc', azp: 'client-abc', scope: undefined }],
      ['at_hash', { at_hash: 'x', aud: ks?.audience }],
      ['aud = azp (client id)', { aud: 'client-abc', azp: 'client-abc', scope: undefined }],
    ])('names an ID token sent as a bearer token (%s)', async (_case, claims) => {
      const res = await expectRefused(ks.token(claims, { typ: 'JWT' }), 'id_token');
      expect(res.body.message).toMatch(/ID token/);
      expect(res.body.message).toContain(`audience=${ks.audience}`);
      expect(res.headers['www-authenticate']).toContain('ID token');
    });

    it.each([
      [{ jkt: 'thumbprint' }, 'sender_constrained_token'],
      [{ 'x5t#S256': 'hash' }, 'unsupported_cnf'],
    ])(
      'refuses a sender-constrained token (cnf %j) sent as a bearer token',
      async (cnf, reason) => {
        await expectRefused(ks.token({ cnf }), reason);
      },
    );

    it('refuses a token without exp', async () => {
      await expectRefused(ks.token({ exp: undefined }), 'missing_claim');
    });

    it('refuses an expired token, and says it expired', async () => {
      const res = await expectRefused(ks.token({ exp: now() - 60 }), 'token_expired');
      expect(res.body.message).toMatch(/expired/);
    });

    it('tolerates 5 s of clock skew on exp and nbf, not more', async () => {
      expect((await get(ks.token({ exp: now() - 2 }))).status).toBe(200);
      expect((await get(ks.token({ nbf: now() + 2 }))).status).toBe(200);
      await expectRefused(ks.token({ nbf: now() + 30 }), 'token_not_yet_valid');
    });

    it.each([
      ['exp', 'soon'],
      ['nbf', '0'],
      ['iat', null],
      ['sub', 42],
      ['scope', ['read:messages']],
      ['permissions', 'read:messages'],
    ])('refuses a %s claim of the wrong type', async (claim, value) => {
      await expectRefused(ks.token({ [claim]: value }), 'invalid_claim');
    });

    it('refuses a signed payload that is not JSON', async () => {
      const token = signRaw(
        { alg: 'RS256', kid: ks.key.kid },
        'not json at all',
        ks.key.privateKey,
      );
      await expectRefused(token, 'malformed_jwt');
    });

    it('refuses a payload that is not an object', async () => {
      const token = signRaw(
        { alg: 'RS256', kid: ks.key.kid },
        '"just a string"',
        ks.key.privateKey,
      );
      const res = await get(token);
      expect(res.status).toBe(401);
    });
  });

  describe('key selection', () => {
    it('accepts a token without kid when exactly one key fits its alg', async () => {
      const single = await KeyServer.start();
      single.keys = [generateKey('RS256')];
      const singleApp = await createFixtureApp(
        { issuerUrl: single.issuer, audience: single.audience },
        { platform },
      );
      try {
        const res = await request(singleApp.getHttpServer())
          .get('/private')
          .set('Authorization', `Bearer ${single.token({}, { kid: undefined })}`);
        expect(res.status).toBe(200);
        single.keys.push(generateKey('RS256'));
        const again = single.token({}, { kid: undefined });
        // The first app still caches one key; a new app sees two RSA keys and cannot choose.
        const app2 = await createFixtureApp(
          { issuerUrl: single.issuer, audience: single.audience },
          { platform },
        );
        try {
          const r2 = await request(app2.getHttpServer())
            .get('/private')
            .set('Authorization', `Bearer ${again}`);
          expect([r2.status, r2.body.reason]).toEqual([401, 'ambiguous_key']);
        } finally {
          await app2.close();
        }
      } finally {
        await singleApp.close();
        await single.stop();
      }
    });
    it('never uses an RSA key with the ROCA weakness (CVE-2017-15361), and warns once naming it', async () => {
      const issuer = await KeyServer.start();
      const kid = `roca-${randomBytes(4).toString('hex')}`;
      issuer.keys.push({ kid, alg: 'RS256', ...generateRocaKey(2048, kid) });
      const rocaApp = await createFixtureApp(
        { issuerUrl: issuer.issuer, audience: issuer.audience },
        { platform },
      );
      const logsBefore = capturedLogs().length;
      try {
        const send = (token: string) =>
          request(rocaApp.getHttpServer()).get('/private').set('Authorization', `Bearer ${token}`);
        expect((await send(issuer.token())).status).toBe(200);
        for (let i = 0; i < 2; i++) {
          const res = await send(issuer.token({}, {}, issuer.keys[1]));
          expect([res.status, res.body.error, res.body.reason]).toEqual([
            401,
            'invalid_token',
            'weak_key',
          ]);
        }
        const warnings = capturedLogs()
          .slice(logsBefore)
          .filter((line) => line.startsWith('warn') && line.includes('ROCA'));
        expect(warnings).toHaveLength(1);
        expect(warnings[0]).toContain(`"${kid}"`);
      } finally {
        await rocaApp.close();
        await issuer.stop();
      }
    });
  });

  describe('request syntax (RFC 6750)', () => {
    const raw = (authorization?: string, query = '') => {
      const req = request(app.getHttpServer()).get(`/private${query}`);
      return authorization === undefined ? req : req.set('Authorization', authorization);
    };

    it('answers a bare challenge when no token is sent', async () => {
      for (const res of [await raw(), await raw('Basic dXNlcjpwYXNz')]) {
        expect(res.status).toBe(401);
        expect(res.headers['www-authenticate']).toBe(ks.bareChallenge);
        expect(res.body).toMatchObject({ statusCode: 401, error: 'missing_token' });
      }
    });

    it('keeps the bare challenge for a token sent without a scheme, and says the scheme is missing', async () => {
      const res = await raw(ks.token());
      expect([res.status, res.body.error]).toEqual([401, 'missing_token']);
      expect(res.headers['www-authenticate']).toBe(ks.bareChallenge);
      expect(res.body.message).toBe(
        'The Authorization header has no scheme: send it as `Authorization: Bearer <token>`.',
      );
    });

    it.each(['Bearer', 'Bearer ', 'Bearer a b', 'Bearer tok%en', 'Bearer "tok"', 'Bearer tok,en'])(
      'answers 400 invalid_request to %j',
      async (authorization) => {
        const res = await raw(authorization);
        expect([res.status, res.body.error]).toEqual([400, 'invalid_request']);
        expect(res.headers['www-authenticate']).toMatch(
          /^Bearer realm="api", error="invalid_request"/,
        );
      },
    );

    it('accepts the scheme in any case', async () => {
      expect((await raw(`bearer ${ks.token()}`)).status).toBe(200);
      expect((await raw(`BEARER ${ks.token()}`)).status).toBe(200);
    });

    it('caps the token length', async () => {
      const res = await raw(`Bearer ${'a'.repeat(9000)}`);
      expect([res.status, res.body.reason]).toEqual([400, 'token_too_large']);
    });

    it('ignores a query-string token by default', async () => {
      const res = await raw(undefined, `?access_token=${ks.token()}`);
      expect([res.status, res.headers['www-authenticate']]).toEqual([401, ks.bareChallenge]);
    });

    it('accepts a query-string token when allowed, and refuses two token methods', async () => {
      const queryApp = await createFixtureApp(
        { issuerUrl: ks.issuer, audience: ks.audience, allowQueryToken: true },
        { platform },
      );
      try {
        const server = queryApp.getHttpServer();
        expect((await request(server).get(`/private?access_token=${ks.token()}`)).status).toBe(200);
        const both = await request(server)
          .get(`/private?access_token=${ks.token()}`)
          .set('Authorization', `Bearer ${ks.token()}`);
        expect([both.status, both.body.reason]).toEqual([400, 'multiple_token_methods']);
      } finally {
        await queryApp.close();
      }
    });

    it.each([
      ['an opaque token', randomBytes(24).toString('base64url').replace(/^eyJ/, 'abc')],
      [
        'a JWE (Auth0 without audience)',
        `${Buffer.from('{"alg":"dir","enc":"A256GCM"}').toString('base64url')}..iv.ct.tag`,
      ],
    ])('explains %s: request an audience', async (_what, token) => {
      const res = await expectRefused(token, 'not_a_jwt');
      expect(res.body.message).toContain(`audience=${ks.audience}`);
    });

    it.each(['a.b', 'a.b.c.d', 'eyJhbGciOiJSUzI1NiJ9', 'a..b.c.d.e.f'])(
      'refuses the malformed token %j',
      async (token) => {
        const res = await get(token);
        expect(res.status).toBe(401);
        expect(res.body.error).toBe('invalid_token');
      },
    );
  });

  describe('scopes', () => {
    it('answers 403 insufficient_scope with the required scope', async () => {
      const res = await get(ks.token({ scope: 'profile' }), '/scoped');
      expect(res.status).toBe(403);
      expect(res.body.error).toBe('insufficient_scope');
      expect(res.headers['www-authenticate']).toMatch(
        new RegExp(
          `^Bearer realm="api", error="insufficient_scope", scope="read:messages", error_description="[^"]+", ${ks.resourceMetadata}$`,
        ),
      );
    });

    it.each([
      [{ scope: 'openid read:messages' }, 200],
      [{ scope: undefined, scp: ['read:messages'] }, 200],
      [{ scope: undefined, scp: 'read:messages email' }, 200],
      [{ scope: undefined, permissions: ['read:messages'] }, 200],
      [{ scope: 'read:messagesX read:message' }, 403],
      [{ scope: 'READ:MESSAGES' }, 403],
    ])('reads scope, scp and permissions with exact matching: %j', async (claims, status) => {
      expect((await get(ks.token(claims), '/scoped')).status).toBe(status);
    });

    it('supports "any of" requirements', async () => {
      expect((await get(ks.token({ scope: 'admin' }), '/any')).status).toBe(200);
      const res = await get(ks.token({ scope: 'write:messages' }), '/any');
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toContain('scope="read:messages admin"');
    });

    it('combines class-level and handler-level scopes', async () => {
      expect((await get(ks.token({ scope: 'admin' }), '/admin/read')).status).toBe(200);
      expect((await get(ks.token({ scope: 'admin' }), '/admin/write')).status).toBe(403);
      expect((await get(ks.token({ scope: 'write:messages' }), '/admin/write')).status).toBe(403);
      expect((await get(ks.token({ scope: 'admin write:messages' }), '/admin/write')).status).toBe(
        200,
      );
    });
  });

  describe('logs', () => {
    it('logs refusals with a short hash and a reason code, never the token', async () => {
      const token = ks.token({ exp: now() - 60 });
      await get(token);
      const lines = capturedLogs().filter((line) => line.includes('Refused token'));
      expect(lines.some((line) => /Refused token [0-9a-f]{12}: token_expired/.test(line))).toBe(
        true,
      );
      expect(findLeaks(capturedLogs(), [token])).toEqual([]);
    });

    it('would notice a leak: the checker finds tokens and JWT-shaped text in log lines', () => {
      const token = ks.token();
      expect(findLeaks([`debug refused ${token}`], [token])).toHaveLength(1);
      expect(findLeaks([`debug ${token.split('.')[2]}`], [token])).toHaveLength(1);
      expect(findLeaks([`debug ${ks.token()}`], [])).toHaveLength(1);
      expect(findLeaks(['debug Refused token 0123456789ab: token_expired'], [token])).toEqual([]);
    });
  });

  describe('current user', () => {
    it('returns the typed user without the token, and single claims', async () => {
      const token = ks.token({ email: 'ada@example.com', permissions: ['read:messages'] });
      const me = await get(token, '/me');
      expect(me.body).toMatchObject({
        sub: 'auth0|user-1',
        tokenType: 'jwt',
        scopes: ['read:messages'],
      });
      expect(me.body.tokenHash).toMatch(/^[0-9a-f]{12}$/);
      expect(JSON.stringify(me.body)).not.toContain(token.split('.')[2]);
      expect((await get(token, '/email')).body).toEqual({ email: 'ada@example.com' });
    });

    it('lets public routes through without a token', async () => {
      expect((await request(app.getHttpServer()).get('/public')).status).toBe(200);
    });
  });

  function tokenPayload(extra: Record<string, unknown> = {}) {
    return { iss: ks.issuer, sub: 'auth0|user-1', aud: ks.audience, exp: now() + 600, ...extra };
  }
});
