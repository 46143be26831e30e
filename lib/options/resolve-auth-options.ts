import type {
  AuthModuleExtras,
  AuthModuleOptions,
  CacheOptions,
  IntrospectionOptions,
  UpstreamBudget,
  UpstreamOptions,
} from './auth-options.interface';
import type { SharedCacheStore } from '../cache/shared-cache-store.interface';
import { INDEX_BYTES_PER_ENTRY, minimumCacheBytes } from '../cache/verified-token-cache';
import { defaultRpcAuthorization, type RpcAuthorization } from '../token/rpc-authorization';
import { resolveHmacAlgorithms, resolveHmacSecret } from '../token/hmac-secret';
import { resolveIssuers, type ResolvedIssuer } from '../issuer/resolve-issuers';
import type { ClaimRule } from '../token/claim-rules';
import { resolveClaimRules } from '../token/resolve-claim-rules';
import { checkProviderUrl } from '../issuer/url-policy';
import { resolveDpopOptions, type ResolvedDpopOptions } from '../binding/dpop-options';
import { resolveMtlsOptions, type ResolvedMtlsOptions } from '../binding/mtls-options';
import {
  PROTECTED_RESOURCE_OPTION_NAMES,
  resolveProtectedResource,
  type ResolvedProtectedResource,
} from '../resource-metadata/protected-resource-options';
import { SUPPORTED_ALGORITHMS } from '../token/check-jwt-header';
import {
  AuthOptionsError,
  optionFlag,
  optionNumber,
  optionText,
  refuseUnknownKeys,
} from '../errors/auth-options-error';

/**
 * The options after validation, with every default filled in, as `@InjectAuthOptions()` hands them
 * out. They hold no secret: the introspection client secret stays with the introspection client.
 */
export interface ResolvedAuthOptions {
  /** The first issuer of `issuers` (the only one, unless `issuerUrl` lists several). */
  issuer: string;
  /** Every trusted issuer, in the order of `issuerUrl`: exactly the `iss` values accepted. */
  issuers: string[];
  /** Each issuer's audiences and JWKS URL, in the order of `issuers`. */
  perIssuer: ResolvedIssuer[];
  /** Where signature keys come from: the issuers' JWKS, or the HMAC `secret` (never in here). */
  keySource: 'jwks' | 'secret';
  audiences: string[];
  jwksUri?: string;
  algorithms?: string[];
  clockToleranceSeconds: number;
  allowQueryToken: boolean;
  strict: boolean;
  realm: string;
  maxTokenLength: number;
  httpTimeoutMs: number;
  jwksCooldownMs: number;
  opaqueTokens?: 'userinfo' | 'introspection';
  userinfoEndpoint?: string;
  /** Introspection's endpoint and client id; its secret is never part of the injectable options. */
  introspection?: { endpoint?: string; clientId: string };
  cache: {
    ttlMs: number;
    failureTtlMs: number;
    maxEntries: number;
    maxBytes: number;
    storeTimeoutMs: number;
    store?: SharedCacheStore;
  };
  upstream: { opaqueTokens: ResolvedUpstreamBudget; profiles: ResolvedUpstreamBudget };
  /** Bounds of the in-process verified-token cache; `false` when it is off. */
  verifiedTokenCache: { maxEntries: number; maxBytes: number } | false;
  /** Where RPC messages carry their credentials (`defaultRpcAuthorization` unless set). */
  rpcAuthorization: RpcAuthorization;
  /** DPoP (RFC 9449): mode, proof algorithms, `iat` window, nonces (without their secret). */
  dpop: ResolvedDpopOptions;
  /** Certificate-bound tokens (RFC 8705): mode and the trusted proxy header, if any. */
  mtls: ResolvedMtlsOptions;
  /** RFC 9728 metadata: the document's resource and URL, or why none is served. */
  protectedResource: ResolvedProtectedResource;
  /** `resource_metadata` of every challenge (RFC 9728 §5.1): the document's absolute URL. */
  resourceMetadataUrl?: string;
  /** Rules every verified token must pass (`claimRules`), checked on every request. */
  claimRules: ClaimRule[];
}

