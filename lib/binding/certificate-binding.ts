import { createHash, timingSafeEqual } from 'node:crypto';
import { InvalidTokenError } from '../errors/auth-error';
import type { TokenPresentation } from './token-presentation';

/** A SHA-256 thumbprint in base64url without padding: 32 bytes, 43 characters. */
const THUMBPRINT = /^[A-Za-z0-9_-]{42}[AEIMQUYcgkosw048]$/;

/** Whether `value` can be a `cnf["x5t#S256"]`: the base64url of a SHA-256 digest. */
export function isCertificateThumbprint(value: unknown): value is string {
  return typeof value === 'string' && THUMBPRINT.test(value);
}

/**
 * Refuses a token bound to the certificate of thumbprint `x5t` (RFC 8705 §3) unless the request
 * presented that certificate. Without a presentation (GraphQL, WebSocket, RPC, the Passport
 * strategy) there is no certificate to compare: the token is refused (fail-closed).
 */
export function checkCertificateBinding(
  x5t: string,
  presentation: TokenPresentation | undefined,
): void {
  const der = presentation?.clientCertificate?.();
  if (der === undefined) {
    throw new InvalidTokenError(
      'certificate_missing',
      'The access token is bound to a client certificate (cnf x5t#S256, RFC 8705), and only HTTP ' +
        'requests carry one: it cannot be used in this context (GraphQL, WebSocket, RPC or the ' +
        'Passport strategy). Call an HTTP route over TLS with that certificate.',
    );
  }
  const presented = createHash('sha256').update(der).digest();
  const bound = Buffer.from(x5t, 'base64url');
  if (bound.length !== presented.length || !timingSafeEqual(bound, presented)) {
    throw new InvalidTokenError(
      'certificate_mismatch',
      'The access token is bound to another client certificate than the one this request ' +
        'presented (cnf x5t#S256 differs from its SHA-256 thumbprint): connect with the certificate ' +
        'the token was issued for.',
    );
  }
}
