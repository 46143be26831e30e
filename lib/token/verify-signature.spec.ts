import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import type { SupportedAlgorithm } from './check-jwt-header';
import { verifySignature } from './verify-signature';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const input = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0');

function signWith(alg: SupportedAlgorithm, privateKey: KeyObject): Buffer {
  const hash = `sha${alg.slice(2)}`;
  if (alg.startsWith('PS')) {
    return sign(hash, input, {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
      saltLength: Number(alg.slice(2)) / 8,
    });
  }
  if (alg.startsWith('ES'))
    return sign(hash, input, { key: privateKey, dsaEncoding: 'ieee-p1363' });
  return sign(hash, input, privateKey);
}

describe('verifySignature', () => {
  it.each([
    ['RS256', rsa],
    ['RS512', rsa],
    ['PS256', rsa],
    ['PS384', rsa],
    ['ES256', p256],
    ['ES384', p384],
  ] as const)('accepts a genuine %s signature and refuses it altered', (alg, pair) => {
    const signature = signWith(alg, pair.privateKey);
    expect(verifySignature(alg, pair.publicKey, input, signature)).toBe(true);
    const altered = Buffer.from(signature);
    altered[altered.length - 1] ^= 1;
    expect(verifySignature(alg, pair.publicKey, input, altered)).toBe(false);
    expect(verifySignature(alg, pair.publicKey, Buffer.from(`${input}x`), signature)).toBe(false);
  });

  it.each([0, 1, 63, 65, 200])('refuses an ES256 signature of %i bytes', (length) => {
    expect(verifySignature('ES256', p256.publicKey, input, Buffer.alloc(length, 1))).toBe(false);
  });

  it('refuses (rather than throws) when node:crypto throws for the key', () => {
    const ed = generateKeyPairSync('ed25519');
    expect(verifySignature('RS256', ed.publicKey, input, Buffer.alloc(64))).toBe(false);
  });

  it('refuses an RS256 signature checked as PS256 and vice versa', () => {
    expect(verifySignature('PS256', rsa.publicKey, input, signWith('RS256', rsa.privateKey))).toBe(
      false,
    );
    expect(verifySignature('RS256', rsa.publicKey, input, signWith('PS256', rsa.privateKey))).toBe(
      false,
    );
  });
});
