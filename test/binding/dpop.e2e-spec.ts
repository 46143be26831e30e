import { generateKeyPairSync, randomBytes } from 'node:crypto';
import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { DpopKey } from '../support/dpop-proofs';
import { generateKey, KeyServer, signInput, withUnusedBits } from '../support/key-server';
import { listen } from '../support/listen';
import { rememberToken } from '../support/log-capture';
import type { AuthModuleOptions } from '../../lib';

/** RFC 9449 on a resource server: every check of §4.3 and §7, each shown refusing its attack. */
describe.each(PLATFORMS)('DPoP-bound tokens (RFC 9449) (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;
  let base: string;
  const client = new DpopKey();
  const now = () => Math.floor(Date.now() / 1000);

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await createFixtureApp(
      {
        issuerUrl: ks.issuer,
        audience: ks.audience,
        opaqueTokens: 'introspection',
        introspection: { ...ks.introspectionClient },
      },
      { platform },
    );
    base = await listen(app);
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  /** A token bound to `key` (cnf.jkt). */
  const bound = (key: DpopKey = client, claims: Record<string, unknown> = {}) =>
    ks.token({ cnf: { jkt: key.jkt }, ...claims });

  const send = (token: string, proofs: string | string[] | undefined, path = '/private') => {
    const req = request(base).get(path).set('Authorization', `DPoP ${token}`);
    // An array becomes one header line per value (superagent's types only allow it for Cookie).
    return proofs === undefined ? req : req.set('DPoP', proofs as string);
  };

  async function expectProofRefused(
    token: string,
    proofs: string | string[] | undefined,
    reason: string,
    mentions: RegExp,
  ) {
    const res = await send(token, proofs);
    expect({ status: res.status, error: res.body.error, reason: res.body.reason }).toEqual({
      status: 401,
      error: 'invalid_dpop_proof',
      reason,
    });
    expect(res.body.message).toMatch(mentions);
    expect(res.headers['www-authenticate']).toMatch(
      /^DPoP realm="api", error="invalid_dpop_proof", error_description="[^"]+", .*algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"/,
    );
    return res;
  }

  it('accepts a bound token with a proof made by the dpop package (panva) for this request', async () => {
    const { generateKeyPair, generateProof, calculateThumbprint } = await import('dpop');
    const keyPair = await generateKeyPair('ES256');
    const token = ks.token({ cnf: { jkt: await calculateThumbprint(keyPair.publicKey) } });
    const proof = rememberToken(
      await generateProof(keyPair, `${base}/private`, 'GET', undefined, token),
    );
    const res = await send(token, proof);
    expect([res.status, res.body]).toEqual([200, { sub: 'auth0|user-1' }]);
  });

  it('accepts an RS256 proof key, and unbound bearer tokens beside DPoP (mode allowed)', async () => {
    const rsa = new DpopKey('RS256');
    const token = bound(rsa);
    expect((await send(token, rsa.proof('GET', `${base}/private`, token))).status).toBe(200);
    const bearer = await request(base).get('/private').set('Authorization', `Bearer ${ks.token()}`);
    expect(bearer.status).toBe(200);
  });

  it('challenges a request without a token with both Bearer and DPoP (§7.2)', async () => {
    const res = await request(base).get('/private');
    expect(res.status).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(
      /^Bearer realm="api"(, resource_metadata="[^"]+")?, DPoP realm="api"(, resource_metadata="[^"]+")?, algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"$/,
    );
  });

  describe('refuses every failure of §4.3', () => {
    const url = () => `${base}/private`;

    it('no DPoP header', async () => {
      await expectProofRefused(bound(), undefined, 'dpop_proof_missing', /no DPoP header/);
    });

    it('two DPoP headers', async () => {
      const token = bound();
      const proofs = [client.proof('GET', url(), token), client.proof('GET', url(), token)];
      await expectProofRefused(token, proofs, 'dpop_proof_multiple', /2 DPoP headers/);
    });

    it('two proofs in one header', async () => {
      const token = bound();
      const two = `${client.proof('GET', url(), token)}, ${client.proof('GET', url(), token)}`;
      await expectProofRefused(token, two, 'dpop_proof_malformed', /exactly one JWT/);
    });

    it.each([
      ['not a JWS', 'not-a-proof'],
      ['a JWE-shaped value', 'a.b.c.d.e'],
      ['a header that is not JSON', 'bm90IGpzb24.e30.c2ln'],
    ])('%s', async (_name, proof) => {
      await expectProofRefused(bound(), proof, 'dpop_proof_malformed', /DPoP/);
    });

    it.each([['JWT'], ['at+jwt'], [undefined]])('typ %p', async (typ) => {
      const token = bound();
      const proof = client.proof('GET', url(), token, {}, { typ });
      await expectProofRefused(token, proof, 'dpop_proof_typ', /must be "dpop\+jwt"/);
    });

    it('alg none', async () => {
      const token = bound();
      const proof = client.proof('GET', url(), token, {}, { alg: 'none' });
      await expectProofRefused(token, proof, 'dpop_proof_alg', /alg "none" is not accepted/);
    });

    it('alg HS256, signed with the public key as the secret', async () => {
      const token = bound();
      const secret = JSON.stringify(client.publicJwk);
      const proof = client.proof('GET', url(), token, {}, { alg: 'HS256' }, secret);
      await expectProofRefused(token, proof, 'dpop_proof_alg', /alg "HS256" is not accepted/);
    });

    it('a private key in jwk', async () => {
      const token = bound();
      const privateJwk = client.privateKey.export({ format: 'jwk' });
      const proof = client.proof('GET', url(), token, {}, { jwk: privateJwk });
      await expectProofRefused(token, proof, 'dpop_proof_jwk', /private key material \(d\)/);
    });

    it('a symmetric jwk', async () => {
      const token = bound();
      const proof = client.proof('GET', url(), token, {}, { jwk: { kty: 'oct', x: 'AAAA' } });
      await expectProofRefused(token, proof, 'dpop_proof_jwk', /kty "oct"/);
    });

    it('a signature by another key than its jwk', async () => {
      const token = bound();
      const other = new DpopKey();
      const proof = client.proof('GET', url(), token, {}, {}, other.privateKey);
      await expectProofRefused(token, proof, 'dpop_proof_signature', /does not verify/);
    });

    it('a jwk that does not fit alg (a P-256 key with alg RS256)', async () => {
      const token = bound();
      const proof = client.proof('GET', url(), token, {}, { alg: 'RS256' });
      await expectProofRefused(token, proof, 'dpop_proof_jwk', /RS256/);
    });

    it('another method (htm)', async () => {
      const token = bound();
      const proof = client.proof('POST', url(), token);
      await expectProofRefused(token, proof, 'dpop_proof_htm', /htm is "POST".*method is GET/);
    });

    it.each([
      ['another path', (b: string) => `${b}/scoped`],
      ['another host', () => 'http://api.example.com/private'],
      ['another scheme', (b: string) => b.replace('http:', 'https:') + '/private'],
      ['not a URL', () => 'private'],
      ['a percent-encoded reserved character', (b: string) => `${b}/priv%2Fate`],
      [
        'userinfo (RFC 9110 §4.2.4)',
        (b: string) => b.replace('http://', 'http://user:pass@') + '/private',
      ],
    ])('htu with %s', async (_name, htu) => {
      const token = bound();
      const proof = client.proof('GET', url(), token, { htu: htu(base) });
      await expectProofRefused(token, proof, 'dpop_proof_htu', /htu/);
    });

    it.each([
      ['a query', (b: string) => `${b}/private?x=1`],
      ['a fragment', (b: string) => `${b}/private#f`],
      [
        'an upper-case scheme and a percent-encoded unreserved character',
        (b: string) => `${b.replace('http:', 'HTTP:')}/%70riv%61te`,
      ],
      ['dot segments', (b: string) => `${b}/scoped/../private`],
    ])(
      'accepts an htu with %s: compared without query and fragment, normalized (RFC 3986 §6.2.2)',
      async (_name, htu) => {
        const token = bound();
        const proof = client.proof('GET', url(), token, { htu: htu(base) });
        expect((await send(token, proof)).status).toBe(200);
      },
    );

    it.each([
      ['too old', -400, /made 40\d s ago/],
      ['in the future', 400, /made (39\d|400) s in the future/],
      ['not a number', 'now', /NumericDate/],
    ])('iat %s', async (_name, offset, message) => {
      const token = bound();
      const iat = typeof offset === 'number' ? now() + offset : offset;
      await expectProofRefused(
        token,
        client.proof('GET', url(), token, { iat }),
        'dpop_proof_iat',
        message,
      );
    });

    it.each([[undefined], [''], [42]])('jti %p', async (jti) => {
      const token = bound();
      const proof = client.proof('GET', url(), token, { jti });
      await expectProofRefused(token, proof, 'dpop_proof_jti', /must have a jti/);
    });

    it('a replayed proof (same jti)', async () => {
      const token = bound();
      const proof = client.proof('GET', url(), token);
      expect((await send(token, proof)).status).toBe(200);
      await expectProofRefused(token, proof, 'dpop_proof_replayed', /used before/);
    });

    it('a proof for another token (ath)', async () => {
      const token = bound();
      const proof = client.proof('GET', url(), bound(client, { jti: 'another token' }));
      await expectProofRefused(token, proof, 'dpop_proof_ath', /another token/);
    });

    it('a proof without ath', async () => {
      const token = bound();
      const proof = client.proof('GET', url(), undefined);
      await expectProofRefused(token, proof, 'dpop_proof_ath', /has no ath/);
    });

    it('a proof by another key than the one the token is bound to (cnf.jkt)', async () => {
      const thief = new DpopKey();
      const token = bound();
      const proof = thief.proof('GET', url(), token);
      await expectProofRefused(token, proof, 'dpop_key_mismatch', /another key/);
    });

    const rsa = new DpopKey('RS256');
    /** A fabricated RSA modulus of `bits` bits (only its size is checked before the signature). */
    const modulus = (bits: number) =>
      Buffer.concat([Buffer.from([0x80]), randomBytes(bits / 8 - 1)]).toString('base64url');

    it.each([
      ['a huge public exponent e', { e: modulus(3064) }, /exponent e .*only 65537/],
      ['e = 3', { e: 'Aw' }, /exponent e "Aw"/],
      ['a 1024-bit modulus', { n: modulus(1024) }, /1024-bit modulus n; 2048 to 4096/],
      ['an 8192-bit modulus', { n: modulus(8192) }, /8192-bit modulus n; 2048 to 4096/],
    ])(
      'an RSA jwk with %s (costly to verify), before any signature check',
      async (_n, jwk, why) => {
        const token = bound(rsa);
        const proof = rsa.proof('GET', url(), token, {}, { jwk: { ...rsa.publicJwk, ...jwk } });
        await expectProofRefused(token, proof, 'dpop_proof_jwk', why);
      },
    );

    it('an EC jwk on another curve than its alg names (P-384 with ES256)', async () => {
      const token = bound();
      const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' }).publicKey.export({
        format: 'jwk',
      });
      const proof = client.proof('GET', url(), token, {}, { jwk: p384 });
      await expectProofRefused(token, proof, 'dpop_proof_jwk', /curve "P-384"; alg ES256/);
    });

    it('a proof of more than 8192 characters', async () => {
      const token = bound();
      const proof = client.proof('GET', url(), token, { pad: 'x'.repeat(9000) });
      await expectProofRefused(token, proof, 'dpop_proof_malformed', /at most 8192/);
    });

    /** A proof's header and payload segments for `token`, the payload ending with unused bits. */
    function unalignedSegments(token: string): [string, string] {
      const [header, payload] = client.proof('GET', url(), token).split('.');
      if (payload.length % 4 !== 0) return [header, payload];
      return client.proof('GET', url(), token, { pad: 'a' }).split('.') as [string, string];
    }
    const signed = (header: string, payload: string) =>
      rememberToken(signInput(`${header}.${payload}`, 'ES256', client.privateKey));

    it('a payload segment that is not canonical base64url, signed as sent', async () => {
      const token = bound();
      const [header, payload] = unalignedSegments(token);
      const proof = signed(header, withUnusedBits(payload));
      await expectProofRefused(token, proof, 'dpop_proof_malformed', /not canonical base64url/);
    });

    it('claims that are not UTF-8 (an overlong "/" in jti)', async () => {
      const token = bound();
      const [header, payload] = unalignedSegments(token);
      const text = Buffer.from(payload, 'base64url').toString('utf8');
      const at = text.indexOf('"jti":"') + '"jti":"'.length;
      const claims = Buffer.concat([
        Buffer.from(text.slice(0, at)),
        Buffer.from([0xc0, 0xaf]),
        Buffer.from(text.slice(at)),
      ]);
      const proof = signed(header, claims.toString('base64url'));
      await expectProofRefused(token, proof, 'invalid_encoding', /not valid UTF-8/);
    });
  });

  describe('verifies a proof signature only for the holder of a valid token bound to its key', () => {
    /** A proof with `jwk`'s header and claims, but a signature by a key nobody binds. */
    const forged = (token: string, jwk = client.publicJwk) =>
      client.proof('GET', `${base}/private`, token, {}, { jwk }, new DpopKey().privateKey);

    it.each([
      ['a forged token', () => `${bound().slice(0, -4)}AAAA`, 'signature_invalid'],
      ['an expired bound token', () => bound(client, { exp: now() - 60 }), 'token_expired'],
      [
        'a token of another audience',
        () => bound(client, { aud: 'https://other.example' }),
        'audience_mismatch',
      ],
      ['a valid token not bound to a key', () => ks.token(), 'dpop_token_not_bound'],
    ])("%s: the token's refusal, not the forged proof's", async (_name, make, reason) => {
      const token = make();
      const res = await send(token, forged(token));
      expect([res.status, res.body.error, res.body.reason]).toEqual([401, 'invalid_token', reason]);
      expect(res.headers['www-authenticate']).toMatch(/^DPoP realm="api", error="invalid_token"/);
    });

    it('a valid token bound to another key (a first and a cached use): dpop_key_mismatch', async () => {
      const token = bound();
      expect((await send(token, client.proof('GET', `${base}/private`, token))).status).toBe(200);
      const thief = new DpopKey();
      for (let use = 0; use < 2; use++)
        await expectProofRefused(
          token,
          forged(token, thief.publicJwk),
          'dpop_key_mismatch',
          /another key/,
        );
    });

    it('a valid token bound to its key: then the signature is checked', async () => {
      const token = bound();
      await expectProofRefused(token, forged(token), 'dpop_proof_signature', /does not verify/);
    });
  });

  describe('refuses a token presented against its binding', () => {
    it('a bound token sent as a bearer token', async () => {
      const res = await request(base).get('/private').set('Authorization', `Bearer ${bound()}`);
      expect([res.status, res.body.reason]).toEqual([401, 'sender_constrained_token']);
      expect(res.body.message).toMatch(/Authorization: DPoP/);
      expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
    });

    it('accepts a bound token whose cnf has a member beside jkt (RFC 7800 §3.1, Keycloak)', async () => {
      const token = ks.token({ cnf: { jkt: client.jkt, 'kc-jkt-type': 'DPoP' } });
      const res = await send(token, client.proof('GET', `${base}/private`, token));
      expect(res.status).toBe(200);
      // And it is still bound: without its proof it is refused.
      const bearer = await request(base).get('/private').set('Authorization', `Bearer ${token}`);
      expect(bearer.body.reason).toBe('sender_constrained_token');
    });

    it('an unbound token sent with the DPoP scheme', async () => {
      const token = ks.token();
      const res = await send(token, client.proof('GET', `${base}/private`, token));
      expect([res.status, res.body.reason]).toEqual([401, 'dpop_token_not_bound']);
      expect(res.headers['www-authenticate']).toMatch(/^DPoP realm="api", error="invalid_token"/);
    });

    it.each([
      ['a cnf member it cannot check', { 'x5t#S256': 'abc' }],
      ['only cnf members it does not understand', { jwk: { kty: 'EC' }, 'kc-jkt-type': 'DPoP' }],
      ['a cnf that is not an object', 'jkt'],
      ['an empty cnf', {}],
      ['a cnf.jkt that is not a string', { jkt: 42 }],
    ])('%s', async (_name, cnf) => {
      const token = ks.token({ cnf });
      const res = await send(token, client.proof('GET', `${base}/private`, token));
      expect([res.status, res.body.reason]).toEqual([401, 'unsupported_cnf']);
    });

    it('a token that fails its own checks, with a good proof: invalid_token in a DPoP challenge', async () => {
      const token = bound(client, { exp: now() - 60 });
      const res = await send(token, client.proof('GET', `${base}/private`, token));
      expect([res.status, res.body.reason]).toEqual([401, 'token_expired']);
      expect(res.headers['www-authenticate']).toMatch(/^DPoP realm="api", error="invalid_token"/);
    });

    it('a scope it lacks: 403 in a DPoP challenge', async () => {
      const token = bound(client, { scope: 'other' });
      const res = await send(token, client.proof('GET', `${base}/scoped`, token), '/scoped');
      expect(res.status).toBe(403);
      expect(res.headers['www-authenticate']).toMatch(
        /^DPoP realm="api", error="insufficient_scope"/,
      );
    });
  });

  describe('opaque tokens whose introspection answer has cnf.jkt', () => {
    const opaque = (answer: Record<string, unknown>) =>
      ks.activeOpaqueToken({ sub: 'auth0|user-2', ...answer });

    it('accepts one with a proof of its key', async () => {
      const token = opaque({ cnf: { jkt: client.jkt }, token_type: 'DPoP' });
      const res = await send(token, client.proof('GET', `${base}/private`, token));
      expect([res.status, res.body]).toEqual([200, { sub: 'auth0|user-2' }]);
    });

    it('refuses one sent as a bearer token, and one with a proof of another key', async () => {
      const token = opaque({ cnf: { jkt: client.jkt } });
      const bearer = await request(base).get('/private').set('Authorization', `Bearer ${token}`);
      expect(bearer.body.reason).toBe('sender_constrained_token');
      const thief = new DpopKey();
      const res = await send(token, thief.proof('GET', `${base}/private`, token));
      expect(res.body.reason).toBe('dpop_key_mismatch');
    });

    it('refuses one that introspection calls DPoP without saying to which key', async () => {
      const token = opaque({ token_type: 'DPoP' });
      const res = await request(base).get('/private').set('Authorization', `Bearer ${token}`);
      expect([res.status, res.body.reason]).toEqual([401, 'unsupported_cnf']);
    });
  });
});

