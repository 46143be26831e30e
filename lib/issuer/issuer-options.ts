import { AuthOptionsError, optionNumber, refuseUnknownKeys } from '../errors/auth-options-error';
import type { IssuerDiscoveryConfig } from './issuer-discovery';
import type { KeyStoreConfig } from './jwks-key-store';
import { checkProviderUrl, providerUrlOption } from './url-policy';

/**
 * The issuer component's numbers, each written once: the defaults of its public options
 * (`httpTimeoutMs`, `jwksCooldownSeconds`) and the tuning of discovery and the key store.
 */
export const ISSUER_DEFAULTS = {
  /** `httpTimeoutMs`: each call to the provider (discovery, JWKS), from 100 to 60000 ms. */
  httpTimeoutMs: 5000,
  /** `jwksCooldownSeconds`: between refetches once the burst is used up, from 1 to 3600 s. */
  jwksCooldownSeconds: 30,
  /** Refetches for unknown `kid`s allowed in quick succession before the cooldown applies. */
  jwksRefetchBurst: 3,
  /** A key set older than this is refreshed (in the background; the old keys serve meanwhile). */
  jwksMaxAgeMs: 10 * 60 * 1000,
  /** At most one attempt per this while the JWKS cannot be fetched and nothing is cached. */
  jwksFailureBackoffMs: 1000,
  /** Keys of a JWKS read at most; the rest are ignored, with a warning. */
  jwksMaxKeys: 100,
  /** Discovery metadata older than this is fetched again. */
  discoveryMaxAgeMs: 24 * 3600 * 1000,
  /** Body cap of discovery and JWKS documents. */
  maxDocumentBytes: 512 * 1024,
} as const;

const HTTP_TIMEOUT_RANGE = [100, 60_000] as const;
const JWKS_COOLDOWN_RANGE = [1, 3600] as const;

/** One issuer of `issuerUrl`'s list, with settings of its own. */
export interface IssuerOptions {
  /** The issuer, exactly as the provider publishes it (the token's `iss`). */
  url: string;
  /**
   * The API identifier(s) that tokens of this issuer must name in `aud`.
   * @default the module's `audience`
   */
  audience?: string | string[];
  /**
   * This issuer's JWKS URL, to skip its discovery.
   * @default discovered from the issuer
   */
  jwksUri?: string;
}

/** The module options the issuer component reads (the rest are other components'). */
export interface IssuerOptionsInput {
  issuerUrl?: unknown;
  userinfoEndpoint?: unknown;
  opaqueTokens?: unknown;
  introspection?: unknown;
  httpTimeoutMs?: unknown;
  jwksCooldownSeconds?: unknown;
}

/** How the issuer component calls the provider, resolved: timeouts and the refetch cooldown. */
export interface ResolvedIssuerTuning {
  httpTimeoutMs: number;
  jwksCooldownMs: number;
}

/** `httpTimeoutMs` and `jwksCooldownSeconds`, validated, with their defaults. */
export function resolveIssuerTuning(options: IssuerOptionsInput): ResolvedIssuerTuning {
  const { httpTimeoutMs, jwksCooldownSeconds } = ISSUER_DEFAULTS;
  return {
    httpTimeoutMs: optionNumber(
      options.httpTimeoutMs,
      'httpTimeoutMs',
      httpTimeoutMs,
      ...HTTP_TIMEOUT_RANGE,
    ),
    jwksCooldownMs:
      optionNumber(
        options.jwksCooldownSeconds,
        'jwksCooldownSeconds',
        jwksCooldownSeconds,
        ...JWKS_COOLDOWN_RANGE,
      ) * 1000,
  };
}

/** Where discovery reads one issuer's metadata, and with what limits. */
export function discoveryConfig(
  issuer: ResolvedIssuer,
  tuning: ResolvedIssuerTuning,
  endpoints: { userinfoEndpoint?: string; introspectionEndpoint?: string },
): IssuerDiscoveryConfig {
  return {
    issuer: issuer.issuer,
    ...(issuer.jwksUri ? { jwksUri: issuer.jwksUri } : {}),
    ...endpoints,
    limits: { timeoutMs: tuning.httpTimeoutMs, maxBytes: ISSUER_DEFAULTS.maxDocumentBytes },
    maxAgeMs: ISSUER_DEFAULTS.discoveryMaxAgeMs,
  };
}

/** How an issuer's key store fetches, refetches and bounds its keys. */
export function keyStoreConfig(tuning: ResolvedIssuerTuning): KeyStoreConfig {
  return {
    limits: { timeoutMs: tuning.httpTimeoutMs, maxBytes: ISSUER_DEFAULTS.maxDocumentBytes },
    refetchBurst: ISSUER_DEFAULTS.jwksRefetchBurst,
    refetchCooldownMs: tuning.jwksCooldownMs,
    maxAgeMs: ISSUER_DEFAULTS.jwksMaxAgeMs,
    failureBackoffMs: ISSUER_DEFAULTS.jwksFailureBackoffMs,
    maxKeys: ISSUER_DEFAULTS.jwksMaxKeys,
  };
}

