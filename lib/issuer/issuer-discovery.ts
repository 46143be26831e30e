import { IssuerUnavailableError } from '../errors/auth-error';
import { describeValue } from '../token/describe-value';
import { fetchJson, RemoteFetchError, type FetchLimits } from './fetch-json';
import { checkProviderUrl } from './url-policy';

/**
 * How often stale metadata is refreshed while the provider keeps failing, and how long a
 * configuration error is kept before the provider is asked again.
 */
const STALE_RETRY_MS = 30_000;

/**
 * The issuer's metadata cannot be had because `issuerUrl` and the provider disagree: asking again
 * will not help, only a change of configuration (ours or the provider's) will.
 */
export class IssuerConfigurationError extends RemoteFetchError {}

/**
 * The provider's discovery document names another issuer than `issuerUrl`: a configuration error
 * (most often Auth0's trailing slash), which refuses every token with 503 until it is fixed.
 */
export class IssuerMismatchError extends IssuerConfigurationError {
  constructor(
    readonly configured: string,
    readonly discovered: unknown,
    url: string,
  ) {
    const published = describeValue(discovered);
    const hint =
      typeof discovered === 'string' && discovered === `${configured}/`
        ? ' (Auth0 issuers end with a slash: add it)'
        : typeof discovered === 'string' && `${discovered}/` === configured
          ? ' (this issuer has no trailing slash: remove it)'
          : '';
    super(
      'invalid_json',
      `issuerUrl "${configured}" differs from the issuer "${published}" that the provider's ` +
        `discovery document (${url}) names: every token is answered 503 until issuerUrl is ` +
        `exactly "${published}"${hint}.`,
    );
  }
}

/**
 * The issuer publishes neither OpenID Connect Discovery nor RFC 8414 metadata (both URLs answer
 * 404 or 410): `issuerUrl` names no authorization server, or its keys must be configured.
 */
export class IssuerMetadataMissingError extends IssuerConfigurationError {
  constructor(
    readonly issuer: string,
    readonly urls: readonly string[],
    status: number,
  ) {
    super(
      'status',
      `the issuer "${issuer}" publishes no metadata: neither ${urls.join(' nor ')} exists ` +
        `(HTTP ${status}). Check that issuerUrl is the issuer exactly as the provider publishes ` +
        'it, or set jwksUri to read its keys without discovery.',
      { status },
    );
  }
}

/**
 * The 503 that answers a configuration error: it names the disagreement and carries no
 * `Retry-After`, since retrying will not help. `undefined` for any other failure (an outage).
 */
export function misconfiguration(error: unknown): IssuerUnavailableError | undefined {
  if (!(error instanceof IssuerConfigurationError)) return undefined;
  return new IssuerUnavailableError(
    `This API's issuer configuration does not match its identity provider: ${error.message}`,
    undefined,
    { cause: error, reason: 'issuer_misconfigured' },
  );
}

/** What the library uses of an issuer's metadata (OpenID Provider or RFC 8414 server metadata). */
export interface IssuerMetadata {
  issuer: string;
  jwksUri: string;
  userinfoEndpoint?: string;
  introspectionEndpoint?: string;
}

export interface IssuerDiscoveryConfig {
  issuer: string;
  /** When set, discovery is skipped and keys are read from here. */
  jwksUri?: string;
  /** Endpoints configured explicitly; they win over discovered ones. */
  userinfoEndpoint?: string;
  introspectionEndpoint?: string;
  limits: FetchLimits;
  /** How long metadata is trusted before it is fetched again (stale metadata is kept on failure). */
  maxAgeMs: number;
}

/**
 * Fetches the issuer's metadata lazily, once for concurrent callers: OpenID Connect Discovery
 * (`/.well-known/openid-configuration`), or, when the issuer has none (404 or 410), RFC 8414
 * metadata (`/.well-known/oauth-authorization-server`, inserted before the issuer's path). Either
 * document's `issuer` must be exactly the configured one (OpenID Connect Discovery §4.3, RFC 8414
 * §3.3). Every URL derives from the configured issuer alone, never from a token or a request.
 */
export class IssuerDiscovery {
  private cached?: { metadata: IssuerMetadata; fetchedAt: number };
  private inflight?: Promise<IssuerMetadata>;
  private failedAt = -Infinity;
  /** The last configuration error, answered again without a fetch for `STALE_RETRY_MS`. */
  private misconfigured?: IssuerConfigurationError;

  constructor(private readonly config: IssuerDiscoveryConfig) {}

