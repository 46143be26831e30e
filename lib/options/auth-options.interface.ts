import type { ConfigurableModuleAsyncOptions } from '@nestjs/common';
import type { RpcAuthorization } from '../token/rpc-authorization';
import type { DpopOptions } from '../binding/dpop-options';
import type { MtlsOptions } from '../binding/mtls-options';
import type {
  ProtectedResourceOptions,
  ResourceOptions,
} from '../resource-metadata/protected-resource-options';
import type { ClaimRule } from '../token/claim-rules';
import type { IssuerOptions } from '../issuer/issuer-options';
import type {
  CacheOptions,
  IntrospectionOptions,
  UpstreamBudget,
  UpstreamOptions,
} from '../opaque/opaque-options';

export type { CacheOptions, IntrospectionOptions, IssuerOptions, UpstreamBudget, UpstreamOptions };

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
   * trailing slash). Keys are found through `/.well-known/openid-configuration` (or, when the
   * issuer has none, RFC 8414 `/.well-known/oauth-authorization-server`) unless `jwksUri` is set.
   * Must be https, or http on a loopback host.
   *
   * A list accepts tokens of several issuers (custom domains of one Auth0 tenant, several tenants,
   * a migration between providers): each has its own discovery and keys, fetched on its first
   * token, and a token is verified only with the keys of the issuer its `iss` names (exactly).
   * A token of an issuer not listed is refused without any call to the network. An entry may be
   * an {@link IssuerOptions} object with its own audience and JWKS URL.
   * @example
   * issuerUrl: ['https://login.example.com/', { url: 'https://other.eu.auth0.com/', audience: 'https://api-eu.example.com' }]
   */
  issuerUrl: string | readonly (string | IssuerOptions)[];
  /**
   * The API identifier(s): a token's `aud` must contain one of them (for an issuer listed with
   * its own `audience`, that one instead).
   */
  audience: string | string[];
  /**
   * The issuer's JWKS URL. Set it to skip discovery. With several issuers, set it per issuer
   * (`issuerUrl: [{ url, jwksUri }]`).
   * @default discovered from the issuer
   */
  jwksUri?: string;
  /**
   * Allowed signature algorithms, compared case-sensitively. Only asymmetric algorithms
   * (RS*, PS*, ES*) are supported; `none` never is, and HMAC (HS256, HS384, HS512) only with
   * `secret`, and then only HMAC.
   * @default every supported algorithm that fits the issuer's key named by the token; with `secret`, `['HS256']`
   */
  algorithms?: string[];
  /**
   * The API's HMAC signing secret, for APIs whose tokens are signed with HS256 (Auth0: APIs > your
   * API > Settings > Signing Algorithm HS256; the secret is on the same page). At least 32 bytes;
   * 48 with HS384 and 64 with HS512 in `algorithms` (RFC 7518 §3.2).
   * With it, only HMAC tokens signed with this secret are accepted (no JWKS, no discovery for
   * keys); without it, every HMAC token is refused. It is kept out of the injectable options.
   * @default none: tokens are verified with the issuer's public keys
   */
  secret?: string | Uint8Array;
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
  /**
   * How to accept opaque access tokens (a random string, or Auth0's 5-segment JWE issued when the
   * client asks for no audience), which only the identity provider understands:
   * - `'userinfo'`: valid when the provider's `/userinfo` answers 200; the user is its profile.
   *   Such tokens carry no scopes, so `@Scopes` routes answer 403.
   * - `'introspection'`: RFC 7662 introspection with `introspection` credentials.
   * @default undefined: opaque tokens are refused with a description that asks for the audience
   */
  opaqueTokens?: 'userinfo' | 'introspection';
  /**
   * The provider's userinfo endpoint, for opaque tokens and `@WithUserinfo()`.
   * @default discovered (`userinfo_endpoint`)
   */
  userinfoEndpoint?: string;
  /** RFC 7662 introspection, for `opaqueTokens: 'introspection'`. */
  introspection?: IntrospectionOptions;
  /** Caching of what userinfo and introspection answer. */
  cache?: CacheOptions;
  /**
   * Budgets of the calls made to userinfo and introspection: one for opaque-token lookups, one for
   * profiles of verified callers, so that neither can starve the other.
   */
  upstream?: UpstreamOptions;
  /**
   * In-process memory of JWT access tokens that passed every check, so that a token a client
   * reuses costs a lookup instead of a signature check. Successes only; an entry ends at the
   * token's `exp` or when its key leaves the JWKS; never shared outside the process. `false` turns
   * it off (every answer stays the same, only slower). `maxBytes` bounds its memory outside the V8
   * heap: an index of typed arrays (at most 128 bytes per entry, keyed by the token's SHA-256) and,
   * for the rest, one store that holds each user as JSON (resident as it is written); so at least
   * `maxEntries` × 128 + 1024. On the heap, only a hot set of at most 256 parsed users (256 KiB of
   * their JSON), which a lookup copies rather than parses.
   * @default { maxEntries: 100000, maxBytes: 64 MiB }
   */
  verifiedTokenCache?: boolean | { maxEntries?: number; maxBytes?: number };
  /**
   * Where a microservice message (`@MessagePattern`, `@EventPattern`) carries its credentials:
   * a function of the payload and the transport's context that returns the `Authorization` value
   * (`Bearer <token>`), or `undefined` when there is none (the handler is then refused, unless it
   * is `@Public()` or `@OptionalAuth()`). It may throw an `AuthError` to refuse the message.
   * @default defaultRpcAuthorization: `authorization` in the transport's metadata or headers (TCP
   * and Redis `getMetadata()`, NATS, gRPC, Kafka, RabbitMQ, MQTT 5), else `data.authorization` or
   * `data.headers.authorization`
   * @example
   * rpcAuthorization: (data) => (data as { meta?: { auth?: string } }).meta?.auth
   */
  rpcAuthorization?: RpcAuthorization;
  /**
   * DPoP-bound tokens (RFC 9449): `Authorization: DPoP <token>` with a `DPoP` proof, checked in
   * full, with replay protection (shared through `cache.store` when set) and optional nonces.
   * @default { mode: 'allowed' }: DPoP and unbound bearer tokens are both accepted
   * @example
   * dpop: { mode: 'required', nonce: { secret: process.env.DPOP_NONCE_SECRET! } }
   */
  dpop?: DpopOptions;
  /**
   * Certificate-bound tokens (RFC 8705 §3): a token with `cnf["x5t#S256"]` is accepted only on a
   * request whose TLS client certificate (or, behind a proxy, the trusted `certificateHeader`) has
   * that SHA-256 thumbprint. The certificate is only hashed, never validated: that is the TLS
   * layer's job (`httpsOptions.requestCert`, `rejectUnauthorized`).
   * @default { mode: 'allowed' }: bound tokens accepted with their certificate only
   * @example
   * mtls: { certificateHeader: { name: 'client-cert', encoding: 'rfc9440' } }
   */
  mtls?: MtlsOptions;
  /**
   * RFC 9728 protected resource metadata, served at `/.well-known/oauth-protected-resource` (and
   * its path-suffixed form) without a token, readable cross-origin; every challenge then names it
   * in `resource_metadata`. MCP clients require both. `false` turns both off.
   * @default { resource: the first audience }: on when that audience is an https URL
   */
  protectedResource?: false | ProtectedResourceOptions;
  /**
   * Protected resources the app serves beside its API, each with its own audience, by name: an MCP
   * endpoint whose resource identifier is its own URL. `@ProtectedResource(name)` puts a
   * controller's or a handler's routes under one: their tokens must name its `resource` in `aud`,
   * and the API's routes no longer accept tokens that name only it. Each has its RFC 9728 document
   * at the path-suffixed well-known URL, with the scopes of its own routes.
   * @default {}: every route is the API's
   * @example
   * resources: { mcp: { resource: `${config.getOrThrow('AUTH_PUBLIC_URL')}/mcp`, resourceName: 'Orders MCP' } }
   */
  resources?: Record<string, ResourceOptions>;
  /**
   * Rules every verified token must pass, on every request (`claimEquals`, `claimIncludes`,
   * `claimCheck`): a failure is 401 `invalid_token` (the token is not acceptable to this API)
   * unless the rule says `withStatus(403)`. Routes add their own with `@ClaimRules()`.
   * @default []
   * @example
   * claimRules: [claimEquals('org_id', 'acme')]
   */
  claimRules?: ClaimRule[];
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

