/**
 * The RFC 6750 error code a refusal maps to (RFC 9470's `insufficient_user_authentication`
 * included), plus the two answers RFC 6750 has no code for:
 * `missing_token` (no credentials: 401 with a bare challenge) and `issuer_unavailable`
 * (the identity provider cannot be reached: 503, never a 401 that blames the caller).
 */
export type AuthErrorCode =
  | 'missing_token'
  | 'invalid_request'
  | 'invalid_token'
  | 'insufficient_scope'
  | 'issuer_unavailable'
  | 'invalid_dpop_proof'
  | 'use_dpop_nonce'
  | 'insufficient_user_authentication';

/**
 * A finer, stable reason for a refusal: for logs, metrics and tests. Never shown as the RFC 6750
 * `error` code (that is {@link AuthErrorCode}).
 */
export type AuthErrorReason =
  | 'missing_token'
  | 'malformed_authorization_header'
  | 'multiple_token_methods'
  | 'invalid_host_header'
  | 'token_too_large'
  | 'not_a_jwt'
  | 'malformed_jwt'
  | 'invalid_encoding'
  | 'alg_not_allowed'
  | 'unsupported_typ'
  | 'unsupported_crit'
  | 'unencoded_payload'
  | 'invalid_kid'
  | 'unknown_kid'
  | 'ambiguous_key'
  | 'key_mismatch'
  | 'weak_key'
  | 'signature_invalid'
  | 'id_token'
  | 'userinfo_audience_only'
  | 'audience_mismatch'
  | 'issuer_mismatch'
  | 'missing_claim'
  | 'invalid_claim'
  | 'claims_too_deep'
  | 'token_expired'
  | 'token_not_yet_valid'
  | 'insufficient_scope'
  | 'issuer_unavailable'
  | 'issuer_misconfigured'
  | 'unsupported_context'
  | 'malformed_mcp_request'
  | 'token_rejected_by_issuer'
  | 'token_inactive'
  | 'userinfo_subject_mismatch'
  | 'userinfo_sender_constrained'
  | 'sender_constrained_token'
  | 'dpop_required'
  | 'dpop_token_not_bound'
  | 'unsupported_cnf'
  | 'certificate_missing'
  | 'certificate_mismatch'
  | 'certificate_header_malformed'
  | 'replay_store_unavailable'
  | 'replay_cache_full'
  | 'dpop_proof_missing'
  | 'dpop_proof_multiple'
  | 'dpop_proof_malformed'
  | 'dpop_proof_typ'
  | 'dpop_proof_alg'
  | 'dpop_proof_jwk'
  | 'dpop_proof_signature'
  | 'dpop_proof_htm'
  | 'dpop_proof_htu'
  | 'dpop_proof_iat'
  | 'dpop_proof_jti'
  | 'dpop_proof_replayed'
  | 'dpop_replay_share_exceeded'
  | 'dpop_proof_ath'
  | 'dpop_key_mismatch'
  | 'dpop_nonce_required'
  | 'claim_rule_failed'
  | 'acr_missing'
  | 'acr_not_accepted'
  | 'acr_invalid'
  | 'auth_time_missing'
  | 'auth_time_invalid'
  | 'authentication_too_old';

const STATUS: Record<AuthErrorCode, number> = {
  missing_token: 401,
  invalid_request: 400,
  invalid_token: 401,
  insufficient_scope: 403,
  issuer_unavailable: 503,
  invalid_dpop_proof: 401,
  use_dpop_nonce: 401,
  insufficient_user_authentication: 401,
};

/** Base class of every refusal the library produces. */
export class AuthError extends Error {
  /** HTTP status this refusal answers with. */
  readonly status: number;

  constructor(
    readonly code: AuthErrorCode,
    readonly reason: AuthErrorReason,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = this.constructor.name;
    this.status = STATUS[code];
  }
}

/** The request carries no bearer token: 401 with a challenge and no error code (RFC 6750 §3.1). */
export class MissingTokenError extends AuthError {
  constructor(message = 'This route requires a bearer access token in the Authorization header.') {
    super('missing_token', 'missing_token', message);
  }
}