/** A budget of upstream calls, with its defaults filled in. */
export interface ResolvedUpstreamBudget {
  maxConcurrent: number;
  maxPerSecond: number;
}

const SUPPORTED = new Set<string>(SUPPORTED_ALGORITHMS);

/** Default bounds of the verified-token cache: about 64 MiB at most (see bench/RESULTS.md). */
export const DEFAULT_VERIFIED_TOKEN_CACHE = { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 };

/** Every option's name, by object: a key not listed is refused, naming the nearest one. */
const OPTION_NAMES = {
  issuerUrl: true,
  audience: true,
  jwksUri: true,
  algorithms: true,
  secret: true,
  clockTolerance: true,
  allowQueryToken: true,
  strict: true,
  realm: true,
  maxTokenLength: true,
  httpTimeoutMs: true,
  jwksCooldownSeconds: true,
  opaqueTokens: true,
  userinfoEndpoint: true,
  introspection: true,
  cache: true,
  upstream: true,
  verifiedTokenCache: true,
  rpcAuthorization: true,
  dpop: true,
  mtls: true,
  protectedResource: true,
  claimRules: true,
} satisfies Record<keyof AuthModuleOptions, true>;
const CACHE_OPTION_NAMES = {
  ttlSeconds: true,
  failureTtlSeconds: true,
  maxEntries: true,
  maxBytes: true,
  store: true,
  storeTimeoutMs: true,
} satisfies Record<keyof CacheOptions, true>;
const INTROSPECTION_OPTION_NAMES = {
  endpoint: true,
  clientId: true,
  clientSecret: true,
} satisfies Record<keyof IntrospectionOptions, true>;
const UPSTREAM_OPTION_NAMES = {
  opaqueTokens: true,
  profiles: true,
} satisfies Record<keyof UpstreamOptions, true>;
const BUDGET_OPTION_NAMES = {
  maxConcurrent: true,
  maxPerSecond: true,
} satisfies Record<keyof UpstreamBudget, true>;
const VERIFIED_TOKEN_CACHE_OPTION_NAMES = { maxEntries: true, maxBytes: true };
/** The module's extras, refused among the options with where they belong. */
const MODULE_EXTRAS = Object.fromEntries(
  Object.keys({ isGlobal: true, globalGuard: true } satisfies Record<
    keyof AuthModuleExtras,
    true
  >).map((name) => [
    name,
    'shapes the module: give it to forRoot() or forRootAsync() beside the options, not from ' +
      'useFactory, useClass or useExisting',
  ]),
);

