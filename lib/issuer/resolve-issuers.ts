import type { AuthModuleOptions, IssuerOptions } from '../options/auth-options.interface';
import { AuthOptionsError, refuseUnknownKeys } from '../errors/auth-options-error';
import { checkProviderUrl } from './url-policy';

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
  options: AuthModuleOptions,
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
  if (jwksUri !== undefined) {
    const problem = typeof jwksUri === 'string' ? checkProviderUrl(jwksUri) : 'must be a string';
    if (problem) throw new AuthOptionsError(`${name}.jwksUri`, problem);
  }
  return {
    issuer: url,
    audiences: own ? [...own] : audiences,
    ...(jwksUri !== undefined ? { jwksUri } : {}),
  };
}