/** The request breaks RFC 6750 syntax: 400 `invalid_request`. */
export class InvalidRequestError extends AuthError {
  constructor(reason: AuthErrorReason, message: string) {
    super('invalid_request', reason, message);
  }
}

/** The token is malformed, forged, expired or not meant for this API: 401 `invalid_token`. */
export class InvalidTokenError extends AuthError {
  constructor(reason: AuthErrorReason, message: string, options?: { cause?: unknown }) {
    super('invalid_token', reason, message, options);
  }
}

/** The token is valid but lacks a required scope: 403 `insufficient_scope`. */
export class InsufficientScopeError extends AuthError {
  constructor(
    /** The scopes the route requires, as listed in the challenge's `scope` attribute. */
    readonly requiredScopes: readonly string[],
    message: string,
  ) {
    super('insufficient_scope', 'insufficient_scope', message);
  }
}

/**
 * The identity provider (discovery or JWKS) cannot be reached and no usable key is cached, or
 * `issuerUrl` and the provider disagree (`issuer_misconfigured`): 503, never a 401 that blames the
 * caller.
 */
export class IssuerUnavailableError extends AuthError {
  constructor(
    message: string,
    /** Seconds after which a retry may succeed, sent as `Retry-After`. */
    readonly retryAfterSeconds?: number,
    options?: {
      cause?: unknown;
      /**
       * `issuer_misconfigured` when the provider answers but `issuerUrl` does not match it (no
       * retry will help); `replay_store_unavailable` when the store of DPoP replay checks is what
       * failed; `replay_cache_full` when the in-process one is full of unexpired proofs.
       */
      reason?:
        | 'issuer_unavailable'
        | 'issuer_misconfigured'
        | 'replay_store_unavailable'
        | 'replay_cache_full';
    },
  ) {
    const cause = options && 'cause' in options ? { cause: options.cause } : undefined;
    super('issuer_unavailable', options?.reason ?? 'issuer_unavailable', message, cause);
  }
}

/** The guard met an execution context it cannot authenticate (WebSocket, RPC, GraphQL). */
export class UnsupportedContextError extends AuthError {
  constructor(contextType: string) {
    super(
      'invalid_request',
      'unsupported_context',
      `The access-token guard does not support the '${contextType}' execution context yet; ` +
        'the handler was refused. Mark it @Public() or protect it with a guard of your own.',
    );
  }
}

/** The DPoP proof of the request fails a check of RFC 9449 §4.3: 401 `invalid_dpop_proof`. */
export class InvalidDpopProofError extends AuthError {
  constructor(reason: AuthErrorReason, message: string, options?: { cause?: unknown }) {
    super('invalid_dpop_proof', reason, message, options);
  }
}

/** The DPoP proof lacks the server's current nonce (RFC 9449 §9): 401 `use_dpop_nonce`. */
export class UseDpopNonceError extends AuthError {
  constructor(
    /** The nonce to send in the `DPoP-Nonce` header, for the client's next proof. */
    readonly nonce: string,
    message: string,
  ) {
    super('use_dpop_nonce', 'dpop_nonce_required', message);
  }
}

/** The reasons of an {@link InsufficientUserAuthenticationError}. */
export type StepUpReason = Extract<
  AuthErrorReason,
  | 'acr_missing'
  | 'acr_not_accepted'
  | 'acr_invalid'
  | 'auth_time_missing'
  | 'auth_time_invalid'
  | 'authentication_too_old'
>;

/**
 * The token is valid but its user's authentication is too weak or too old for the route
 * (`@StepUp()`): 401 `insufficient_user_authentication` (RFC 9470 §3), whose challenge carries
 * `acr_values` and/or `max_age` for the client to sign the user in again.
 */
export class InsufficientUserAuthenticationError extends AuthError {
  constructor(
    reason: StepUpReason,
    message: string,
    /** What the route requires: the challenge's `acr_values` (in order) and `max_age` (seconds). */
    readonly requirement: { readonly acrValues?: readonly string[]; readonly maxAge?: number },
  ) {
    super('insufficient_user_authentication', reason, message);
  }

  declare readonly reason: StepUpReason;
}
