import type { KeyObject } from 'node:crypto';
import type { SupportedAlgorithm } from '../token/check-jwt-header';

const EC_CURVES: Record<string, string> = {
  ES256: 'prime256v1',
  ES384: 'secp384r1',
  ES512: 'secp521r1',
};

/** Whether a public key can verify a signature made with `alg` (RFC 7518 §3.1). */
export function keyFitsAlgorithm(key: KeyObject, alg: SupportedAlgorithm): boolean {
  const type = key.asymmetricKeyType;
  if (alg.startsWith('RS')) return type === 'rsa';
  if (alg.startsWith('PS')) return type === 'rsa' || type === 'rsa-pss';
  return type === 'ec' && key.asymmetricKeyDetails?.namedCurve === EC_CURVES[alg];
}

/** RSA keys shorter than this are refused (RFC 7518 §3.3, NIST SP 800-131A). */
export const MIN_RSA_MODULUS_BITS = 2048;

export function isWeakKey(key: KeyObject): boolean {
  const type = key.asymmetricKeyType;
  const bits = key.asymmetricKeyDetails?.modulusLength;
  return (
    (type === 'rsa' || type === 'rsa-pss') && (bits === undefined || bits < MIN_RSA_MODULUS_BITS)
  );
}