/** Validates the options once, at bootstrap, and fills in the defaults. */
export function resolveAuthOptions(options: AuthModuleOptions): ResolvedAuthOptions {
  if (typeof options !== 'object' || options === null)
    throw new AuthOptionsError('options', 'an options object is required');
  if ('signatureChecks' in options) {
    throw new AuthOptionsError(
      'signatureChecks',
      'was removed: signatures are checked on the event loop, batched with the other requests of ' +
        'the same loop turn, which measured cheaper per token than the thread pool; remove the option',
    );
  }
  refuseUnknownKeys(options, OPTION_NAMES, '', MODULE_EXTRAS);
  const { issuerUrl, audience, jwksUri } = options;
  let { algorithms } = options;
  if (typeof issuerUrl !== 'string' && !Array.isArray(issuerUrl)) {
    throw new AuthOptionsError(
      'issuerUrl',
      'is required (for Auth0: https://YOUR_TENANT.auth0.com/)',
    );
  }
  providerUrl(jwksUri, 'jwksUri');

  const audiences = typeof audience === 'string' ? [audience] : audience;
  if (audience === undefined || audience === '' || (Array.isArray(audience) && !audience.length)) {
    throw new AuthOptionsError(
      'audience',
      "is required: your API's identifier (Auth0: APIs > your API > Identifier)",
    );
  }
  if (!Array.isArray(audiences) || !audiences.every((a) => typeof a === 'string' && a !== '')) {
    throw new AuthOptionsError('audience', 'must be a string or an array of strings (not empty)');
  }
  const perIssuer = resolveIssuers(options, [...audiences], jwksUri);
  // Validated here, kept out of the result: the key object lives in its own provider.
  const secretKey = resolveHmacSecret(options.secret);
  const hmac = secretKey !== undefined;
  if (hmac) {
    const keyed = perIssuer.find((i) => i.jwksUri !== undefined);
    if (keyed) {
      throw new AuthOptionsError(
        jwksUri !== undefined ? 'jwksUri' : `issuerUrl[${perIssuer.indexOf(keyed)}].jwksUri`,
        'cannot be set with secret: HMAC tokens are verified with the secret only, never mixed ' +
          'with JWKS keys. Remove one of them',
      );
    }
    if (perIssuer.length > 1) {
      throw new AuthOptionsError(
        'secret',
        `cannot be used with ${perIssuer.length} issuers: one HMAC secret cannot keep issuers ` +
          'apart (whoever holds it signs tokens with any of their iss). With secret, give one ' +
          'issuerUrl; several issuers need their own keys (JWKS)',
      );
    }
    algorithms = resolveHmacAlgorithms(algorithms, secretKey.symmetricKeySize!);
  } else if (algorithms !== undefined) {
    if (!Array.isArray(algorithms) || algorithms.length === 0) {
      throw new AuthOptionsError('algorithms', 'must be a non-empty array when set');
    }
    const unsupported = algorithms.filter((alg) => !SUPPORTED.has(alg));
    if (unsupported.length > 0) {
      throw new AuthOptionsError(
        'algorithms',
        `${unsupported.join(', ')} not supported; choose from ${SUPPORTED_ALGORITHMS.join(', ')} ` +
          '(never none; HMAC only with secret)',
      );
    }
  }

  return {
    issuer: perIssuer[0].issuer,
    issuers: perIssuer.map((i) => i.issuer),
    perIssuer,
    keySource: hmac ? 'secret' : 'jwks',
    audiences: [...audiences],
    ...(jwksUri !== undefined ? { jwksUri } : {}),
    ...(algorithms !== undefined ? { algorithms: [...algorithms] } : {}),
    clockToleranceSeconds: optionNumber(options.clockTolerance, 'clockTolerance', 5, 0, 300),
    allowQueryToken: optionFlag(options.allowQueryToken, 'allowQueryToken', false),
    strict: optionFlag(options.strict, 'strict', false),
    realm: optionText(options.realm, 'realm', 'api'),
    maxTokenLength: optionNumber(options.maxTokenLength, 'maxTokenLength', 8192, 256, 65536),
    httpTimeoutMs: optionNumber(options.httpTimeoutMs, 'httpTimeoutMs', 5000, 100, 60000),
    jwksCooldownMs:
      optionNumber(options.jwksCooldownSeconds, 'jwksCooldownSeconds', 30, 1, 3600) * 1000,
    ...resolveOpaque(options, perIssuer[0].jwksUri),
    verifiedTokenCache: resolveVerifiedTokenCache(options.verifiedTokenCache),
    rpcAuthorization: resolveRpcAuthorization(options.rpcAuthorization),
    dpop: resolveDpop(options.dpop),
    mtls: resolveMtls(options.mtls),
    ...resolveResourceMetadata(options.protectedResource, audiences),
    claimRules: resolveModuleClaimRules(options.claimRules),
  };
}

function resolveModuleClaimRules(value: unknown): ClaimRule[] {
  const resolved = resolveClaimRules(value);
  if (typeof resolved[0] === 'string')
    throw new AuthOptionsError(...(resolved as [string, string]));
  return resolved as ClaimRule[];
}

function resolveResourceMetadata(
  value: AuthModuleOptions['protectedResource'],
  audiences: string[],
): Pick<ResolvedAuthOptions, 'protectedResource' | 'resourceMetadataUrl'> {
  if (typeof value === 'object' && value !== null)
    refuseUnknownKeys(value, PROTECTED_RESOURCE_OPTION_NAMES, 'protectedResource.');
  const resolved = resolveProtectedResource(value, audiences, (option, problem) => {
    throw new AuthOptionsError(option, problem);
  });
  return {
    protectedResource: resolved,
    ...(resolved.enabled ? { resourceMetadataUrl: resolved.metadataUrl } : {}),
  };
}

