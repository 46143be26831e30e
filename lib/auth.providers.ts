import { createHash, type KeyObject } from 'node:crypto';
import { Logger, type Provider } from '@nestjs/common';
import type { AuthModuleOptions } from './options/auth-options.interface';
import {
  INTROSPECTION_CREDENTIALS,
  OPAQUE_CACHE,
  OPAQUE_LIMITER,
  PROFILE_LIMITER,
  RESOLVED_AUTH_OPTIONS,
  TOKEN_INFO_LIMITS,
  USERINFO_CACHE,
} from './auth.constants';
import { checkCachedProfile, checkCachedUser } from './cache/cached-values';
import { CACHE_FORMAT_VERSION, TokenResultCache } from './cache/token-result-cache';
import { AUTH_MODULE_OPTIONS } from './auth.module-definition';
import { AccessTokenGuard } from './guards/access-token.guard';
import { GraphqlWsAuth } from './graphql-ws-auth.service';
import { GraphqlSetupCheck } from './contexts/graphql-setup.check';
import { IssuerDiscovery } from './issuer/issuer-discovery';
import { IssuerStartupCheck } from './issuer/issuer-startup-check';
import { JwksKeyStore } from './issuer/jwks-key-store';
import { discoveryConfig, keyStoreConfig, type ResolvedIssuer } from './issuer/issuer-options';
import { TrustedIssuers } from './issuer/trusted-issuers';
import { HMAC_SECRET, resolveHmacSecret } from './token/hmac-secret';
import { resolveAuthOptions, type ResolvedAuthOptions } from './options/resolve-auth-options';
import { OPAQUE_DEFAULTS } from './opaque/opaque-options';
import { OpaqueTokenVerifier } from './opaque/opaque-token.verifier';
import { ProtectedResourceMetadata } from './resource-metadata/protected-resource-metadata';
import { UpstreamLimiter } from './opaque/upstream-limiter';
import { UserinfoService } from './userinfo.service';
import { AccessTokenStrategy } from './strategies/access-token.strategy';
import { AccessTokenVerifier } from './verifier/access-token.verifier';
import { SenderConstraint } from './binding/sender-constraint';
import type { FetchLimits } from './issuer/fetch-json';
import type { IntrospectionCredentials } from './opaque/introspection-client';
import type { AuthUser } from './token/auth-user';
import { McpScopes } from './mcp/mcp-scopes';

/**
 * A cache of what the provider said of tokens. Shared-store keys name the issuer, audiences (and
 * resources) and mode: two APIs sharing one Redis never take each other's answers. They name the entries' format
 * version too (`CACHE_FORMAT_VERSION`), and every entry read back is checked like an answer.
 */
function tokenCache(kind: 'opaque' | 'userinfo') {
  return (options: ResolvedAuthOptions) => {
    // The resources' identifiers too (when any): their answers are accepted here, per route.
    const resources = Object.values(options.resources).map((r) => r.resource);
    const scope = JSON.stringify([
      options.issuer,
      [...options.audiences].sort(),
      kind === 'opaque' ? options.opaqueTokens : 'userinfo',
      options.introspection?.clientId ?? null,
      ...(resources.length > 0 ? [resources.sort()] : []),
    ]);
    const tenant = createHash('sha256').update(scope).digest('hex').slice(0, 16);
    return new TokenResultCache(
      {
        // The format version keeps entries of another shape (older or newer instances) unread.
        namespace: `nest-oauth2-bearer:${CACHE_FORMAT_VERSION}:${kind}:${tenant}:`,
        checkValue: kind === 'opaque' ? checkCachedUser : checkCachedProfile,
        ...options.cache,
      },
      new Logger('TokenCache'),
    );
  };
}

