import {
  AuthError,
  InsufficientScopeError,
  InsufficientUserAuthenticationError,
  IssuerUnavailableError,
  UseDpopNonceError,
} from './auth-error';
import { AuthOptionsError, optionText } from './auth-options-error';

/** Characters RFC 6750 allows in `error_description` and `scope`: %x20-21 / %x23-5B / %x5D-7E. */
const NOT_QUOTABLE = /[^\x20\x21\x23-\x5b\x5d-\x7e]/g;

function quote(value: string): string {
  return `"${value.replace(/"/g, "'").replace(NOT_QUOTABLE, '?')}"`;
}

/**
 * What an app's challenges say beside each refusal: its realm (and, as features add them, the
 * parameters every challenge carries). `ResolvedAuthOptions` is one; faces pass the app's options.
 */
export interface ChallengeOptions {
  /** RFC 6750 §3 `realm`. */
  realm: string;
  /**
   * RFC 6750 §3 `scope`: the scopes the refused route requires, named in its 401 (and 400)
   * challenges so that a client (an MCP client, say) asks for them. An `insufficient_scope`
   * refusal names its own. Empty or absent: no `scope` parameter.
   */
  scopes?: readonly string[];
  /** RFC 9728 §5.1 `resource_metadata`: the absolute URL of the protected resource metadata. */
  resourceMetadataUrl?: string;
  /**
   * The DPoP challenge (RFC 9449 §7.1), on HTTP answers when DPoP is on: its `algs`, whether the
   * API requires DPoP (no Bearer challenge then), and whether the refused request used the DPoP
   * scheme (its error goes in the DPoP challenge).
   */
  dpopChallenge?: { algorithms: readonly string[]; required: boolean; presented?: boolean };
}

/** Errors about the proof itself, answered in a DPoP challenge whatever the scheme (§7.1). */
const DPOP_ERRORS = new Set<string>(['invalid_dpop_proof', 'use_dpop_nonce']);

/**
 * Builds the `WWW-Authenticate` value for a refusal (RFC 6750 §3).
 *
 * @example
 * buildChallenge(new MissingTokenError(), { realm: 'api' }) // 'Bearer realm="api"'
 */
export function buildChallenge(error: AuthError, challenge: ChallengeOptions): string {
  const params = [`realm=${quote(challenge.realm)}`];
  const withCode = error.code !== 'missing_token' && error.code !== 'issuer_unavailable';
  if (withCode) params.push(`error=${quote(error.code)}`);
  // Before the description: MCP clients take the first `scope=` of the header, wherever it is.
  // A 403 names what it lacks (a claim rule's refusal lacks no scope); a 401 or 400 the route's.
  const scopes =
    error instanceof InsufficientScopeError
      ? error.requiredScopes
      : error.code === 'insufficient_scope'
        ? []
        : (challenge.scopes ?? []);
  if (scopes.length > 0) params.push(`scope=${quote(scopes.join(' '))}`);
  for (const [name, value] of Object.entries(stepUpParameters(error)))
    params.push(`${name}=${quote(String(value))}`);
  if (withCode) params.push(`error_description=${quote(error.message)}`);
  if (challenge.resourceMetadataUrl !== undefined) {
    params.push(`resource_metadata=${quote(challenge.resourceMetadataUrl)}`);
  }
  const dpop = challenge.dpopChallenge;
  if (!dpop) return `Bearer ${params.join(', ')}`;
  const algs = `algs=${quote(dpop.algorithms.join(' '))}`;
  if (dpop.required || dpop.presented || DPOP_ERRORS.has(error.code)) {
    return `DPoP ${[...params, algs].join(', ')}`;
  }
  // RFC 9449 §7.2: a request without credentials learns both schemes it may use.
  if (error.code === 'missing_token') {
    return `Bearer ${params.join(', ')}, DPoP ${[...params, algs].join(', ')}`;
  }
  return `Bearer ${params.join(', ')}`;
}

/** RFC 9470 §3's parameters of a step-up refusal, as its challenge and every face carry them. */
export interface StepUpParameters {
  /** The accepted authentication context classes, space-separated, in the route's order. */
  acr_values?: string;
  /** The greatest age of the authentication the route accepts, in seconds. */
  max_age?: number;
}

/** The `acr_values` and `max_age` of a step-up refusal; none for any other. */
export function stepUpParameters(error: AuthError): StepUpParameters {
  if (!(error instanceof InsufficientUserAuthenticationError)) return {};
  const { acrValues, maxAge } = error.requirement;
  return {
    ...(acrValues !== undefined ? { acr_values: acrValues.join(' ') } : {}),
    ...(maxAge !== undefined ? { max_age: maxAge } : {}),
  };
}

/**
 * The `realm` option: printable ASCII without quotes (RFC 7230 quoted-string), and without `=`,
 * since MCP clients read a challenge's `scope=`, `error=` and `resource_metadata=` by searching
 * the whole header, the realm included.
 */
export function challengeRealm(value: unknown): string {
  const realm = optionText(value, 'realm', 'api');
  if (realm.includes('=')) {
    throw new AuthOptionsError(
      'realm',
      "must not contain '=': MCP clients search the WWW-Authenticate header for 'scope=' and would read it from the realm",
    );
  }
  return realm;
}

/** The JSON body of a refusal: Nest's usual `{ statusCode, error, message }` plus stable codes. */
export interface AuthErrorBody {
  statusCode: number;
  /** The RFC 6750 error code, or `missing_token` / `issuer_unavailable`. */
  error: string;
  message: string;
  /** A finer stable reason, for logs and client diagnostics. */
  reason: string;
}

export function buildErrorBody(error: AuthError): AuthErrorBody {
  return {
    statusCode: error.status,
    error: error.code,
    message: error.message,
    reason: error.reason,
  };
}

/** The whole HTTP answer to a refusal: what every face (HTTP, GraphQL, WebSocket, RPC) sends. */
export interface AuthErrorAnswer {
  status: number;
  /** `WWW-Authenticate` for refusals of the caller; `Retry-After` for 503 when it is known. */
  headers: Record<string, string>;
  body: AuthErrorBody;
}

/**
 * The status, headers and body that answer `error`, built in one place so that no caller can lose
 * a header.
 *
 * @example
 * authErrorAnswer(new MissingTokenError(), { realm: 'api' })
 * // { status: 401, headers: { 'WWW-Authenticate': 'Bearer realm="api"' }, body: { ... } }
 */
export function authErrorAnswer(error: AuthError, challenge: ChallengeOptions): AuthErrorAnswer {
  const headers: Record<string, string> = {};
  if (error instanceof IssuerUnavailableError) {
    if (error.retryAfterSeconds !== undefined)
      headers['Retry-After'] = String(error.retryAfterSeconds);
  } else {
    headers['WWW-Authenticate'] = buildChallenge(error, challenge);
  }
  if (error instanceof UseDpopNonceError) headers['DPoP-Nonce'] = error.nonce;
  return { status: error.status, headers, body: buildErrorBody(error) };
}
