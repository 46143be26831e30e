import type { AccessTokenClaims } from './token/validate-claims';

/** The authenticated caller, as `@CurrentUser()` returns it. Never holds the token itself. */
export interface AuthUser {
  /** The token's subject (`sub`): a user id, or `CLIENT_ID@clients` for Auth0 machine tokens. */
  sub: string | undefined;
  /** Granted scopes: `scope`, `scp` and `permissions` together. */
  scopes: string[];
  /** What kind of token authenticated the caller. */
  tokenType: 'jwt';
  /** First 12 hex characters of the token's SHA-256: safe to log and correlate. */
  tokenHash: string;
  /** Every claim of the verified token. */
  claims: AccessTokenClaims;
}