/** Every provider of {@link AuthModule}: the resolved options, then each part built from them. */
export const AUTH_PROVIDERS: Provider[] = [
  {
    provide: RESOLVED_AUTH_OPTIONS,
    inject: [AUTH_MODULE_OPTIONS],
    useFactory: (options: AuthModuleOptions) => resolveAuthOptions(options),
  },
  {
    // Validated with the other options (RESOLVED_AUTH_OPTIONS first), kept out of them.
    provide: INTROSPECTION_CREDENTIALS,
    inject: [AUTH_MODULE_OPTIONS, RESOLVED_AUTH_OPTIONS],
    useFactory: (
      raw: AuthModuleOptions,
      options: ResolvedAuthOptions,
    ): IntrospectionCredentials | undefined =>
      options.introspection
        ? {
            clientId: options.introspection.clientId,
            clientSecret: raw.introspection!.clientSecret,
          }
        : undefined,
  },
  {
    // Validated with the other options (RESOLVED_AUTH_OPTIONS first), kept out of them.
    provide: HMAC_SECRET,
    inject: [AUTH_MODULE_OPTIONS, RESOLVED_AUTH_OPTIONS],
    useFactory: (raw: AuthModuleOptions, options: ResolvedAuthOptions) =>
      options.keySource === 'secret' ? resolveHmacSecret(raw.secret) : undefined,
  },
  {
    provide: TrustedIssuers,
    inject: [RESOLVED_AUTH_OPTIONS, HMAC_SECRET],
    useFactory: (options: ResolvedAuthOptions, secret: KeyObject | undefined) =>
      new TrustedIssuers(
        options,
        {
          discovery: (issuer: ResolvedIssuer) =>
            new IssuerDiscovery(
              // Only with one issuer (several refuse them): that issuer's endpoints.
              discoveryConfig(issuer, options, {
                ...(options.userinfoEndpoint ? { userinfoEndpoint: options.userinfoEndpoint } : {}),
                ...(options.introspection?.endpoint
                  ? { introspectionEndpoint: options.introspection.endpoint }
                  : {}),
              }),
            ),
          keyStore: (discovery: IssuerDiscovery) =>
            new JwksKeyStore(discovery, keyStoreConfig(options), new Logger('JwksKeyStore')),
        },
        secret,
      ),
  },
  {
    // The first issuer's (the only one's, unless several are listed): for opaque tokens.
    provide: IssuerDiscovery,
    inject: [TrustedIssuers],
    useFactory: (issuers: TrustedIssuers) => issuers.first.discovery,
  },
  {
    provide: IssuerStartupCheck,
    inject: [RESOLVED_AUTH_OPTIONS, TrustedIssuers],
    useFactory: (options: ResolvedAuthOptions, issuers: TrustedIssuers) =>
      new IssuerStartupCheck(
        // With a secret, discovery serves opaque tokens only: nothing to check unless they are on.
        options.keySource === 'secret' && !options.opaqueTokens
          ? []
          : issuers.all.map((issuer) => issuer.discovery),
      ),
  },
  {
    // The first issuer's key store (the only one's, unless several are listed).
    provide: JwksKeyStore,
    inject: [TrustedIssuers],
    useFactory: (issuers: TrustedIssuers) => issuers.first.keys,
  },
  {
    provide: TOKEN_INFO_LIMITS,
    inject: [RESOLVED_AUTH_OPTIONS],
    useFactory: (options: ResolvedAuthOptions): FetchLimits => ({
      timeoutMs: options.httpTimeoutMs,
      maxBytes: OPAQUE_DEFAULTS.maxAnswerBytes,
    }),
  },
  {
    provide: OPAQUE_LIMITER,
    inject: [RESOLVED_AUTH_OPTIONS],
    useFactory: ({ upstream: { opaqueTokens } }: ResolvedAuthOptions) =>
      new UpstreamLimiter(opaqueTokens.maxConcurrent, opaqueTokens.maxPerSecond),
  },
  {
    provide: PROFILE_LIMITER,
    inject: [RESOLVED_AUTH_OPTIONS],
    useFactory: ({ upstream: { profiles } }: ResolvedAuthOptions) =>
      new UpstreamLimiter(profiles.maxConcurrent, profiles.maxPerSecond),
  },
  { provide: OPAQUE_CACHE, inject: [RESOLVED_AUTH_OPTIONS], useFactory: tokenCache('opaque') },
  { provide: USERINFO_CACHE, inject: [RESOLVED_AUTH_OPTIONS], useFactory: tokenCache('userinfo') },
  {
    provide: OpaqueTokenVerifier,
    inject: [
      RESOLVED_AUTH_OPTIONS,
      IssuerDiscovery,
      OPAQUE_CACHE,
      OPAQUE_LIMITER,
      TOKEN_INFO_LIMITS,
      INTROSPECTION_CREDENTIALS,
    ],
    useFactory: (
      options: ResolvedAuthOptions,
      discovery: IssuerDiscovery,
      cache: TokenResultCache<AuthUser>,
      limiter: UpstreamLimiter,
      limits: FetchLimits,
      credentials: IntrospectionCredentials | undefined,
    ) => new OpaqueTokenVerifier(options, discovery, cache, limiter, limits, credentials),
  },
  {
    // The DPoP nonce secret comes from the raw options and stays out of the injectable ones.
    provide: SenderConstraint,
    inject: [AUTH_MODULE_OPTIONS, RESOLVED_AUTH_OPTIONS],
    useFactory: (raw: AuthModuleOptions, options: ResolvedAuthOptions) =>
      new SenderConstraint(options, raw.dpop?.nonce?.secret),
  },
  UserinfoService,
  {
    provide: AccessTokenVerifier,
    inject: [RESOLVED_AUTH_OPTIONS, TrustedIssuers, OpaqueTokenVerifier, SenderConstraint],
    useFactory: (
      options: ResolvedAuthOptions,
      issuers: TrustedIssuers,
      opaque: OpaqueTokenVerifier,
      senders: SenderConstraint,
    ) => new AccessTokenVerifier(options, issuers, opaque, senders),
  },
  AccessTokenStrategy,
  AccessTokenGuard,
  // The scopes of MCP operations, declared by the app and read by the guard: one per app.
  McpScopes,
  GraphqlWsAuth,
  GraphqlSetupCheck,
  ProtectedResourceMetadata,
];