function providerUrl(value: unknown, name: string): string | undefined {
  if (value === undefined) return undefined;
  const problem = typeof value === 'string' ? checkProviderUrl(value) : 'must be a string';
  if (problem) throw new AuthOptionsError(name, problem);
  return value as string;
}

function resolveOpaque(options: AuthModuleOptions, jwksUri: string | undefined) {
  const { opaqueTokens, introspection } = options;
  const userinfoEndpoint = providerUrl(options.userinfoEndpoint, 'userinfoEndpoint');
  if (
    opaqueTokens !== undefined &&
    opaqueTokens !== 'userinfo' &&
    opaqueTokens !== 'introspection'
  ) {
    throw new AuthOptionsError('opaqueTokens', "must be 'userinfo' or 'introspection' when set");
  }
  if (opaqueTokens === 'userinfo' && jwksUri && !userinfoEndpoint) {
    throw new AuthOptionsError(
      'userinfoEndpoint',
      'is required with jwksUri, since discovery is skipped',
    );
  }
  let resolvedIntrospection: ResolvedAuthOptions['introspection'];
  if (opaqueTokens === 'introspection' || introspection !== undefined) {
    if (typeof introspection !== 'object' || introspection === null) {
      throw new AuthOptionsError(
        'introspection',
        'needs { clientId, clientSecret } for opaqueTokens: introspection',
      );
    }
    refuseUnknownKeys(introspection, INTROSPECTION_OPTION_NAMES, 'introspection.');
    const { clientId, clientSecret } = introspection;
    if (
      typeof clientId !== 'string' ||
      clientId === '' ||
      typeof clientSecret !== 'string' ||
      clientSecret === ''
    ) {
      throw new AuthOptionsError('introspection', 'clientId and clientSecret are required strings');
    }
    const endpoint = providerUrl(introspection.endpoint, 'introspection.endpoint');
    if (jwksUri && !endpoint) {
      throw new AuthOptionsError(
        'introspection.endpoint',
        'is required with jwksUri, since discovery is skipped',
      );
    }
    resolvedIntrospection = { clientId, ...(endpoint ? { endpoint } : {}) };
  }
  const cache = options.cache === undefined ? {} : options.cache;
  if (typeof cache !== 'object' || cache === null) {
    throw new AuthOptionsError('cache', 'must be an object of cache options');
  }
  refuseUnknownKeys(cache, CACHE_OPTION_NAMES, 'cache.');
  const upstream = options.upstream ?? {};
  const store = cache.store;
  if (
    store !== undefined &&
    (typeof store?.get !== 'function' || typeof store?.set !== 'function')
  ) {
    throw new AuthOptionsError(
      'cache.store',
      'must have get(key) and set(key, value, ttl) (a cache-manager Cache)',
    );
  }
  return {
    ...(opaqueTokens ? { opaqueTokens } : {}),
    ...(userinfoEndpoint ? { userinfoEndpoint } : {}),
    ...(resolvedIntrospection ? { introspection: resolvedIntrospection } : {}),
    cache: {
      ttlMs: optionNumber(cache.ttlSeconds, 'cache.ttlSeconds', 300, 1, 86400) * 1000,
      failureTtlMs:
        optionNumber(cache.failureTtlSeconds, 'cache.failureTtlSeconds', 10, 0, 3600) * 1000,
      maxEntries: optionNumber(cache.maxEntries, 'cache.maxEntries', 10_000, 1, 10_000_000),
      maxBytes: optionNumber(cache.maxBytes, 'cache.maxBytes', 50 * 1024 * 1024, 1024, 2 ** 40),
      storeTimeoutMs: optionNumber(cache.storeTimeoutMs, 'cache.storeTimeoutMs', 150, 1, 10_000),
      ...(store ? { store } : {}),
    },
    upstream: resolveUpstream(upstream),
  };
}

