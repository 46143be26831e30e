import { InvalidTokenError } from '../errors/auth-error';
import { describeValue } from './describe-value';

/** The asymmetric JWS algorithms the verifier can check. HMAC and `none` are never among them. */
export const SUPPORTED_ALGORITHMS = [
  'RS256',
  'RS384',
  'RS512',
  'PS256',
  'PS384',
  'PS512',
  'ES256',
  'ES384',
  'ES512',
] as const;

export type SupportedAlgorithm = (typeof SUPPORTED_ALGORITHMS)[number];

/** The HMAC algorithms (RFC 7518 §3.2), accepted only with the module's `secret`, and then alone. */
export const HMAC_ALGORITHMS = ['HS256', 'HS384', 'HS512'] as const;
export type HmacAlgorithm = (typeof HMAC_ALGORITHMS)[number];

const SUPPORTED = new Set<string>(SUPPORTED_ALGORITHMS);
const HMAC = new Set<string>(HMAC_ALGORITHMS);

export function isHmacAlgorithm(alg: string): alg is HmacAlgorithm {
  return HMAC.has(alg);
}
/** `typ` values of access tokens, case-insensitive; "application/" may be omitted (RFC 7515 §4.1.9). */
const ACCESS_TOKEN_TYPES = new Set(['at+jwt', 'application/at+jwt', 'jwt', 'application/jwt']);
const STRICT_TYPES = new Set(['at+jwt', 'application/at+jwt']);
const MAX_KID_LENGTH = 256;

/** The header fields the key lookup needs, after the header checks passed. */
export interface CheckedHeader {
  alg: SupportedAlgorithm | HmacAlgorithm;
  kid?: string;
}

export interface HeaderPolicy {
  /** The allow-list; `undefined` means every supported algorithm that the issuer's key fits. */
  algorithms?: readonly string[];
  /** RFC 9068 strict mode: `typ` must be `at+jwt`. */
  strict: boolean;
  /**
   * A `secret` is configured: the HMAC algorithms of `algorithms` are accepted, and nothing else
   * (`algorithms` then lists HMAC algorithms only).
   */
  hmac?: boolean;
}

/**
 * Checks a decoded, still unverified JOSE header (RFC 8725): algorithm allow-list compared
 * case-sensitively, access-token `typ`, no `crit`, no unencoded payload, `kid` as bounded text.
 * Embedded `jwk`, `jku`, `x5u` and `x5c` are ignored: keys come only from the issuer's JWKS.
 */
export function checkJwtHeader(
  header: Record<string, unknown>,
  policy: HeaderPolicy,
): CheckedHeader {
  const { alg, typ, kid } = header;
  if (
    typeof alg !== 'string' ||
    !(policy.hmac ? HMAC : SUPPORTED).has(alg) ||
    (policy.algorithms && !policy.algorithms.includes(alg))
  ) {
    const accepted = (policy.algorithms ?? SUPPORTED_ALGORITHMS).join(', ');
    const what =
      typeof alg === 'string' && alg.toLowerCase() === 'none'
        ? `The access token is unsigned (alg "${describeValue(alg)}")`
        : `The access token is signed with alg "${describeValue(alg)}"`;
    throw new InvalidTokenError(
      'alg_not_allowed',
      `${what}, which this API does not accept (accepted: ${accepted}).`,
    );
  }
  if (typ !== undefined) {
    const normalized = typeof typ === 'string' ? typ.toLowerCase() : '';
    const ok = (policy.strict ? STRICT_TYPES : ACCESS_TOKEN_TYPES).has(normalized);
    if (!ok) {
      throw new InvalidTokenError(
        'unsupported_typ',
        `The token has typ "${describeValue(typ)}", which is not an access token ` +
          `(expected ${policy.strict ? '"at+jwt"' : '"at+jwt" or "JWT"'}).`,
      );
    }
  } else if (policy.strict) {
    throw new InvalidTokenError(
      'unsupported_typ',
      'The token has no typ header; strict mode requires "at+jwt" (RFC 9068).',
    );
  }
  if (header.crit !== undefined) {
    throw new InvalidTokenError(
      'unsupported_crit',
      `The token header lists critical extensions (${describeValue(header.crit)}) that this API does not understand.`,
    );
  }
  if (header.b64 !== undefined && header.b64 !== true) {
    throw new InvalidTokenError(
      'unencoded_payload',
      'The token uses an unencoded payload (b64: false), which JWTs must not use.',
    );
  }
  if (
    kid !== undefined &&
    (typeof kid !== 'string' || kid.length === 0 || kid.length > MAX_KID_LENGTH)
  ) {
    throw new InvalidTokenError(
      'invalid_kid',
      `The token's kid header must be a string of 1 to ${MAX_KID_LENGTH} characters.`,
    );
  }
  const checked = alg as SupportedAlgorithm | HmacAlgorithm;
  return kid === undefined ? { alg: checked } : { alg: checked, kid };
}
