import type { UserProfile } from './opaque/userinfo-client';
import type { AccessTokenClaims } from './token/validate-claims';

/** The authenticated caller, as `@CurrentUser()` returns it. Never holds the token itself. */
export interface AuthUser {
  /** The token's subject (`sub`): a user id, or `CLIENT_ID@clients` for Auth0 machine tokens. */
  sub: string | undefined;
  /** Granted scopes: `scope`, `scp` and `permissions` together (none for userinfo-checked tokens). */
  scopes: string[];
  /** A verified JWT access token, or an opaque token the identity provider vouched for. */
  tokenType: 'jwt' | 'opaque';
  /** First 12 hex characters of the token's SHA-256: safe to log and correlate. */
  tokenHash: string;
  /**
   * The verified token's claims; for an opaque token, what userinfo or introspection answered.
   */
  claims: AccessTokenClaims | Record<string, unknown>;
  /** The userinfo profile: for opaque tokens checked by userinfo, and after `@WithUserinfo()`. */
  profile?: UserProfile;
}