  /** The OpenID Connect Discovery URL: the issuer followed by the well-known path. */
  get discoveryUrl(): string {
    return `${this.config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
  }

  /**
   * The RFC 8414 URL (§3.1): the well-known path inserted between the issuer's host and its path,
   * whose terminating `/` is removed (`https://as.example/oauth2` →
   * `https://as.example/.well-known/oauth-authorization-server/oauth2`).
   */
  get serverMetadataUrl(): string {
    const { origin, pathname } = new URL(this.config.issuer);
    return `${origin}/.well-known/oauth-authorization-server${pathname.replace(/\/+$/, '')}`;
  }

  async getMetadata(): Promise<IssuerMetadata> {
    const { jwksUri, userinfoEndpoint, introspectionEndpoint } = this.config;
    const configured = {
      ...(userinfoEndpoint ? { userinfoEndpoint } : {}),
      ...(introspectionEndpoint ? { introspectionEndpoint } : {}),
    };
    if (jwksUri) return { issuer: this.config.issuer, jwksUri, ...configured };
    return { ...(await this.discover()), ...configured };
  }

  private async discover(): Promise<IssuerMetadata> {
    const cached = this.cached;
    const now = Date.now();
    const fresh = cached && now - cached.fetchedAt < this.config.maxAgeMs;
    // Stale metadata keeps serving while the provider fails, with a retry every so often.
    if (cached && (fresh || now - this.failedAt < STALE_RETRY_MS)) return cached.metadata;
    // A configuration error is not fixed by asking again at once: it is answered from memory.
    if (!cached && this.misconfigured && now - this.failedAt < STALE_RETRY_MS) {
      throw this.misconfigured;
    }
    this.inflight ??= this.fetch().finally(() => (this.inflight = undefined));
    try {
      return await this.inflight;
    } catch (error) {
      this.failedAt = Date.now();
      this.misconfigured = error instanceof IssuerConfigurationError ? error : undefined;
      if (cached) return cached.metadata;
      throw error;
    }
  }

  private async fetch(): Promise<IssuerMetadata> {
    let url = this.discoveryUrl;
    let doc: unknown;
    try {
      doc = await fetchJson(url, this.config.limits);
    } catch (error) {
      // Only an absent document sends discovery to RFC 8414; an outage is an outage.
      if (!isAbsent(error)) throw error;
      url = this.serverMetadataUrl;
      try {
        doc = await fetchJson(url, this.config.limits);
      } catch (second) {
        if (!isAbsent(second)) throw second;
        throw new IssuerMetadataMissingError(
          this.config.issuer,
          [this.discoveryUrl, url],
          second.status!,
        );
      }
    }
    const metadata = parseMetadata(doc, this.config.issuer, url);
    this.cached = { metadata, fetchedAt: Date.now() };
    this.misconfigured = undefined;
    return metadata;
  }
}

/** The URL answered that there is no such document (404 Not Found, 410 Gone). */
function isAbsent(error: unknown): error is RemoteFetchError {
  return (
    error instanceof RemoteFetchError &&
    error.failure === 'status' &&
    (error.status === 404 || error.status === 410)
  );
}

function parseMetadata(doc: unknown, expectedIssuer: string, url: string): IssuerMetadata {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) {
    throw new RemoteFetchError('invalid_json', `${url} did not answer a JSON object.`);
  }
  const {
    issuer,
    jwks_uri: jwksUri,
    userinfo_endpoint: userinfoEndpoint,
    introspection_endpoint: introspectionEndpoint,
  } = doc as Record<string, unknown>;
  // A document without an issuer is broken, not a sign that issuerUrl is wrong.
  if (typeof issuer !== 'string') {
    throw new RemoteFetchError('invalid_json', `${url}: issuer is missing or not a string.`);
  }
  if (issuer !== expectedIssuer) throw new IssuerMismatchError(expectedIssuer, issuer, url);
  const problem = typeof jwksUri === 'string' ? checkProviderUrl(jwksUri) : 'jwks_uri is missing';
  if (problem) throw new RemoteFetchError('invalid_json', `${url}: ${problem}.`);
  return {
    issuer,
    jwksUri: jwksUri as string,
    ...(typeof userinfoEndpoint === 'string' && !checkProviderUrl(userinfoEndpoint)
      ? { userinfoEndpoint }
      : {}),
    ...(typeof introspectionEndpoint === 'string' && !checkProviderUrl(introspectionEndpoint)
      ? { introspectionEndpoint }
      : {}),
  };
}