/** One trusted issuer after validation: what its tokens must carry and where its keys are. */
export interface ResolvedIssuer {
  /** The exact `iss` of its tokens. */
  issuer: string;
  /** The API identifiers its tokens must name in `aud` (the module's `audience` unless set). */
  audiences: string[];
  /** Its JWKS URL, when discovery is skipped. */
  jwksUri?: string;
}

/** Issuers `issuerUrl` may list at most: every issuer costs a discovery and a key set. */
export const MAX_ISSUERS = 20;

const ISSUER_OPTION_NAMES = {
  url: true,
  audience: true,
  jwksUri: true,
} satisfies Record<keyof IssuerOptions, true>;

/**
 * Validates `issuerUrl` (one issuer or a list) with the options that depend on it, and gives each
 * issuer its audiences and JWKS URL. Issuers are compared as exact strings, as a token's `iss` is:
 * `https://a/` and `https://a` are two issuers.
 */
export function resolveIssuers(
  options: IssuerOptionsInput,
  audiences: string[],
  jwksUri: string | undefined,
): ResolvedIssuer[] {
  const { issuerUrl } = options;
  if (!Array.isArray(issuerUrl)) {
    if (typeof issuerUrl !== 'string' || issuerUrl === '') {
      throw new AuthOptionsError(
        'issuerUrl',
        'is required (for Auth0: https://YOUR_TENANT.auth0.com/)',
      );
    }
    const problem = checkProviderUrl(issuerUrl);
    if (problem) throw new AuthOptionsError('issuerUrl', problem);
    return [{ issuer: issuerUrl, audiences, ...(jwksUri ? { jwksUri } : {}) }];
  }
  const list = issuerUrl as readonly unknown[];
  if (list.length === 0 || list.length > MAX_ISSUERS) {
    throw new AuthOptionsError(
      'issuerUrl',
      `must list from 1 to ${MAX_ISSUERS} issuers (it lists ${list.length})`,
    );
  }
  const resolved = list.map((entry, index) =>
    resolveEntry(entry, `issuerUrl[${index}]`, audiences),
  );
  const seen = new Set<string>();
  resolved.forEach(({ issuer }, index) => {
    if (seen.has(issuer)) {
      throw new AuthOptionsError(`issuerUrl[${index}]`, `"${issuer}" is listed twice`);
    }
    seen.add(issuer);
  });
  if (resolved.length === 1) {
    if (jwksUri && resolved[0].jwksUri) {
      throw new AuthOptionsError('jwksUri', `is set twice: here and in issuerUrl[0].jwksUri`);
    }
    return [{ ...resolved[0], ...(jwksUri ? { jwksUri } : {}) }];
  }
  const several = `issuerUrl lists ${resolved.length} issuers (${resolved.map((i) => i.issuer).join(', ')})`;
  if (jwksUri !== undefined) {
    throw new AuthOptionsError(
      'jwksUri',
      `names one key set, but ${several}: give each issuer its own, issuerUrl: [{ url, jwksUri }]`,
    );
  }
  if (options.userinfoEndpoint !== undefined) {
    throw new AuthOptionsError(
      'userinfoEndpoint',
      `names one provider's endpoint, but ${several}: with several issuers, each caller's ` +
        "profile comes from the userinfo_endpoint its own issuer's discovery publishes",
    );
  }
  if (options.opaqueTokens !== undefined || options.introspection !== undefined) {
    throw new AuthOptionsError(
      options.opaqueTokens !== undefined ? 'opaqueTokens' : 'introspection',
      `needs exactly one issuer, but ${several}: an opaque token does not say which issuer ` +
        'issued it, so the API could not tell whose userinfo or introspection endpoint to ask. ' +
        'Have clients request JWT access tokens (with the audience), or run one issuer',
    );
  }
  return resolved;
}

function resolveEntry(entry: unknown, name: string, audiences: string[]): ResolvedIssuer {
  if (typeof entry === 'string') {
    const problem = entry === '' ? 'must not be empty' : checkProviderUrl(entry);
    if (problem) throw new AuthOptionsError(name, problem);
    return { issuer: entry, audiences };
  }
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
    throw new AuthOptionsError(name, 'must be an issuer URL or { url, audience?, jwksUri? }');
  }
  refuseUnknownKeys(entry, ISSUER_OPTION_NAMES, `${name}.`);
  const { url, audience, jwksUri } = entry as IssuerOptions;
  const urlProblem =
    typeof url !== 'string' || url === ''
      ? 'is required: the issuer, exactly as its tokens name it in iss'
      : checkProviderUrl(url);
  if (urlProblem) throw new AuthOptionsError(`${name}.url`, urlProblem);
  const own = typeof audience === 'string' ? [audience] : audience;
  if (
    own !== undefined &&
    (!Array.isArray(own) ||
      own.length === 0 ||
      !own.every((a: unknown) => typeof a === 'string' && a !== ''))
  ) {
    throw new AuthOptionsError(
      `${name}.audience`,
      'must be a string or an array of strings (not empty) when set',
    );
  }
  providerUrlOption(jwksUri, `${name}.jwksUri`);
  return {
    issuer: url,
    audiences: own ? [...own] : audiences,
    ...(jwksUri !== undefined ? { jwksUri } : {}),
  };
}
