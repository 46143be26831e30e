import { InvalidTokenError } from '../errors/auth-error';
import { describeValue } from './describe-value';
import { formatNumericDate } from './format-time';

/**
 * The claims of a verified JWT access token, checked by type: `iss`, `aud`, `exp` and `sub` are
 * always there. Extend it with your application's own claims for `AuthUser<TClaims>`.
 */
export interface AccessTokenClaims {
  iss: string;
  aud: string | string[];
  exp: number;
  sub: string;
  nbf?: number;
  iat?: number;
  scope?: string;
  scp?: string | string[];
  permissions?: string[];
  client_id?: string;
  azp?: string;
  jti?: string;
  [claim: string]: unknown;
}

/**
 * What introspection or userinfo answered for an opaque token: `sub` is sure, the registered claims
 * that are present have their types, the others may be missing.
 */
export interface OpaqueTokenClaims extends Partial<AccessTokenClaims> {
  sub: string;
  [claim: string]: unknown;
}

export interface ClaimPolicy {
  /** The exact expected `iss`. */
  issuer: string;
  /** The API identifiers; the token's `aud` must contain one of them. */
  audiences: readonly string[];
  clockToleranceSeconds: number;
  /** RFC 9068 strict mode: `sub`, `client_id`, `iat` and `jti` are required too. */
  strict: boolean;
}

/** Claims of a signed-in session or user profile, which ID tokens carry and access tokens rarely. */
const SESSION_CLAIMS = [
  'sid',
  'auth_time',
  'email',
  'email_verified',
  'name',
  'nickname',
  'picture',
  'given_name',
  'family_name',
  'updated_at',
  'acr',
  'amr',
] as const;

/** Claims only an ID token carries (OpenID Connect Core §2, §3.3.2.11). */
const ID_TOKEN_CLAIMS = ['nonce', 'at_hash', 'c_hash', 's_hash'] as const;
const STRICT_CLAIMS = ['sub', 'client_id', 'iat', 'jti'] as const;

/**
 * Validates the payload of a token whose signature has been verified, in the order that gives the
 * most useful diagnosis: an ID token is named as such before its audience is compared.
 */
export function validateClaims(
  payload: unknown,
  policy: ClaimPolicy,
  nowSeconds: number,
): AccessTokenClaims {
  if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
    throw new InvalidTokenError(
      'malformed_jwt',
      'The token payload is not a JSON object of claims.',
    );
  }
  const claims = payload as Record<string, unknown>;
  const apiAudience = policy.audiences[0];

  if (ID_TOKEN_CLAIMS.some((name) => claims[name] !== undefined)) throw idToken(apiAudience);
  // cnf (a sender-constrained token) is checked against how the token came: lib/binding.

  if (claims.iss !== policy.issuer) throw issuerMismatch(claims.iss, policy.issuer);

  const aud = claims.aud;
  const audList = typeof aud === 'string' ? [aud] : aud;
  if (audList === undefined || (Array.isArray(audList) && audList.length === 0)) {
    throw new InvalidTokenError(
      'missing_claim',
      'The token has no aud claim; an access token names the API it is for.',
    );
  }
  if (!Array.isArray(audList) || !audList.every((a) => typeof a === 'string')) {
    throw invalidClaim('aud', 'a string or an array of strings');
  }
  if (!audList.some((a) => policy.audiences.includes(a))) {
    if (audList.every((a) => a.endsWith('/userinfo'))) {
      throw new InvalidTokenError(
        'userinfo_audience_only',
        "The token is only for the identity provider's /userinfo endpoint: the client requested it without " +
          `the API's audience. Request the access token with audience=${apiAudience}.`,
      );
    }
    if (looksLikeIdToken(claims, audList)) throw idToken(apiAudience);
    throw new InvalidTokenError(
      'audience_mismatch',
      `The token is for audience "${describeValue(audList.join(' '))}", not for this API ("${apiAudience}"). ` +
        `Request the access token with audience=${apiAudience}.`,
    );
  }

  const exp = claims.exp;
  if (exp === undefined) {
    throw new InvalidTokenError(
      'missing_claim',
      'The token has no exp claim; access tokens must expire.',
    );
  }
  if (!isNumericDate(exp)) throw invalidClaim('exp', 'a NumericDate');
  if (nowSeconds >= exp + policy.clockToleranceSeconds) throw tokenExpired(exp);
  if (claims.nbf !== undefined) {
    if (!isNumericDate(claims.nbf)) throw invalidClaim('nbf', 'a NumericDate');
    if (nowSeconds + policy.clockToleranceSeconds < claims.nbf) {
      throw new InvalidTokenError(
        'token_not_yet_valid',
        `The access token is not valid before ${formatNumericDate(claims.nbf)}; check the clocks.`,
      );
    }
  }
  const problem = claimTypeProblem(claims);
  if (problem) throw invalidClaim(problem.claim, problem.expected);
  if (claims.sub === undefined) throw missingSubject('The token');
  if (claims.sub === '') throw invalidClaim('sub', 'a non-empty string');
  if (policy.strict) {
    const missing = STRICT_CLAIMS.filter((name) => claims[name] === undefined);
    if (missing.length > 0) {
      throw new InvalidTokenError(
        'missing_claim',
        `The token lacks ${missing.join(', ')}, which strict mode requires of access tokens (RFC 9068).`,
      );
    }
  }
  return claims as AccessTokenClaims;
}

