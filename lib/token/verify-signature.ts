// Hand-written on the trust path: jsonwebtoken adds ~40 µs per token over the RSA check, and jose's
// WebCrypto path is ~4x slower than node:crypto on Node 20; keys are parsed once per JWKS fetch.
import { constants, verify, type KeyObject } from 'node:crypto';
import type { SupportedAlgorithm } from './check-jwt-header';

type VerifyKey = Parameters<typeof verify>[2];

/** What {@link verifySignature} checks: the access tokens' algorithms, and EdDSA for DPoP proofs. */
export type SignatureAlgorithm = SupportedAlgorithm | 'EdDSA' | 'Ed25519';

/**
 * Verifies a JWS signature (RFC 7518 §3) with node:crypto and a parsed key. Hand-written on
 * purpose: jsonwebtoken adds about 40 µs per token on top of the RSA check itself, and jose's
 * WebCrypto path is four times slower than node:crypto in Node 20. `alg` has been checked against
 * the allow-list and the key's type by then (EdDSA on an Ed25519 or Ed448 key, for DPoP proofs);
 * a signature of the wrong length is simply invalid.
 */
export function verifySignature(
  alg: SignatureAlgorithm,
  key: KeyObject,
  signingInput: Buffer,
  signature: Buffer,
): boolean {
  try {
    return verify(digestOf(alg), signingInput, verifyKeyOf(alg, key), signature);
  } catch {
    // node:crypto throws for some key and digest mismatches: still just an invalid signature.
    return false;
  }
}

/** The hash of `alg`; none for EdDSA, which hashes inside the signature scheme (RFC 8037 §3.1). */
function digestOf(alg: SignatureAlgorithm): string | null {
  return alg === 'EdDSA' || alg === 'Ed25519' ? null : `sha${alg.slice(2)}`;
}

function verifyKeyOf(alg: SignatureAlgorithm, key: KeyObject): VerifyKey {
  if (alg.startsWith('PS')) {
    return { key, padding: constants.RSA_PKCS1_PSS_PADDING, saltLength: Number(alg.slice(2)) / 8 };
  }
  if (alg.startsWith('ES')) return { key, dsaEncoding: 'ieee-p1363' };
  return key;
}