/**
 * A class that makes the options, for `forRootAsync({ useClass })` or `{ useExisting }`: Nest
 * creates (or finds) it with its dependencies injected and calls `createAuthOptions()` once.
 *
 * @example
 * @Injectable()
 * class AuthConfig implements AuthOptionsFactory {
 *   constructor(private readonly config: ConfigService) {}
 *   createAuthOptions(): AuthModuleOptions {
 *     return { issuerUrl: this.config.getOrThrow('AUTH_ISSUER_URL'), audience: this.config.getOrThrow('AUTH_AUDIENCE') };
 *   }
 * }
 * AuthModule.forRootAsync({ imports: [ConfigModule], useClass: AuthConfig })
 */
export interface AuthOptionsFactory {
  createAuthOptions(): AuthModuleOptions | Promise<AuthModuleOptions>;
}

/**
 * What `AuthModule.forRootAsync()` takes: one of `useFactory` (with `inject`), `useClass` or
 * `useExisting` (an {@link AuthOptionsFactory}), `imports` for their dependencies, and the
 * {@link AuthModuleExtras}.
 */
export type AuthModuleAsyncOptions = ConfigurableModuleAsyncOptions<
  AuthModuleOptions,
  'createAuthOptions'
> &
  Partial<AuthModuleExtras>;
