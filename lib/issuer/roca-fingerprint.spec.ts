import { constants, generateKeyPairSync, randomBytes, sign } from 'node:crypto';
import { generateRocaKey, modPow } from '../../test/support/roca-key';
import { hasRocaFingerprint, isRocaKey, rsaModulus } from './roca-fingerprint';

/**
 * The public modulus of Wycheproof's `rejectsKeyWithRocaVulnerability` vector
 * (testvectors_v1/json_web_crypto_test.json, kid "kid-rsa-roca-sign"): a real positive.
 */
const WYCHEPROOF_ROCA_N =
  'AanFpofbj7KjD4Lf-N2hVMKR7yewSyXhhbirIMTGpfYEhZ_lnt5UoK98DnKIgArXGTu3MaW_HhFw16HGaTDUHqPrId7fe4r' +
  '11CqRw09yBFuW79V8sYIwHdzCaWflUI6auImYbVfoN9_nD5n8N8SY9DwXw7mwZM9wREPXoDPgOoIWl6q_MPsp7n0zs3Z5Za' +
  'iQWOOzl1S9OhwAfSiiOwz6efnXEaxuTEtPd7BjSx7NaFka8Dx9U7YqXy2RFj1O9PjyaDGuRh7YXsX3iMUSP_wSyHQg_c_q' +
  'HRtKUsNSGCT7OZg0hzm2KphtjnayKJvC64vAbROBR4Ubg6Bxg9IQVZ-QYyE';

const toBigInt = (bytes: Buffer) => BigInt(`0x${bytes.toString('hex')}`);

describe('hasRocaFingerprint (CVE-2017-15361)', () => {
  it("flags Wycheproof's ROCA test key", () => {
    expect(hasRocaFingerprint(toBigInt(Buffer.from(WYCHEPROOF_ROCA_N, 'base64url')))).toBe(true);
  });

  it.each([512, 1024, 2048])('flags a %i-bit key made the RSALib way', (bits) => {
    expect(hasRocaFingerprint(generateRocaKey(bits).modulus)).toBe(true);
  });

  it('flags none of 2000 random odd 2048-bit numbers', () => {
    for (let i = 0; i < 2000; i++) {
      const n = toBigInt(randomBytes(256)) | (1n << 2047n) | 1n;
      expect(hasRocaFingerprint(n)).toBe(false);
    }
  });
});

describe('isRocaKey', () => {
  it('flags the public key of a ROCA key, and not keys node:crypto generates', () => {
    const roca = generateRocaKey(2048);
    expect(isRocaKey(roca.publicKey)).toBe(true);
    for (const modulusLength of [2048, 3072]) {
      expect(isRocaKey(generateKeyPairSync('rsa', { modulusLength }).publicKey)).toBe(false);
    }
  });

  it('reads the modulus of RSA-PSS keys too, and ignores EC keys', () => {
    const { privateKey, publicKey } = generateKeyPairSync('rsa-pss', { modulusLength: 2048 });
    const n = rsaModulus(publicKey)!;
    // Its own modulus opens a PSS signature: the encoded message ends with the 0xbc trailer.
    const signature = sign('sha256', Buffer.from('m'), {
      key: privateKey,
      padding: constants.RSA_PKCS1_PSS_PADDING,
    });
    expect(modPow(toBigInt(signature), 65537n, n) & 0xffn).toBe(0xbcn);
    expect(isRocaKey(publicKey)).toBe(false);
    const rsa = generateKeyPairSync('rsa', { modulusLength: 2048 }).publicKey;
    expect(rsaModulus(rsa)).toBe(
      toBigInt(Buffer.from(rsa.export({ format: 'jwk' }).n!, 'base64url')),
    );
    const ec = generateKeyPairSync('ec', { namedCurve: 'P-256' }).publicKey;
    expect([rsaModulus(ec), isRocaKey(ec)]).toEqual([undefined, false]);
  });
});
