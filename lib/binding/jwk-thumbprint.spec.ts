import { generateKeyPairSync } from 'node:crypto';
import { calculateJwkThumbprint, type JWK } from 'jose';
import { jwkThumbprint } from './jwk-thumbprint';

/** RFC 7638 §3.1: the RSA key of the example, and its SHA-256 thumbprint. */
const RFC7638_KEY = {
  kty: 'RSA',
  n:
    '0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zwu1RK7aPFFxuhDR1L6tSoc_BJECP' +
    'ebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2Qvz' +
    'qY368QQMicAtaSqzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhAI4vMQFh6WeZ' +
    'u0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU8awapJzKnqDKgw',
  e: 'AQAB',
  alg: 'RS256',
  kid: '2011-04-29',
};

describe('jwkThumbprint (RFC 7638, SHA-256)', () => {
  it("gives RFC 7638 §3.1's thumbprint for its example key", () => {
    expect(jwkThumbprint(RFC7638_KEY)).toBe('NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs');
  });

  const keys = [
    ['EC P-256', () => generateKeyPairSync('ec', { namedCurve: 'P-256' })],
    ['EC P-384', () => generateKeyPairSync('ec', { namedCurve: 'P-384' })],
    ['EC P-521', () => generateKeyPairSync('ec', { namedCurve: 'P-521' })],
    ['OKP Ed25519', () => generateKeyPairSync('ed25519')],
    ['OKP Ed448', () => generateKeyPairSync('ed448')],
    ['RSA 2048', () => generateKeyPairSync('rsa', { modulusLength: 2048 })],
  ] as const;

  it.each(keys)('agrees with jose for a generated %s key', async (_name, generate) => {
    const jwk = generate().publicKey.export({ format: 'jwk' }) as Record<string, string>;
    const withExtras = { ...jwk, kid: 'k1', use: 'sig', alg: 'whatever' };
    const expected = await calculateJwkThumbprint(jwk as JWK, 'sha256');
    expect(jwkThumbprint(withExtras)).toBe(expected);
    expect(jwkThumbprint(Object.fromEntries(Object.entries(jwk).reverse()))).toBe(expected);
  });

  it.each([
    ['EC without y', { kty: 'EC', crv: 'P-256', x: 'AA' }],
    ['EC with a numeric x', { kty: 'EC', crv: 'P-256', x: 1, y: 'AA' }],
    ['OKP without crv', { kty: 'OKP', x: 'AA' }],
    ['RSA with a null n', { kty: 'RSA', e: 'AQAB', n: null }],
    ['RSA with an object e', { kty: 'RSA', e: {}, n: 'AA' }],
    ['an unknown kty', { kty: 'oct', k: 'AA' }],
    ['no kty', { crv: 'P-256', x: 'AA', y: 'AA' }],
    ['kty "constructor"', { kty: 'constructor' }],
  ])('has none for %s', (_name, jwk) => {
    expect(jwkThumbprint(jwk)).toBeUndefined();
  });
});
