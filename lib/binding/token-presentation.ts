import { InvalidRequestError } from '../errors/auth-error';
import { describeValue } from '../token/describe-value';
import type { ResolvedDpopOptions } from './dpop-options';

/**
 * How a request presented its access token, beyond the token itself: what the binding checks of
 * DPoP (RFC 9449) and mutual TLS (RFC 8705) compare the token with. The HTTP face builds it; other
 * transports present none, and their tokens are bearer tokens.
 */
export interface TokenPresentation {
  /** The `Authorization` scheme the token came with. */
  scheme: 'Bearer' | 'DPoP';
  /** The values of the request's `DPoP` headers, one per header line, as received. */
  dpopProofs: readonly string[];
  /** The request's method. */
  method: string;
  /**
   * The URL the client addressed, without query and fragment (for `htu`); `undefined` when the
   * request does not say (no Host header).
   */
  url(): string | undefined;
  /**
   * Whether `url()` was built from the request's own `Host` header (no `dpop.publicBaseUrl`, no
   * trusted forwarded headers): a client chooses it, so `htu` is then accepted only for the origins
   * the API is known by (its URL audiences, `protectedResource.resource`) and loopback hosts.
   * @default false
   */
  urlFromClientHost?: boolean;
  /**
   * The DER of the TLS client certificate the request presented (the connection's, or the trusted
   * proxy header's); it may throw an `AuthError` that says why there is none.
   */
  clientCertificate?(): Uint8Array | undefined;
  /** Sends a fresh `DPoP-Nonce` with the successful answer. */
  sendNonce?(nonce: string): void;
}

/** The parts of an HTTP request (Express or Fastify) a presentation is built from. */
export interface PresentedRequest {
  method?: string;
  /** Express: the URL before any router rewrote it. */
  originalUrl?: string;
  url?: string;
  headers: Record<string, string | string[] | undefined>;
  rawHeaders?: readonly string[];
  socket?: { encrypted?: boolean };
  /** Fastify's request wraps Node's. */
  raw?: { url?: string; rawHeaders?: readonly string[]; socket?: { encrypted?: boolean } };
}

/**
 * The presentation of a token that came with `scheme` on an HTTP request (Express's request, or
 * Fastify's with Node's under `raw`).
 */
export function httpPresentation(
  request: PresentedRequest,
  scheme: 'Bearer' | 'DPoP',
  options: Pick<ResolvedDpopOptions, 'publicBaseUrl' | 'trustForwardedHeaders'>,
): Omit<TokenPresentation, 'sendNonce'> {
  const rawHeaders = request.rawHeaders ?? request.raw?.rawHeaders;
  return {
    scheme,
    // A Bearer request's proofs are never looked at: not searched for on every request.
    dpopProofs: scheme === 'DPoP' ? headerValues(rawHeaders, request.headers, 'dpop') : NO_PROOFS,
    method: request.method ?? 'GET',
    url: () => requestUrl(request, options),
    urlFromClientHost: options.publicBaseUrl === undefined && !options.trustForwardedHeaders,
  };
}

const NO_PROOFS: readonly string[] = Object.freeze([]);

/**
 * Every value of header `name` (lower case), one per header line: Node joins repeated unknown
 * headers with ", ", which would hide a second proof.
 */
export function headerValues(
  rawHeaders: readonly string[] | undefined,
  headers: Record<string, string | string[] | undefined>,
  name: string,
): string[] {
  if (!rawHeaders) {
    const value = headers[name];
    return value === undefined ? [] : Array.isArray(value) ? value : [value];
  }
  const values: string[] = [];
  for (let i = 0; i + 1 < rawHeaders.length; i += 2) {
    const header = rawHeaders[i];
    if (header.length === name.length && header.toLowerCase() === name)
      values.push(rawHeaders[i + 1]);
  }
  return values;
}

/**
 * The URL the client addressed, without query and fragment: `publicBaseUrl` + path when set; else
 * the scheme of the connection (or `X-Forwarded-Proto` when trusted), the `Host` header (HTTP/2's
 * `:authority` without it; or `X-Forwarded-Host`) and the request's path; `undefined` when the
 * request names no host.
 */
export function requestUrl(
  request: PresentedRequest,
  options: Pick<ResolvedDpopOptions, 'publicBaseUrl' | 'trustForwardedHeaders'>,
): string | undefined {
  const target = request.originalUrl ?? request.raw?.url ?? request.url ?? '/';
  const path = target.startsWith('/') ? target.replace(/[?#].*$/s, '') : absoluteFormPath(target);
  if (path === undefined) return undefined;
  if (options.publicBaseUrl !== undefined) return `${options.publicBaseUrl}${path}`;
  const forwarded = (name: string) =>
    options.trustForwardedHeaders ? firstValue(request.headers[name]) : undefined;
  const encrypted = request.socket?.encrypted ?? request.raw?.socket?.encrypted;
  const scheme = forwarded('x-forwarded-proto') ?? (encrypted ? 'https' : 'http');
  const forwardedHost = forwarded('x-forwarded-host');
  const host =
    forwardedHost ?? firstValue(request.headers.host) ?? firstValue(request.headers[':authority']);
  if (!host || (scheme !== 'http' && scheme !== 'https')) return undefined;
  // The path comes from the request target alone: a Host such as "api.example.com/other?" pasted
  // before it would replace it (a proof made for /other accepted here).
  if (!AUTHORITY.test(host)) {
    const header = forwardedHost !== undefined ? 'X-Forwarded-Host' : 'Host';
    throw new InvalidRequestError(
      'invalid_host_header',
      `Invalid ${header} header: "${describeValue(host, 80)}" is not a host[:port] (RFC 9112 §3.2, ` +
        'RFC 3986 §3.2.2), so the URL this request was sent to cannot be told.',
    );
  }
  return `${scheme}://${host}${path}`;
}

/**
 * RFC 3986 §3.2.2 `host [ ":" port ]`: an IP literal in brackets, or a reg-name (which covers IPv4)
 * of unreserved, percent-encoded and sub-delims characters but the comma (a list separator in these
 * headers). No "/", "?", "#", "@", "\\" or white space: nothing that would end the authority.
 */
const AUTHORITY = /^(?:\[[0-9a-f:.]+\]|(?:[a-z0-9\-._~!$&'()*+;=]|%[0-9a-f]{2})+)(?::[0-9]*)?$/;

/** The path of an absolute-form request target (`GET http://host/path`, sent to proxies). */
function absoluteFormPath(target: string): string | undefined {
  try {
    return new URL(target).pathname;
  } catch {
    return undefined;
  }
}

function firstValue(value: string | string[] | undefined): string | undefined {
  const text = Array.isArray(value) ? value[0] : value;
  const first = text?.split(',')[0]?.trim().toLowerCase();
  return first ? first : undefined;
}
