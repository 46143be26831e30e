/**
 * Options of {@link AuthModule}. Validated once at bootstrap; an invalid value stops the
 * application with an error that names the option.
 *
 * @example
 * AuthModule.forRoot({ issuerUrl: 'https://tenant.auth0.com/', audience: 'https://api.example.com' })
 */
export interface AuthModuleOptions {
  /**
   * The issuer, exactly as the provider publishes it (Auth0: `https://TENANT.auth0.com/`, with the
   * trailing slash). Keys are found through `/.well-known/openid-configuration` unless `jwksUri`
   * is set. Must be https, or http on a loopback host.
   */
  issuerUrl: string;
  /** The API identifier(s): a token's `aud` must contain one of them. */
  audience: string | string[];
  /**
   * The issuer's JWKS URL. Set it to skip discovery.
   * @default discovered from the issuer
   */
  jwksUri?: string;
  /**
   * Allowed signature algorithms, compared case-sensitively. Only asymmetric algorithms
   * (RS*, PS*, ES*) are supported; `none` and HMAC never are.
   * @default every supported algorithm that fits the issuer's key named by the token
   */
  algorithms?: string[];
  /**
   * Seconds of clock skew tolerated on `exp` and `nbf`.
   * @default 5
   */
  clockTolerance?: number;
  /**
   * Accept the token in an `access_token` query parameter (RFC 6750 §2.3 says it SHOULD NOT be
   * used: URLs end up in logs). When off, such a parameter is ignored.
   * @default false
   */
  allowQueryToken?: boolean;
  /**
   * RFC 9068 strict mode: `typ` must be `at+jwt`, and `sub`, `client_id`, `iat`, `jti` are required.
   * Auth0's default token profile does not pass it; its RFC 9068 profile does.
   * @default false
   */
  strict?: boolean;
  /**
   * The `realm` of `WWW-Authenticate` challenges.
   * @default 'api'
   */
  realm?: string;
  /**
   * Longest token accepted, in characters.
   * @default 8192
   */
  maxTokenLength?: number;
  /**
   * Timeout of each call to the identity provider (discovery, JWKS), in milliseconds.
   * @default 5000
   */
  httpTimeoutMs?: number;
  /**
   * Seconds to wait between JWKS refetches once the burst of refetches for unknown `kid`s is used up.
   * @default 30
   */
  jwksCooldownSeconds?: number;
}

/** Options that shape the module itself, given to `forRoot` / `forRootAsync` beside the options. */
export interface AuthModuleExtras {
  /**
   * Register the module globally, so that its guard can be used in any module.
   * @default true
   */
  isGlobal?: boolean;
  /**
   * Register the guard as `APP_GUARD`: every route needs a token unless it is `@Public()`.
   * When false, use `@UseGuards(AccessTokenGuard)` where needed.
   * @default true
   */
  globalGuard?: boolean;
}