/** A registered claim whose value is not of its type. */
export interface ClaimTypeProblem {
  claim: string;
  /** What the claim must be, as a phrase: `a string`, `an array of strings`, ... */
  expected: string;
}

/** The claims every path checks by type before use, with what each must be when present. */
const CLAIM_TYPES: readonly [name: string, expected: string, test: (value: unknown) => boolean][] =
  [
    ['iss', 'a string', isString],
    ['aud', 'a string or an array of strings', isStringOrStringArray],
    ['exp', 'a NumericDate', isNumericDate],
    ['nbf', 'a NumericDate', isNumericDate],
    ['iat', 'a NumericDate', isNumericDate],
    ['sub', 'a string', isString],
    ['client_id', 'a string', isString],
    ['azp', 'a string', isString],
    ['jti', 'a string', isString],
    ['scope', 'a string', isString],
    ['scp', 'a string or an array of strings', isStringOrStringArray],
    ['permissions', 'an array of strings', isStringArray],
  ];

/**
 * The first registered claim of `claims` that is present but not of its type: one rule for JWT
 * claims, introspection answers and userinfo profiles, so that nothing reaches `grantedScopes` or a
 * handler unchecked.
 */
export function claimTypeProblem(claims: Record<string, unknown>): ClaimTypeProblem | undefined {
  for (const [claim, expected, test] of CLAIM_TYPES) {
    const value = claims[claim];
    if (value !== undefined && !test(value)) return { claim, expected };
  }
  return undefined;
}

/** The refusal of a token from another issuer. */
export function issuerMismatch(iss: unknown, expected: string): InvalidTokenError {
  return new InvalidTokenError(
    'issuer_mismatch',
    `The token was issued by "${describeValue(iss)}", but this API only accepts tokens from "${expected}".`,
  );
}

/**
 * The refusal of a token that names no subject: every access token names whom it is for (RFC 9068
 * §2.2; Auth0 always sets `sub`), and `AuthUser.sub` is always a string.
 */
export function missingSubject(what: string): InvalidTokenError {
  return new InvalidTokenError(
    'missing_claim',
    `${what} has no sub claim; this API identifies every caller by the subject of its access token.`,
  );
}

/** The refusal of an expired token. */
export function tokenExpired(exp: number): InvalidTokenError {
  return new InvalidTokenError(
    'token_expired',
    `The access token expired at ${formatNumericDate(exp)}; the client must obtain a new one.`,
  );
}

/**
 * For a token whose audience is not this API: whether that audience is a client id, which makes the
 * token an ID token. Either `azp` names it, or the token grants no scope at all while carrying
 * session or profile claims (an ID token from a flow without nonce, or from a refresh).
 */
function looksLikeIdToken(claims: Record<string, unknown>, audList: string[]): boolean {
  if (
    typeof claims.azp === 'string' &&
    audList.includes(claims.azp) &&
    claims.client_id === undefined
  ) {
    return true;
  }
  const grantsScopes = ['scope', 'scp', 'permissions'].some((name) => claims[name] !== undefined);
  return !grantsScopes && SESSION_CLAIMS.some((name) => claims[name] !== undefined);
}

function idToken(apiAudience: string | undefined): InvalidTokenError {
  return new InvalidTokenError(
    'id_token',
    'The bearer token is an ID token, not an access token: an ID token tells the client who signed in and ' +
      'must not be sent to an API. Send the access token instead, requested with ' +
      `audience=${apiAudience}.`,
  );
}

function invalidClaim(name: string, expected: string): InvalidTokenError {
  return new InvalidTokenError('invalid_claim', `The token's ${name} claim must be ${expected}.`);
}

function isNumericDate(value: unknown): value is number {
  return typeof value === 'number' && Number.isFinite(value);
}

function isString(value: unknown): value is string {
  return typeof value === 'string';
}

function isStringOrStringArray(value: unknown): value is string | string[] {
  return typeof value === 'string' || isStringArray(value);
}

function isStringArray(value: unknown): value is string[] {
  return Array.isArray(value) && value.every((item) => typeof item === 'string');
}
