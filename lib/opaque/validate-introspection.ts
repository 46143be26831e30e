import { InvalidTokenError } from '../errors/auth-error';
import type { ResolvedAuthOptions } from '../resolve-auth-options';
import { describeValue } from '../token/describe-value';
import { formatNumericDate } from '../token/format-time';
import { issuerMismatch, senderConstrained, tokenExpired } from '../token/validate-claims';
import type { IntrospectionResponse } from './introspection-client';

/** An active introspection response whose members have been checked. */
export interface IntrospectedClaims extends IntrospectionResponse {
  active: true;
  sub?: string;
  scope?: string;
  exp?: number;
}

/**
 * Checks an introspection response (RFC 7662 §2.2) as strictly as a JWT's claims: `active`, then
 * `iss` (when given), `aud` (must name this API), `exp` with the clock tolerance, member types.
 */
export function validateIntrospection(
  response: IntrospectionResponse,
  options: Pick<ResolvedAuthOptions, 'issuer' | 'audiences' | 'clockToleranceSeconds'>,
  nowSeconds: number,
): IntrospectedClaims {
  if (response.active !== true) {
    throw new InvalidTokenError(
      'token_inactive',
      'The identity provider says the access token is not active: it is expired, revoked or unknown.',
    );
  }
  const tokenType =
    typeof response.token_type === 'string' ? response.token_type.toLowerCase() : '';
  if (response.cnf !== undefined || tokenType === 'dpop') throw senderConstrained();
  if (response.iss !== undefined && response.iss !== options.issuer) {
    throw issuerMismatch(response.iss, options.issuer);
  }
  const aud = typeof response.aud === 'string' ? [response.aud] : response.aud;
  if (Array.isArray(aud) && !aud.every((a) => typeof a === 'string')) {
    throw new InvalidTokenError(
      'invalid_claim',
      'Introspection answered an aud that is not strings.',
    );
  }
  if (!Array.isArray(aud) || !aud.some((a) => options.audiences.includes(a))) {
    throw new InvalidTokenError(
      'audience_mismatch',
      `Introspection does not say the token is for this API (aud "${describeValue(response.aud ?? 'none')}"). ` +
        `Request the access token with audience=${options.audiences[0]}.`,
    );
  }
  if (response.exp !== undefined) {
    if (typeof response.exp !== 'number' || !Number.isFinite(response.exp)) {
      throw new InvalidTokenError(
        'invalid_claim',
        'Introspection answered an exp that is not a number.',
      );
    }
    if (nowSeconds >= response.exp + options.clockToleranceSeconds)
      throw tokenExpired(response.exp);
  }
  if (response.nbf !== undefined) {
    if (typeof response.nbf !== 'number' || !Number.isFinite(response.nbf)) {
      throw new InvalidTokenError(
        'invalid_claim',
        'Introspection answered an nbf that is not a number.',
      );
    }
    if (nowSeconds + options.clockToleranceSeconds < response.nbf) {
      throw new InvalidTokenError(
        'token_not_yet_valid',
        `The access token is not valid before ${formatNumericDate(response.nbf)}; check the clocks.`,
      );
    }
  }
  for (const name of ['sub', 'scope', 'client_id'] as const) {
    if (response[name] !== undefined && typeof response[name] !== 'string') {
      throw new InvalidTokenError(
        'invalid_claim',
        `Introspection answered a ${name} that is not a string.`,
      );
    }
  }
  return response as IntrospectedClaims;
}
