import { describeValue } from '../token/describe-value';
import { fetchJson, RemoteFetchError, type FetchLimits } from './fetch-json';
import { checkProviderUrl } from './url-policy';

/** How often stale metadata is refreshed while the provider keeps failing. */
const STALE_RETRY_MS = 30_000;

/**
 * The provider's discovery document names another issuer than `issuerUrl`: a configuration error
 * (most often Auth0's trailing slash), which refuses every token with 503 until it is fixed.
 */
export class IssuerMismatchError extends RemoteFetchError {
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

/** What the library uses of an issuer's OpenID Provider Metadata. */
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
 * Fetches `/.well-known/openid-configuration` lazily, once for concurrent callers, and checks that
 * its `issuer` is exactly the configured one (OpenID Connect Discovery §4.3).
 */
export class IssuerDiscovery {
  private cached?: { metadata: IssuerMetadata; fetchedAt: number };
  private inflight?: Promise<IssuerMetadata>;
  private failedAt = -Infinity;

  constructor(private readonly config: IssuerDiscoveryConfig) {}

  /** The well-known URL discovery reads. */
  get discoveryUrl(): string {
    return `${this.config.issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`;
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
    this.inflight ??= this.fetch().finally(() => (this.inflight = undefined));
    try {
      return await this.inflight;
    } catch (error) {
      this.failedAt = Date.now();
      if (cached) return cached.metadata;
      throw error;
    }
  }

  private async fetch(): Promise<IssuerMetadata> {
    const url = this.discoveryUrl;
    const doc = await fetchJson(url, this.config.limits);
    const metadata = parseMetadata(doc, this.config.issuer, url);
    this.cached = { metadata, fetchedAt: Date.now() };
    return metadata;
  }
}

function parseMetadata(doc: unknown, expectedIssuer: string, url: string): IssuerMetadata {
  if (typeof doc !== 'object' || doc === null) {
    throw new RemoteFetchError('invalid_json', `${url} did not answer a JSON object.`);
  }
  const {
    issuer,
    jwks_uri: jwksUri,
    userinfo_endpoint: userinfoEndpoint,
    introspection_endpoint: introspectionEndpoint,
  } = doc as Record<string, unknown>;
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
