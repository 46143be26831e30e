import type { AuthModuleExtras, AuthModuleOptions } from './auth-options.interface';
import { defaultRpcAuthorization, type RpcAuthorization } from '../token/rpc-authorization';
import { resolveHmacAlgorithms, resolveHmacSecret } from '../token/hmac-secret';
import { resolveIssuers, resolveIssuerTuning, type ResolvedIssuer } from '../issuer/issuer-options';
import type { ClaimRule } from '../token/claim-rules';
import { resolveClaimRules } from '../token/resolve-claim-rules';
import { resolveDpopOptions, type ResolvedDpopOptions } from '../binding/dpop-options';
import { resolveMtlsOptions, type ResolvedMtlsOptions } from '../binding/mtls-options';
import {
  PROTECTED_RESOURCE_OPTION_NAMES,
  resolveProtectedResource,
  resolveResources,
  type ResolvedProtectedResource,
  type ResolvedResource,
} from '../resource-metadata/protected-resource-options';
import { SUPPORTED_ALGORITHMS } from '../token/check-jwt-header';
import {
  AuthOptionsError,
  optionFlag,
  optionNumber,
  refuseUnknownKeys,
} from '../errors/auth-options-error';
import { providerUrlOption } from '../issuer/url-policy';
import { challengeRealm } from '../errors/www-authenticate';
import { resolveOpaqueOptions, type ResolvedOpaqueOptions } from '../opaque/opaque-options';
import {
  resolveVerifiedTokenCache,
  type ResolvedVerifiedTokenCacheOptions,
} from '../cache/verified-token-cache-options';

/**
 * The options after validation, with every default filled in, as `@InjectAuthOptions()` hands them
 * out. They hold no secret: the introspection client secret stays with the introspection client.
 */
export interface ResolvedAuthOptions extends ResolvedOpaqueOptions {
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
  /** Bounds of the in-process verified-token cache; `false` when it is off. */
  verifiedTokenCache: ResolvedVerifiedTokenCacheOptions;
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
  /** The resources beside the API (`resources`), by name: their identifiers and documents. */
  resources: Record<string, ResolvedResource>;
  /** Rules every verified token must pass (`claimRules`), checked on every request. */
  claimRules: ClaimRule[];
}

const SUPPORTED = new Set<string>(SUPPORTED_ALGORITHMS);

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
  resources: true,
  claimRules: true,
} satisfies Record<keyof AuthModuleOptions, true>;
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
  providerUrlOption(jwksUri, 'jwksUri');

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
    realm: challengeRealm(options.realm),
    maxTokenLength: optionNumber(options.maxTokenLength, 'maxTokenLength', 8192, 256, 65536),
    ...resolveIssuerTuning(options),
    ...resolveOpaqueOptions(options, perIssuer[0].jwksUri),
    verifiedTokenCache: resolveVerifiedTokenCache(options.verifiedTokenCache),
    rpcAuthorization: resolveRpcAuthorization(options.rpcAuthorization),
    dpop: resolveDpopOptions(options.dpop),
    mtls: resolveMtlsOptions(options.mtls),
    ...resolveResourceMetadata(options, audiences, perIssuer),
    claimRules: resolveClaimRules(options.claimRules),
  };
}

function resolveResourceMetadata(
  { protectedResource: value, resources }: AuthModuleOptions,
  audiences: string[],
  perIssuer: readonly ResolvedIssuer[],
): Pick<ResolvedAuthOptions, 'protectedResource' | 'resourceMetadataUrl' | 'resources'> {
  if (typeof value === 'object' && value !== null)
    refuseUnknownKeys(value, PROTECTED_RESOURCE_OPTION_NAMES, 'protectedResource.');
  const resolved = resolveProtectedResource(value, audiences);
  // Every issuer's audiences: a resource's identifier must be none of them.
  const everyAudience = [...new Set(perIssuer.flatMap((issuer) => issuer.audiences))];
  return {
    protectedResource: resolved,
    ...(resolved.enabled ? { resourceMetadataUrl: resolved.metadataUrl } : {}),
    resources: resolveResources(resources, everyAudience, resolved),
  };
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
