import type { INestApplication } from '@nestjs/common';
import { createFixtureApp, PLATFORMS, type FixtureOptions } from '../support/create-fixture-app';
import { DpopKey } from '../support/dpop-proofs';
import { KeyServer } from '../support/key-server';
import { listen } from '../support/listen';
import { makeTlsIdentities, tlsGet, type TlsAnswer } from '../support/tls-certificates';
import type { AuthModuleOptions, MtlsOptions } from '../../lib';

/** Per-run certificates: the server's, the client's the tokens are bound to, and another. */
const tls = makeTlsIdentities('alice', 'mallory');
const { alice, mallory } = tls;

function expectRefused(res: TlsAnswer, status: number, reason: string, mentions?: RegExp) {
  expect({ status: res.status, reason: res.body.reason }).toEqual({ status, reason });
  if (status === 401) {
    expect(res.headers['www-authenticate']).toMatch(/^Bearer realm="api", error="invalid_token"/);
  }
  if (mentions) expect(res.body.message).toMatch(mentions);
}

/** RFC 8705 §3 on a resource server: certificate-bound tokens, over a real TLS server. */
describe.each(PLATFORMS)('certificate-bound tokens (RFC 8705) (%s)', (platform) => {
  let ks: KeyServer;
  const apps: INestApplication[] = [];

  async function start(mtls: MtlsOptions | undefined, fixture: FixtureOptions = {}) {
    const options: AuthModuleOptions = {
      issuerUrl: ks.issuer,
      audience: ks.audience,
      opaqueTokens: 'introspection',
      introspection: { ...ks.introspectionClient },
      ...(mtls ? { mtls } : {}),
    };
    const app = await createFixtureApp(options, { platform, ...fixture });
    apps.push(app);
    return listen(app, fixture.https ? 'https' : 'http');
  }

  beforeAll(async () => {
    ks = await KeyServer.start();
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await ks.stop();
  });

  /** A JWT bound to `thumbprint` (cnf x5t#S256). */
  const bound = (thumbprint = alice.thumbprint, cnf: Record<string, unknown> = {}) =>
    ks.token({ cnf: { 'x5t#S256': thumbprint, ...cnf } });

  const bearer = (token: string, headers: Record<string, string | string[]> = {}) => ({
    Authorization: `Bearer ${token}`,
    ...headers,
  });

  describe('over HTTPS, with the TLS connection’s client certificate', () => {
    let base: string;
    const get = (token: string, client?: typeof alice, headers = {}, path = '/private') =>
      tlsGet(`${base}${path}`, { ca: tls.server.cert, client, headers: bearer(token, headers) });

    beforeAll(async () => {
      base = await start(undefined, {
        https: {
          key: tls.server.key,
          cert: tls.server.cert,
          requestCert: true,
          rejectUnauthorized: false,
        },
      });
    });

    it('accepts a bound token on a connection presenting its certificate (self-signed)', async () => {
      const res = await get(bound(), alice);
      expect([res.status, res.body]).toEqual([200, { sub: 'auth0|user-1' }]);
    });

    it('refuses it on a connection without a client certificate', async () => {
      expectRefused(
        await get(bound()),
        401,
        'certificate_missing',
        /presented no client certificate/,
      );
    });

    it('refuses it on a connection with another certificate', async () => {
      expectRefused(
        await get(bound(), mallory),
        401,
        'certificate_mismatch',
        /another client certificate/,
      );
    });

    it('checks the certificate on every request: a token accepted once is not let through after', async () => {
      const token = bound();
      expect((await get(token, alice)).status).toBe(200);
      expectRefused(await get(token, mallory), 401, 'certificate_mismatch');
      expectRefused(await get(token), 401, 'certificate_missing');
      expect((await get(token, alice)).status).toBe(200);
    });

    it('ignores a certificate header a client sends when none is configured', async () => {
      const header = { 'client-cert': `:${alice.der.toString('base64')}:` };
      expectRefused(await get(bound(), mallory, header), 401, 'certificate_mismatch');
      expectRefused(await get(bound(), undefined, header), 401, 'certificate_missing');
    });

    it('leaves unbound tokens alone, with or without a certificate', async () => {
      expect((await get(ks.token())).status).toBe(200);
      expect((await get(ks.token(), mallory)).status).toBe(200);
    });

    it.each([
      ['not base64url', 'a'.repeat(42) + '!'],
      ['too short', alice.thumbprint.slice(0, 40)],
      ['hex, not base64url', 'ab'.repeat(32)],
      ['a number', 42],
    ])('refuses a thumbprint that is %s (unsupported_cnf)', async (_case, thumbprint) => {
      const token = ks.token({ cnf: { 'x5t#S256': thumbprint } });
      expectRefused(await get(token, alice), 401, 'unsupported_cnf', /x5t#S256/);
    });

    describe('an opaque token whose introspection answer has cnf x5t#S256', () => {
      const opaque = (thumbprint: string) =>
        ks.activeOpaqueToken({ sub: 'auth0|user-2', cnf: { 'x5t#S256': thumbprint } });

      it('is accepted with its certificate, refused with another or none', async () => {
        const token = opaque(alice.thumbprint);
        expect([(await get(token, alice)).status, (await get(token, alice)).body]).toEqual([
          200,
          { sub: 'auth0|user-2' },
        ]);
        expectRefused(await get(token, mallory), 401, 'certificate_mismatch');
        expectRefused(await get(token), 401, 'certificate_missing');
      });
    });

    describe('a token bound both to a DPoP key and to a certificate: both are checked', () => {
      const key = new DpopKey();
      const both = () => bound(alice.thumbprint, { jkt: key.jkt });
      const dpop = (token: string) => ({
        Authorization: `DPoP ${token}`,
        DPoP: key.proof('GET', `${base}/private`, token),
      });
      const send = (headers: Record<string, string>, client?: typeof alice) =>
        tlsGet(`${base}/private`, { ca: tls.server.cert, client, headers });

      it('is accepted with a proof of its key over a connection with its certificate', async () => {
        const token = both();
        expect((await send(dpop(token), alice)).status).toBe(200);
      });

      it('is refused with the proof but without the certificate, or with another', async () => {
        const token = both();
        expect((await send(dpop(token))).body.reason).toBe('certificate_missing');
        expect((await send(dpop(token), mallory)).body.reason).toBe('certificate_mismatch');
      });

      it('is refused with the certificate but as a bearer token (no proof)', async () => {
        const res = await send(bearer(both()), alice);
        expect([res.status, res.body.reason]).toEqual([401, 'sender_constrained_token']);
      });
    });
  });

  describe('over plain HTTP', () => {
    it('refuses a bound token, saying it did not come over TLS; a forged header is ignored', async () => {
      const base = await start(undefined);
      const header = { 'client-cert': `:${alice.der.toString('base64')}:` };
      const res = await tlsGet(`${base}/private`, { headers: bearer(bound(), header) });
      expectRefused(res, 401, 'certificate_missing', /did not come over TLS/);
      expect((await tlsGet(`${base}/private`, { headers: bearer(ks.token()) })).status).toBe(200);
    });
  });

  describe('behind a TLS-terminating proxy: the trusted header (RFC 9440 Client-Cert)', () => {
    let base: string;
    const get = (token: string, headers: Record<string, string | string[]> = {}) =>
      tlsGet(`${base}/private`, { headers: bearer(token, headers) });
    const header = (value: string | string[]) => ({ 'Client-Cert': value });
    const byteSequence = (der: Buffer) => `:${der.toString('base64')}:`;

    beforeAll(async () => {
      base = await start({ certificateHeader: { name: 'Client-Cert', encoding: 'rfc9440' } });
    });

    it('accepts a bound token with its certificate in the header, refuses another or none', async () => {
      expect((await get(bound(), header(byteSequence(alice.der)))).status).toBe(200);
      expectRefused(
        await get(bound(), header(byteSequence(mallory.der))),
        401,
        'certificate_mismatch',
      );
      expectRefused(
        await get(bound()),
        401,
        'certificate_missing',
        /no Client-Cert header|no client-cert header/,
      );
    });

    it.each([
      ['two header lines', [byteSequence(alice.der), byteSequence(alice.der)]],
      ['no colons', alice.der.toString('base64')],
      ['base64url instead of base64', `:${alice.der.toString('base64url')}:`],
      ['a PEM', `:${encodeURIComponent(alice.cert)}:`],
      [
        'bytes that are not a certificate',
        `:${Buffer.from('not a certificate').toString('base64')}:`,
      ],
      ['a truncated certificate', `:${alice.der.subarray(0, 200).toString('base64')}:`],
    ])('answers 400 for a header with %s, never 500', async (_case, value) => {
      const res = await get(bound(), header(value));
      expect([res.status, res.body.error, res.body.reason]).toEqual([
        400,
        'invalid_request',
        'certificate_header_malformed',
      ]);
      expect(res.body.message).toMatch(/client-cert/);
    });

    it('does not read the header for an unbound token', async () => {
      expect((await get(ks.token(), header('garbage'))).status).toBe(200);
    });
  });

  describe('behind a proxy sending a URL-encoded PEM (nginx $ssl_client_escaped_cert)', () => {
    let base: string;
    const get = (token: string, value?: string) =>
      tlsGet(`${base}/private`, {
        headers: bearer(token, value === undefined ? {} : { 'X-Client-Cert': value }),
      });

    beforeAll(async () => {
      base = await start({
        certificateHeader: { name: 'X-Client-Cert', encoding: 'url-encoded-pem' },
      });
    });

    it('accepts a bound token with its certificate, refuses another', async () => {
      expect((await get(bound(), encodeURIComponent(alice.cert))).status).toBe(200);
      expectRefused(
        await get(bound(), encodeURIComponent(mallory.cert)),
        401,
        'certificate_mismatch',
      );
      expectRefused(await get(bound(), ''), 401, 'certificate_missing');
    });

    it.each([
      ['a broken escape', '%E0%A4%A'],
      ['two certificates', encodeURIComponent(alice.cert + mallory.cert)],
      ['a private key', encodeURIComponent(alice.key)],
      ['an RFC 9440 byte sequence', `:${alice.der.toString('base64')}:`],
      [
        'a PEM whose body is not a certificate',
        encodeURIComponent('-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n'),
      ],
    ])('answers 400 for %s, never 500', async (_case, value) => {
      const res = await get(bound(), value);
      expect([res.status, res.body.reason]).toEqual([400, 'certificate_header_malformed']);
    });
  });

  describe('with mtls.mode disabled', () => {
    it('refuses every certificate-bound token, even with its certificate (unsupported_cnf)', async () => {
      const base = await start({
        mode: 'disabled',
        certificateHeader: { name: 'client-cert', encoding: 'rfc9440' },
      });
      const res = await tlsGet(`${base}/private`, {
        headers: bearer(bound(), { 'client-cert': `:${alice.der.toString('base64')}:` }),
      });
      expectRefused(res, 401, 'unsupported_cnf', /mtls.mode/);
    });
  });
});
