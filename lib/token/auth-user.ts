import type { AccessTokenClaims, OpaqueTokenClaims } from './validate-claims';

/** The claims the identity provider's `/userinfo` returns about the token's user (OpenID Connect Core §5.3). */
export interface UserProfile {
  sub: string;
  [claim: string]: unknown;
}

/** The named members of `T`, without its index signature. */
type NamedMembers<T> = {
  [K in keyof T as string extends K ? never : number extends K ? never : K]: T[K];
};

/** The application's own claims of `TClaims`: what it adds to {@link AccessTokenClaims}. */
type OwnClaims<TClaims> = Omit<NamedMembers<TClaims>, keyof NamedMembers<AccessTokenClaims>>;

/** What every authenticated caller has, whatever its token. */
interface AuthUserBase {
  /**
   * The token's subject (`sub`): a user id, or `CLIENT_ID@clients` for Auth0 machine tokens.
   * Always present: a token without `sub` is refused (401 `missing_claim`).
   */
  sub: string;
  /** Granted scopes: `scope`, `scp` and `permissions` together (none for userinfo-checked tokens). */
  scopes: string[];
  /** First 12 hex characters of the token's SHA-256: safe to log and correlate. */
  tokenHash: string;
  /** The userinfo profile: for opaque tokens checked by userinfo, and after `@WithUserinfo()`. */
  profile?: UserProfile;
}

/** The caller of a verified JWT access token: `iss`, `aud`, `exp` and `sub` are checked. */
export interface JwtAuthUser<
  TClaims extends AccessTokenClaims = AccessTokenClaims,
> extends AuthUserBase {
  tokenType: 'jwt';
  /** The verified token's claims. */
  claims: TClaims;
}

/**
 * The caller of an opaque token the identity provider vouched for (`opaqueTokens`): its claims are
 * what introspection or userinfo answered, so only `sub` is sure; the application's own claims
 * may be there or not.
 */
export interface OpaqueAuthUser<
  TClaims extends AccessTokenClaims = AccessTokenClaims,
> extends AuthUserBase {
  tokenType: 'opaque';
  /** What introspection or userinfo answered. */
  claims: OpaqueTokenClaims & Partial<OwnClaims<TClaims>>;
}

/**
 * The authenticated caller, as `@CurrentUser()` returns it. Never holds the token itself.
 * `TClaims` is your application's claim type: the library checks the registered claims (`iss`,
 * `aud`, `exp`, `sub`, `scope`, ...); your own claims are as the issuer signed them.
 * Narrow on `tokenType` to read `claims` as the checks guarantee them for each kind of token.
 *
 * @example
 * interface MyClaims extends AccessTokenClaims { 'https://example.com/roles'?: string[] }
 * @Get('me') me(@CurrentUser() user: AuthUser<MyClaims>) {
 *   const id: string = user.sub;
 *   const roles = user.claims['https://example.com/roles'] ?? [];
 * }
 */
export type AuthUser<TClaims extends AccessTokenClaims = AccessTokenClaims> =
  JwtAuthUser<TClaims> | OpaqueAuthUser<TClaims>;
