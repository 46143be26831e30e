import { constants, generateKeyPairSync, randomBytes, sign, type KeyObject } from 'node:crypto';

/** The signature algorithms the testing kit signs with. */
export type TestSigningAlgorithm = 'RS256' | 'PS256' | 'ES256';

export const TEST_SIGNING_ALGORITHMS: readonly TestSigningAlgorithm[] = ['RS256', 'PS256', 'ES256'];

/** A key pair generated for one run of a test issuer: never written anywhere, gone with it. */
export interface SigningKey {
  kid: string;
  alg: TestSigningAlgorithm;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

/** Generates a fresh key pair for `alg`, with a random `kid`. */
export function generateSigningKey(alg: TestSigningAlgorithm): SigningKey {
  const { privateKey, publicKey } =
    alg === 'ES256'
      ? generateKeyPairSync('ec', { namedCurve: 'P-256' })
      : generateKeyPairSync('rsa', { modulusLength: 2048 });
  const kid = `test-${randomBytes(8).toString('hex')}`;
  const publicJwk = { ...publicKey.export({ format: 'jwk' }), kid, alg, use: 'sig' };
  return { kid, alg, privateKey, publicJwk };
}

const encode = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');

/** Signs a JWS compact JWT with `key`, as an identity provider does. */
export function signJwt(
  key: SigningKey,
  header: Record<string, unknown>,
  payload: Record<string, unknown>,
): string {
  const input = `${encode({ ...header, alg: key.alg, kid: key.kid })}.${encode(payload)}`;
  const data = Buffer.from(input);
  const signature =
    key.alg === 'ES256'
      ? sign('sha256', data, { key: key.privateKey, dsaEncoding: 'ieee-p1363' })
      : key.alg === 'PS256'
        ? sign('sha256', data, {
            key: key.privateKey,
            padding: constants.RSA_PKCS1_PSS_PADDING,
            saltLength: 32,
          })
        : sign('sha256', data, key.privateKey);
  return `${input}.${signature.toString('base64url')}`;
}