function resolveUpstream(upstream: UpstreamOptions): ResolvedAuthOptions['upstream'] {
  if (typeof upstream !== 'object' || upstream === null) {
    throw new AuthOptionsError('upstream', 'must be { opaqueTokens, profiles }');
  }
  for (const flat of ['maxConcurrent', 'maxPerSecond'] as const) {
    if (flat in upstream) {
      throw new AuthOptionsError(
        `upstream.${flat}`,
        `is set per budget: upstream.opaqueTokens.${flat} (lookups of opaque tokens) or ` +
          `upstream.profiles.${flat} (profiles of verified callers)`,
      );
    }
  }
  refuseUnknownKeys(upstream, UPSTREAM_OPTION_NAMES, 'upstream.');
  const budget = (name: keyof UpstreamOptions): ResolvedUpstreamBudget => {
    const value = upstream[name] ?? {};
    if (typeof value !== 'object' || value === null) {
      throw new AuthOptionsError(`upstream.${name}`, 'must be { maxConcurrent, maxPerSecond }');
    }
    refuseUnknownKeys(value, BUDGET_OPTION_NAMES, `upstream.${name}.`);
    return {
      maxConcurrent: optionNumber(
        value.maxConcurrent,
        `upstream.${name}.maxConcurrent`,
        20,
        1,
        10_000,
      ),
      maxPerSecond: optionNumber(
        value.maxPerSecond,
        `upstream.${name}.maxPerSecond`,
        50,
        1,
        100_000,
      ),
    };
  };
  return { opaqueTokens: budget('opaqueTokens'), profiles: budget('profiles') };
}

function resolveDpop(value: unknown): ResolvedDpopOptions {
  const resolved = resolveDpopOptions(value);
  if (Array.isArray(resolved)) throw new AuthOptionsError(...resolved);
  return resolved;
}

function resolveMtls(value: unknown): ResolvedMtlsOptions {
  const resolved = resolveMtlsOptions(value);
  if (Array.isArray(resolved)) throw new AuthOptionsError(...resolved);
  return resolved;
}

function resolveRpcAuthorization(value: unknown): RpcAuthorization {
  if (value === undefined) return defaultRpcAuthorization;
  if (typeof value !== 'function') {
    throw new AuthOptionsError(
      'rpcAuthorization',
      "must be a function (data, context) returning the message's Authorization value",
    );
  }
  return value as RpcAuthorization;
}

function resolveVerifiedTokenCache(
  value: AuthModuleOptions['verifiedTokenCache'],
): ResolvedAuthOptions['verifiedTokenCache'] {
  if (value === false) return false;
  if (value === undefined || value === true) return { ...DEFAULT_VERIFIED_TOKEN_CACHE };
  if (typeof value !== 'object' || value === null) {
    throw new AuthOptionsError(
      'verifiedTokenCache',
      'must be true, false or { maxEntries, maxBytes }',
    );
  }
  refuseUnknownKeys(value, VERIFIED_TOKEN_CACHE_OPTION_NAMES, 'verifiedTokenCache.');
  const maxEntries = optionNumber(
    value.maxEntries,
    'verifiedTokenCache.maxEntries',
    DEFAULT_VERIFIED_TOKEN_CACHE.maxEntries,
    1,
    10_000_000,
  );
  // The index and the store (allocated once, outside the V8 heap, resident as it is written).
  const maxBytes = optionNumber(
    value.maxBytes,
    'verifiedTokenCache.maxBytes',
    DEFAULT_VERIFIED_TOKEN_CACHE.maxBytes,
    1024,
    2 ** 30,
  );
  if (maxBytes < minimumCacheBytes(maxEntries)) {
    throw new AuthOptionsError(
      'verifiedTokenCache.maxBytes',
      `must leave room for the index of maxEntries (${INDEX_BYTES_PER_ENTRY} bytes per entry) and a ` +
        `store: at least ${minimumCacheBytes(maxEntries)} for ${maxEntries} entries`,
    );
  }
  return { maxEntries, maxBytes };
}
