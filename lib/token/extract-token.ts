import { InvalidRequestError, MissingTokenError } from '../errors/auth-error';
import { describeValue } from './describe-value';

/** RFC 6750 §2.1 `b64token`, which RFC 7235 calls token68. */
const TOKEN68 = /^[A-Za-z0-9\-._~+/]+=*$/;
/** The Bearer scheme followed by white space or nothing; `1*SP` is then required before the token. */
const BEARER_SCHEME = /^bearer(?=\s|$)/i;
/** The DPoP scheme (RFC 9449 §7.1), recognised where DPoP is on. */
const DPOP_SCHEME = /^dpop(?=\s|$)/i;
const SEPARATOR = /^ +/;

/** Where a request may carry its token, reduced to what extraction needs. */
export interface TokenSource {
  /** The `Authorization` header value, if any (Node keeps the first of repeated headers). */
  authorization?: string;
  /**
   * How many `Authorization` headers the request carried, counted in Node's raw header list.
   * @default 1 when `authorization` is set
   */
  authorizationHeaders?: number;
  /** The `access_token` query parameter, if any. */
  queryToken?: unknown;
}

export interface ExtractOptions {
  /** Accept `?access_token=` (RFC 6750 §2.3, discouraged). */
  allowQueryToken: boolean;
  /** Longest token accepted, in characters. */
  maxTokenLength: number;
  /** Recognise `Authorization: DPoP <token>` too (HTTP, where DPoP is on). */
  dpopScheme?: boolean;
}

/** A token and the `Authorization` scheme it came with (the query parameter is Bearer). */
export interface ExtractedToken {
  token: string;
  scheme: 'Bearer' | 'DPoP';
}

/**
 * Finds the bearer token of a request, or `undefined` when it carries none.
 * Throws {@link InvalidRequestError} when the request breaks RFC 6750 syntax.
 */
export function extractBearerToken(
  source: TokenSource,
  options: ExtractOptions,
): string | undefined {
  return extractAccessToken(source, { ...options, dpopScheme: false })?.token;
}

/**
 * Finds the access token of a request and its scheme (Bearer, or DPoP with `dpopScheme`), or
 * `undefined` when it carries none. Throws {@link InvalidRequestError} on broken syntax.
 */
export function extractAccessToken(
  source: TokenSource,
  options: ExtractOptions,
): ExtractedToken | undefined {
  const header = source.authorization;
  // RFC 6750 §2: one method, one token. Proxies may pick another of repeated headers than Node.
  if ((source.authorizationHeaders ?? 0) > 1) multiple();
  const fromHeader = header === undefined ? undefined : parseAuthorization(header, options);
  const fromQuery = options.allowQueryToken
    ? parseQueryToken(source.queryToken, options)
    : undefined;
  if (fromHeader !== undefined && fromQuery !== undefined) multiple();
  return (
    fromHeader ?? (fromQuery === undefined ? undefined : { token: fromQuery, scheme: 'Bearer' })
  );
}

function multiple(): never {
  throw new InvalidRequestError(
    'multiple_token_methods',
    'The request carries more than one access token; send exactly one, in the Authorization header.',
  );
}

function parseAuthorization(header: string, options: ExtractOptions): ExtractedToken | undefined {
  const dpop = options.dpopScheme ? DPOP_SCHEME.exec(header) : null;
  const scheme = dpop ?? BEARER_SCHEME.exec(header);
  // Another scheme (Basic, DPoP where it is off, ...) carries no bearer credentials: RFC 6750 §3.1.
  if (!scheme) return undefined;
  const name = dpop ? 'DPoP' : 'Bearer';
  const rest = header.slice(scheme[0].length);
  const separator = SEPARATOR.exec(rest)?.[0] ?? '';
  // A tab or no separator at all leaves a non-token68 character or an empty token: 400.
  const token = checkToken(
    separator ? rest.slice(separator.length) : rest,
    options,
    `Authorization: ${name}`,
  );
  return { token, scheme: name };
}

function parseQueryToken(value: unknown, options: ExtractOptions): string | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'string') multiple();
  return checkToken(value, options, 'access_token query parameter');
}

function checkToken(token: string, options: ExtractOptions, where: string): string {
  if (token.length > options.maxTokenLength) {
    throw new InvalidRequestError(
      'token_too_large',
      `The token in the ${where} is ${token.length} characters long; at most ${options.maxTokenLength} are accepted.`,
    );
  }
  if (!TOKEN68.test(token)) {
    throw new InvalidRequestError(
      'malformed_authorization_header',
      `The ${where} value must be exactly one token of base64url characters ` +
        `(format: Authorization: Bearer <access token>).`,
    );
  }
  return token;
}

/** Longer first words are credentials, not a scheme name ("Basic", "Negotiate"): never echoed. */
const MAX_SCHEME_LENGTH = 15;

/**
 * The refusal of a request that carries no access token (RFC 6750 §3.1: a 401 with a bare
 * challenge), whose description says what its `Authorization` header got wrong, if it has one: a
 * token sent without a scheme, or another scheme. `message` is said otherwise.
 */
export function missingTokenError(source: TokenSource, message?: string): MissingTokenError {
  const header = source.authorization?.trim();
  if (!header) return new MissingTokenError(message);
  const scheme = header.split(/\s/, 1)[0];
  if (scheme.length > MAX_SCHEME_LENGTH) {
    return new MissingTokenError(
      'The Authorization header has no scheme: send it as `Authorization: Bearer <token>`.',
    );
  }
  return new MissingTokenError(
    `The Authorization header uses the "${describeValue(scheme)}" scheme, which carries no ` +
      'access token here: send `Authorization: Bearer <token>`.',
  );
}