describe.each(PLATFORMS)('DPoP modes and URLs (%s)', (platform) => {
  let ks: KeyServer;
  const apps: INestApplication[] = [];
  const client = new DpopKey();

  beforeAll(async () => {
    ks = await KeyServer.start();
    ks.keys.push(generateKey('ES256'));
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await ks.stop();
  });

  async function start(dpop: AuthModuleOptions['dpop']): Promise<string> {
    const app = await createFixtureApp(
      { issuerUrl: ks.issuer, audience: ks.audience, dpop },
      { platform },
    );
    apps.push(app);
    return listen(app);
  }

  it('required: refuses a bearer token, and challenges with DPoP only', async () => {
    const base = await start({ mode: 'required', algorithms: ['ES256'] });
    const res = await request(base).get('/private').set('Authorization', `Bearer ${ks.token()}`);
    expect([res.status, res.body.reason]).toEqual([401, 'dpop_required']);
    expect(res.headers['www-authenticate']).toMatch(
      /^DPoP realm="api", error="invalid_token", .*algs="ES256"$/,
    );
    const none = await request(base).get('/private');
    expect(none.headers['www-authenticate']).toMatch(
      /^DPoP realm="api"(, resource_metadata="[^"]+")?, algs="ES256"$/,
    );
    const token = ks.token({ cnf: { jkt: client.jkt } });
    const ok = await request(base)
      .get('/private')
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', client.proof('GET', `${base}/private`, token));
    expect(ok.status).toBe(200);
  });

  it('disabled: the DPoP scheme is not recognised and bound tokens are refused', async () => {
    const base = await start({ mode: 'disabled' });
    const token = ks.token({ cnf: { jkt: client.jkt } });
    const dpop = await request(base)
      .get('/private')
      .set('Authorization', `DPoP ${token}`)
      .set('DPoP', client.proof('GET', `${base}/private`, token));
    expect([dpop.status, dpop.headers['www-authenticate']]).toEqual([
      401,
      expect.stringMatching(/^Bearer realm="api"(, resource_metadata="[^"]+")?$/),
    ]);
    const bearer = await request(base).get('/private').set('Authorization', `Bearer ${token}`);
    expect(bearer.body.reason).toBe('sender_constrained_token');
  });

  it('publicBaseUrl: htu is checked against the public URL, not the Host the proxy sent', async () => {
    const base = await start({ publicBaseUrl: 'https://api.example.com/v1/' });
    const token = ks.token({ cnf: { jkt: client.jkt } });
    const call = (htu: string) =>
      request(base)
        .get('/private')
        .set('Authorization', `DPoP ${token}`)
        .set('DPoP', client.proof('GET', htu, token));
    expect((await call('https://api.example.com/v1/private')).status).toBe(200);
    expect((await call(`${base}/private`)).body.reason).toBe('dpop_proof_htu');
  });

  describe('without publicBaseUrl: htu only for the origins the API is known by', () => {
    let base: string;
    const token = () => ks.token({ cnf: { jkt: client.jkt } });
    const call = (host: string | undefined, htu: string, path = '/private') => {
      const t = token();
      const req = request(base)
        .get(path)
        .set('Authorization', `DPoP ${t}`)
        .set('DPoP', client.proof('GET', htu, t));
      return host === undefined ? req : req.set('Host', host);
    };

    beforeAll(async () => {
      base = await start({});
    });

    it('refuses a proof made for another server, replayed here under its Host (a forged Host)', async () => {
      const res = await call('api.other.example', 'http://api.other.example/private');
      expect([res.status, res.body.reason]).toEqual([401, 'dpop_proof_htu']);
      expect(res.body.message).toMatch(
        /Host header "api.other.example" is not an origin .*dpop\.publicBaseUrl/,
      );
    });

    it('accepts the origins of its URL audiences (and RFC 9728 resource), whatever the Host', async () => {
      // ks.audience is https://api.test.local: a proxy that ends TLS sends http and that Host.
      expect((await call('api.test.local', 'https://api.test.local/private')).status).toBe(200);
      expect((await call('10.0.0.7:8080', 'https://api.test.local/private')).status).toBe(200);
      expect((await call('api.test.local', 'https://api.test.local/scoped')).body.reason).toBe(
        'dpop_proof_htu',
      );
    });

    it('accepts loopback hosts, for development', async () => {
      const port = new URL(base).port;
      expect((await call(`localhost:${port}`, `http://localhost:${port}/private`)).status).toBe(
        200,
      );
      expect((await call(undefined, `${base}/private`)).status).toBe(200);
    });

    it.each([
      ['the API origin', 'api.test.local', 'https://api.test.local'],
      ['a loopback host', 'localhost', 'http://localhost'],
      ['an unknown host', 'api.other.example', 'http://api.other.example'],
    ])(
      'never takes the path from a Host (%s): an unused proof for /scoped is refused on /private with 400',
      async (_what, host, origin) => {
        for (const tail of ['/scoped?', '/scoped#', '/scoped?x=']) {
          // The attack: the proof was made for GET /scoped, and is sent to /private, with a Host
          // that, pasted before the path, would make the URL read /scoped.
          const res = await call(`${host}${tail}`, `${origin}/scoped`);
          expect([res.status, res.body.error, res.body.reason]).toEqual([
            400,
            'invalid_request',
            'invalid_host_header',
          ]);
        }
      },
    );

    it('refuses every DPoP request when no identifier is a URL and the Host is not loopback', async () => {
      const opaqueNamed = await createFixtureApp(
        { issuerUrl: ks.issuer, audience: ['urn:api:test'], protectedResource: false },
        { platform },
      );
      apps.push(opaqueNamed);
      const named = await listen(opaqueNamed);
      const t = ks.token({ cnf: { jkt: client.jkt }, aud: 'urn:api:test' });
      const res = await request(named)
        .get('/private')
        .set('Host', 'api.example.com')
        .set('Authorization', `DPoP ${t}`)
        .set('DPoP', client.proof('GET', 'http://api.example.com/private', t));
      expect([res.status, res.body.reason]).toEqual([401, 'dpop_proof_htu']);
      expect(res.body.message).toMatch(/cannot tell its own URL.*must set dpop\.publicBaseUrl/);
    });
  });

  it('a full replay cache (no cache.store) refuses new proofs with 503, never forgets a jti', async () => {
    const base = await start({ maxReplayEntries: 100 });
    // Two keys fill it, each with its share (half of the capacity).
    const keys = [client, new DpopKey()];
    const tokens = keys.map((key) => ks.token({ cnf: { jkt: key.jkt } }));
    const call = (token: string, proof: string) =>
      request(base).get('/private').set('Authorization', `DPoP ${token}`).set('DPoP', proof);
    const captured = client.proof('GET', `${base}/private`, tokens[0]);
    expect((await call(tokens[0], captured)).status).toBe(200);
    for (let i = 1; i < 100; i++) {
      const token = tokens[i % 2];
      const proof = keys[i % 2].proof('GET', `${base}/private`, token);
      expect((await call(token, proof)).status).toBe(200);
    }
    const third = new DpopKey();
    const token = ks.token({ cnf: { jkt: third.jkt } });
    const full = await call(token, third.proof('GET', `${base}/private`, token));
    expect([full.status, full.body.reason]).toEqual([503, 'replay_cache_full']);
    expect(Number(full.headers['retry-after'])).toBeGreaterThanOrEqual(1);
    // The attack: once the cache is full, the first proof captured is replayed.
    expect((await call(tokens[0], captured)).body.reason).toBe('dpop_proof_replayed');
  });

  it("one key's flood of proofs (no cache.store) is refused for that key alone, 401 dpop_replay_share_exceeded", async () => {
    const base = await start({ maxReplayEntries: 100 });
    const { generateKeyPair, generateProof, calculateThumbprint } = await import('dpop');
    const holder = async () => {
      const keyPair = await generateKeyPair('ES256');
      const token = ks.token({ cnf: { jkt: await calculateThumbprint(keyPair.publicKey) } });
      return async () => {
        const proof = rememberToken(
          await generateProof(keyPair, `${base}/private`, 'GET', undefined, token),
        );
        const res = await request(base)
          .get('/private')
          .set('Authorization', `DPoP ${token}`)
          .set('DPoP', proof);
        return { status: res.status, reason: res.body.reason as string | undefined, res };
      };
    };
    const [flooder, busy, late] = await Promise.all([holder(), holder(), holder()]);
    const flood: Array<{ status: number; reason?: string }> = [];
    const busyAnswers: number[] = [];
    // 160 proofs of one key within seconds, 20 of a busy honest key among them.
    for (let i = 0; i < 160; i++) {
      const { status, reason } = await flooder();
      flood.push({ status, reason });
      if (i % 8 === 0) busyAnswers.push((await busy()).status);
    }
    // A key first seen after the flood finds room.
    const lateAnswers: number[] = [];
    for (let i = 0; i < 3; i++) lateAnswers.push((await late()).status);
    expect({ busy: busyAnswers, late: lateAnswers }).toEqual({
      busy: new Array(20).fill(200),
      late: [200, 200, 200],
    });
    expect(flood.slice(0, 50).every((answer) => answer.status === 200)).toBe(true);
    expect(flood.slice(50)).toEqual(
      new Array(110).fill({ status: 401, reason: 'dpop_replay_share_exceeded' }),
    );
    const refused = await flooder();
    expect(refused.res.headers['www-authenticate']).toMatch(
      /^DPoP realm="api", error="invalid_dpop_proof", error_description="[^"]+"/,
    );
  });

  it('trustForwardedHeaders: an X-Forwarded-Host that is not host[:port] gets 400, never a path', async () => {
    const trusting = await start({ trustForwardedHeaders: true });
    const token = ks.token({ cnf: { jkt: client.jkt } });
    const res = await request(trusting)
      .get('/private')
      .set('Authorization', `DPoP ${token}`)
      .set('X-Forwarded-Proto', 'https')
      .set('X-Forwarded-Host', 'api.example.com/scoped?')
      .set('DPoP', client.proof('GET', 'https://api.example.com/scoped', token));
    expect([res.status, res.body.reason]).toEqual([400, 'invalid_host_header']);
  });

  it('trustForwardedHeaders: htu from X-Forwarded-Proto and X-Forwarded-Host, and only then', async () => {
    const trusting = await start({ trustForwardedHeaders: true });
    const plain = await start({});
    const token = ks.token({ cnf: { jkt: client.jkt } });
    const call = (base: string) =>
      request(base)
        .get('/private?page=2')
        .set('Authorization', `DPoP ${token}`)
        .set('X-Forwarded-Proto', 'https')
        .set('X-Forwarded-Host', 'API.example.com, proxy.internal')
        .set('DPoP', client.proof('GET', 'https://api.example.com/private', token));
    expect((await call(trusting)).status).toBe(200);
    expect((await call(plain)).body.reason).toBe('dpop_proof_htu');
  });
});
