import { InvalidTokenError } from '../errors/auth-error';
import { MalformedAnswerError } from './malformed-answer';
import { describeValue } from '../token/describe-value';
import { formatNumericDate } from '../token/format-time';
import {
  claimTypeProblem,
  issuerMismatch,
  missingSubject,
  tokenExpired,
} from '../token/validate-claims';
import type { IntrospectionResponse } from './introspection-client';

/** An active introspection response whose members have been checked. */
export interface IntrospectedClaims extends IntrospectionResponse {
  active: true;
  sub: string;
  scope?: string;
  scp?: string | string[];
  permissions?: string[];
  exp?: number;
  nbf?: number;
}

/**
 * Checks an introspection response (RFC 7662 §2.2) as strictly as a JWT's claims: `active`, member
 * types (a member of the wrong type is the provider's fault: {@link MalformedAnswerError}, 503),
 * then `iss` (when given), `aud` (must name this API), `exp` and `nbf` with the clock tolerance, and
 * `sub` (required).
 */
export function validateIntrospection(
  response: IntrospectionResponse,
  options: { issuer: string; audiences: readonly string[]; clockToleranceSeconds: number },
  nowSeconds: number,
): IntrospectedClaims {
  if (response.active !== true) {
    throw new InvalidTokenError(
      'token_inactive',
      'The identity provider says the access token is not active: it is expired, revoked or unknown.',
    );
  }
  const problem = claimTypeProblem(response);
  if (problem) throw new MalformedAnswerError('introspection', problem);
  const claims = response as IntrospectedClaims;
  // cnf and token_type DPoP are checked against how the token came: lib/binding.
  if (claims.iss !== undefined && claims.iss !== options.issuer) {
    throw issuerMismatch(claims.iss, options.issuer);
  }
  const aud = typeof claims.aud === 'string' ? [claims.aud] : claims.aud;
  if (!aud || !aud.some((a) => options.audiences.includes(a))) {
    throw new InvalidTokenError(
      'audience_mismatch',
      `Introspection does not say the token is for this API (aud "${describeValue(claims.aud ?? 'none')}"). ` +
        `Request the access token with audience=${options.audiences[0]}.`,
    );
  }
  if (claims.exp !== undefined && nowSeconds >= claims.exp + options.clockToleranceSeconds) {
    throw tokenExpired(claims.exp);
  }
  if (claims.nbf !== undefined && nowSeconds + options.clockToleranceSeconds < claims.nbf) {
    throw new InvalidTokenError(
      'token_not_yet_valid',
      `The access token is not valid before ${formatNumericDate(claims.nbf)}; check the clocks.`,
    );
  }
  // RFC 7662 makes sub optional; the API needs it for every caller (AuthUser.sub is a string).
  if (!claims.sub) throw missingSubject('The introspection answer for the token');
  return claims;
}
