import { createHmac, createSecretKey, timingSafeEqual, type KeyObject } from 'node:crypto';
import { AuthOptionsError } from '../errors/auth-options-error';
import { HMAC_ALGORITHMS, isHmacAlgorithm, type HmacAlgorithm } from './check-jwt-header';

/** Injection token of the HMAC secret's key object (private; never part of the options). */
export const HMAC_SECRET = Symbol('nest-oauth2-bearer:hmac-secret');

/** The shortest secret accepted: HS256 needs a key at least as long as its hash (RFC 7518 §3.2). */
const MIN_SECRET_BYTES = 32;

/**
 * Validates the `secret` option and turns it into a secret `KeyObject` (which prints no key
 * material). A public key, as PEM or JWK, is refused: HMAC with the issuer's public key is the
 * algorithm-confusion attack (RFC 8725 §2.1), never a configuration.
 */
export function resolveHmacSecret(secret: unknown): KeyObject | undefined {
  if (secret === undefined) return undefined;
  let bytes: Buffer;
  if (typeof secret === 'string') bytes = Buffer.from(secret, 'utf8');
  else if (secret instanceof Uint8Array) bytes = Buffer.from(secret);
  else throw new AuthOptionsError('secret', 'must be a string or a Uint8Array (a Buffer)');
  if (bytes.length < MIN_SECRET_BYTES) {
    throw new AuthOptionsError(
      'secret',
      `must be at least ${MIN_SECRET_BYTES} bytes (it has ${bytes.length}): use the API's ` +
        'signing secret as the provider shows it (Auth0: APIs > your API > Settings)',
    );
  }
  const text = bytes.toString('latin1');
  if (/-----BEGIN [A-Z ]*KEY-----/.test(text) || /"kty"\s*:/.test(text)) {
    throw new AuthOptionsError(
      'secret',
      'looks like a key (PEM or JWK), not an HMAC secret: tokens HMAC-signed with a public key are ' +
        "forgeries (algorithm confusion). Remove secret to verify with the issuer's public keys",
    );
  }
  return createSecretKey(bytes);
}

/**
 * Validates `algorithms` against the key source: with a secret, HMAC algorithms only (HS256 unless
 * set), each with a secret at least as long as its hash (RFC 7518 §3.2: 48 bytes for HS384, 64
 * for HS512); `secretBytes` is the secret's length.
 */
export function resolveHmacAlgorithms(algorithms: unknown, secretBytes: number): string[] {
  if (algorithms === undefined) return ['HS256'];
  if (!Array.isArray(algorithms) || algorithms.length === 0) {
    throw new AuthOptionsError('algorithms', 'must be a non-empty array when set');
  }
  const wrong = algorithms.filter((alg) => typeof alg !== 'string' || !isHmacAlgorithm(alg));
  if (wrong.length > 0) {
    throw new AuthOptionsError(
      'algorithms',
      `${wrong.map(String).join(', ')} not accepted with secret: choose from ` +
        `${HMAC_ALGORITHMS.join(', ')} (a secret never mixes with public keys)`,
    );
  }
  for (const alg of algorithms as HmacAlgorithm[]) {
    const needed = Number(alg.slice(2)) / 8;
    if (secretBytes < needed) {
      throw new AuthOptionsError(
        'secret',
        `must be at least ${needed} bytes for ${alg} (it has ${secretBytes}): RFC 7518 §3.2 wants ` +
          `a key as long as the hash. Use a longer secret, or remove ${alg} from algorithms`,
      );
    }
  }
  return [...(algorithms as string[])];
}

/** Verifies an HMAC JWS signature with the secret, in constant time. */
export function verifyHmac(
  alg: HmacAlgorithm,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): boolean {
  const expected = createHmac(`sha${alg.slice(2)}`, key)
    .update(signingInput)
    .digest();
  return expected.length === signature.length && timingSafeEqual(expected, signature);
}
