import { constants, generateKeyPairSync, sign, type KeyObject } from 'node:crypto';
import { verifySignature, type SignatureAlgorithm } from './verify-signature';

const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 });
const p256 = generateKeyPairSync('ec', { namedCurve: 'P-256' });
const p384 = generateKeyPairSync('ec', { namedCurve: 'P-384' });
const ed25519 = generateKeyPairSync('ed25519');
const ed448 = generateKeyPairSync('ed448');
const input = Buffer.from('eyJhbGciOiJSUzI1NiJ9.eyJzdWIiOiIxIn0');

function signWith(alg: SignatureAlgorithm, privateKey: KeyObject): Buffer {
  if (alg === 'EdDSA' || alg === 'Ed25519') return sign(null, input, privateKey);
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

type Verify = (
  alg: SignatureAlgorithm,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
) => Promise<boolean>;

describe.each<[string, Verify]>([['verifySignature', async (...args) => verifySignature(...args)]])(
  '%s',
  (_, verify) => {
    it.each([
      ['RS256', rsa],
      ['RS512', rsa],
      ['PS256', rsa],
      ['PS384', rsa],
      ['ES256', p256],
      ['ES384', p384],
      ['EdDSA', ed25519],
      ['EdDSA', ed448],
      ['Ed25519', ed25519],
    ] as const)('accepts a genuine %s signature and refuses it altered', async (alg, pair) => {
      const signature = signWith(alg, pair.privateKey);
      await expect(verify(alg, pair.publicKey, input, signature)).resolves.toBe(true);
      const altered = Buffer.from(signature);
      altered[altered.length - 1] ^= 1;
      await expect(verify(alg, pair.publicKey, input, altered)).resolves.toBe(false);
      await expect(verify(alg, pair.publicKey, Buffer.from(`${input}x`), signature)).resolves.toBe(
        false,
      );
    });

    it.each([0, 1, 63, 65, 200])('refuses an ES256 signature of %i bytes', async (length) => {
      await expect(verify('ES256', p256.publicKey, input, Buffer.alloc(length, 1))).resolves.toBe(
        false,
      );
    });

    it('refuses (rather than throws) when node:crypto fails for the key', async () => {
      const ed = generateKeyPairSync('ed25519');
      await expect(verify('RS256', ed.publicKey, input, Buffer.alloc(64))).resolves.toBe(false);
    });

    it('refuses (rather than throws) when node:crypto refuses the arguments', async () => {
      const unknownDigest = 'RS999' as SignatureAlgorithm;
      await expect(verify(unknownDigest, rsa.publicKey, input, Buffer.alloc(256))).resolves.toBe(
        false,
      );
    });

    it('refuses an EdDSA signature checked with another Ed25519 key', async () => {
      const other = generateKeyPairSync('ed25519');
      const signature = signWith('EdDSA', ed25519.privateKey);
      await expect(verify('EdDSA', other.publicKey, input, signature)).resolves.toBe(false);
    });

    it('refuses an RS256 signature checked as PS256 and vice versa', async () => {
      await expect(
        verify('PS256', rsa.publicKey, input, signWith('RS256', rsa.privateKey)),
      ).resolves.toBe(false);
      await expect(
        verify('RS256', rsa.publicKey, input, signWith('PS256', rsa.privateKey)),
      ).resolves.toBe(false);
    });
  },
);
