import { createSecretKey, generateKeyPairSync } from 'node:crypto';
import { optionError, resolverOf } from '../../test/support/auth-options';
import { verifyHmac } from './hmac-secret';

const secret = 'a-signing-secret-of-at-least-32-bytes!';
const base = { issuerUrl: 'https://tenant.auth0.com/', audience: 'https://api.example.com' };

const resolve = resolverOf(base);
const message = (fn: () => unknown) => optionError(fn).message;

describe('the secret option (HS256)', () => {
  it('resolves to HMAC with HS256 by default, and keeps the secret out of the options', () => {
    const resolved = resolve({ secret });
    expect([resolved.keySource, resolved.algorithms]).toEqual(['secret', ['HS256']]);
    expect(JSON.stringify(resolved)).not.toContain(secret);
    expect(
      resolve({ secret: Buffer.alloc(64, 1), algorithms: ['HS512', 'HS256'] }).algorithms,
    ).toEqual(['HS512', 'HS256']);
  });

  it('accepts a secret as long as the hash of every algorithm listed (RFC 7518 §3.2)', () => {
    expect(resolve({ secret: 'x'.repeat(48), algorithms: ['HS384'] }).algorithms).toEqual([
      'HS384',
    ]);
    expect(resolve({ secret: Buffer.alloc(64), algorithms: ['HS256', 'HS512'] }).keySource).toBe(
      'secret',
    );
  });

  const { publicKey } = generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const pem = publicKey.export({ format: 'pem', type: 'spki' }).toString();
  const jwk = JSON.stringify(publicKey.export({ format: 'jwk' }));

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'a short secret',
      { secret: 'x'.repeat(31) },
      /'secret': must be at least 32 bytes \(it has 31\)/,
    ],
    [
      'a 47-byte secret with HS384',
      { secret: 'x'.repeat(47), algorithms: ['HS384'] },
      /'secret': must be at least 48 bytes for HS384 \(it has 47\)/,
    ],
    [
      'a 63-byte secret with HS512',
      { secret: 'x'.repeat(63), algorithms: ['HS256', 'HS512'] },
      /'secret': must be at least 64 bytes for HS512 \(it has 63\)/,
    ],
    ['a number', { secret: 42 }, /'secret': must be a string or a Uint8Array/],
    [
      'a public key PEM',
      { secret: pem },
      /'secret': looks like a key \(PEM or JWK\), not an HMAC secret/,
    ],
    ['a public JWK', { secret: jwk }, /'secret': looks like a key/],
    [
      'an empty algorithms list with a secret',
      { secret, algorithms: [] },
      /'algorithms': must be a non-empty array/,
    ],
    [
      'algorithms that is not a list, with a secret',
      { secret, algorithms: 'HS256' },
      /'algorithms': must be a non-empty array/,
    ],
    [
      'RS256 with a secret',
      { secret, algorithms: ['RS256'] },
      /'algorithms': RS256 not accepted with secret: choose from HS256, HS384, HS512/,
    ],
    [
      'jwksUri with a secret',
      { secret, jwksUri: 'https://tenant.auth0.com/jwks' },
      /'jwksUri': cannot be set with secret/,
    ],
    [
      'a per-issuer jwksUri with a secret',
      {
        secret,
        issuerUrl: [
          base.issuerUrl,
          { url: 'https://b.example/', jwksUri: 'https://b.example/jwks' },
        ],
      },
      /'issuerUrl\[1\]\.jwksUri': cannot be set with secret/,
    ],
    [
      'a secret with several issuers',
      { secret, issuerUrl: [base.issuerUrl, 'https://b.example/'] },
      /'secret': cannot be used with 2 issuers: one HMAC secret cannot keep issuers apart/,
    ],
    [
      'HS256 without a secret',
      { algorithms: ['HS256'] },
      /'algorithms': HS256 not supported; .*HMAC only with secret/,
    ],
  ])('refuses %s, naming the option', (_name, overrides, expected) => {
    const text = message(() => resolve(overrides));
    expect(text).toMatch(expected);
    expect(text).not.toContain(typeof overrides.secret === 'string' ? overrides.secret : secret);
  });

  it('compares signatures of any length without throwing', () => {
    const secretKey = createSecretKey(Buffer.from(secret));
    expect(verifyHmac('HS256', secretKey, Buffer.from('a.b'), Buffer.alloc(0))).toBe(false);
    expect(verifyHmac('HS256', secretKey, Buffer.from('a.b'), Buffer.alloc(64))).toBe(false);
  });
});
