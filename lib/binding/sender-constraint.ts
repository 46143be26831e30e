import { Logger } from '@nestjs/common';
import type { AuthUser } from '../token/auth-user';
import { InvalidDpopProofError, InvalidTokenError, UseDpopNonceError } from '../errors/auth-error';
import type { SharedCacheStore } from '../cache/shared-cache-store.interface';
import { describeValue } from '../token/describe-value';
import { checkCertificateBinding, isCertificateThumbprint } from './certificate-binding';
import type { ResolvedMtlsOptions } from './mtls-options';
import { parseDpopProof, verifyProofSignature, type ParsedProof } from './check-dpop-proof';
import { resolveDpopOptions, type ResolvedDpopOptions } from './dpop-options';
import { DpopNonces } from './dpop-nonces';
import { ProofKeys } from './proof-keys';
import { DpopReplayCache, type ReplayLogger } from './dpop-replay-cache';
import type { TokenPresentation } from './token-presentation';

/** What the sender-constraint checks need of the resolved options. */
export interface SenderConstraintOptions {
  /** @default DPoP's defaults (`allowed`) */
  dpop?: ResolvedDpopOptions;
  /** @default mTLS's defaults (`allowed`) */
  mtls?: ResolvedMtlsOptions;
  clockToleranceSeconds: number;
  cache: { store?: SharedCacheStore; storeTimeoutMs: number };
  /** The API's identifiers: those that are absolute URLs are origins it is known by (for `htu`). */
  audiences?: readonly string[];
  perIssuer?: readonly { audiences: readonly string[] }[];
  /** RFC 9728's `resource`, another origin the API is known by. */
  protectedResource?: { enabled: boolean; resource?: string };
}

/** Hosts a developer's own machine answers to: a Host header naming one is accepted for `htu`. */
const LOOPBACK_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]']);

/** The `cnf` members (RFC 7800) this API can check: DPoP's key, and the client certificate's. */
const SUPPORTED_CNF = new Set(['jkt', 'x5t#S256']);

/**
 * The checks that tie a token to its sender (RFC 9449 DPoP): the scheme against `dpop.mode` and
 * the proof's cheap checks (syntax, key policy, claims) before the token is verified; then the
 * token's `cnf` against how it was presented, the proof's key against `cnf.jkt`, and only then the
 * proof's signature, nonce and `jti` (recorded against replays): a caller without a valid bound
 * token never costs a proof signature check. A token presented without a {@link TokenPresentation}
 * (WebSocket, RPC, GraphQL over WebSocket, Passport) is a bearer token: a bound one is refused, and
 * every token where DPoP is required.
 */
export class SenderConstraint {
  private readonly replays: DpopReplayCache;
  private readonly nonces?: DpopNonces;
  /** The proofs' keys, imported once each (a client signs all its proofs with one). */
  private readonly proofKeys = new ProofKeys();
  private readonly dpop: ResolvedDpopOptions;
  /** Origins (`https://api.example.com`) the API is known by, for `htu` without `publicBaseUrl`. */
  private readonly knownOrigins: readonly string[];
  /** Said once: htu is checked against the known origins, for want of `dpop.publicBaseUrl`. */
  private hostWarning?: string;

  constructor(
    private readonly options: SenderConstraintOptions,
    nonceSecret?: string | Uint8Array,
    private readonly logger: ReplayLogger = new Logger('DPoP'),
  ) {
    const dpop = (this.dpop = options.dpop ?? resolveDpopOptions(undefined));
    const { cache } = options;
    this.replays = new DpopReplayCache(
      {
        maxEntries: dpop.maxReplayEntries,
        storeTimeoutMs: cache.storeTimeoutMs,
        ...(cache.store ? { store: cache.store } : {}),
      },
      logger,
    );
    if (dpop.nonce && nonceSecret !== undefined) {
      this.nonces = new DpopNonces(nonceSecret, dpop.nonce.rotateSeconds);
    }
    this.knownOrigins = knownOrigins(options);
    if (dpop.mode !== 'disabled' && !dpop.publicBaseUrl && !dpop.trustForwardedHeaders) {
      const origins = this.knownOrigins.join(', ') || 'none: no audience or resource is a URL';
      this.hostWarning =
        `DPoP is on without dpop.publicBaseUrl: a proof's htu is accepted only for the origins this ` +
        `API is known by (${origins}) and loopback hosts, never for a Host header a client ` +
        'chooses; set dpop.publicBaseUrl to the URL clients call.';
      // Where DPoP is required, every client needs it: said at startup. Where it is only allowed
      // (the default), said on the first DPoP request, so that apps without DPoP clients stay quiet.
      if (dpop.mode === 'required') this.warnHostOnce();
    }
  }

  private warnHostOnce(): void {
    if (this.hostWarning === undefined) return;
    this.logger.warn(this.hostWarning);
    this.hostWarning = undefined;
  }

  /** Refuses a token presented without DPoP where DPoP is required (every face, Passport's too). */
  checkScheme(presentation: TokenPresentation | undefined): void {
    if (presentation?.scheme === 'DPoP' || this.dpop.mode !== 'required') return;
    throw new InvalidTokenError(
      'dpop_required',
      'This API accepts only DPoP-bound access tokens: send Authorization: DPoP <token> with a ' +
        'DPoP proof header (RFC 9449), and request the token with a DPoP proof.',
    );
  }

  /** The nonce clients should put in their proofs now, when nonces are on. */
  currentNonce(): string | undefined {
    return this.nonces?.current();
  }

  /**
   * Before the token is verified: refuses a bearer token where DPoP is required, and makes the
   * checks of a DPoP request's proof that cost no signature verification (RFC 9449 §4.3 but the
   * signature, replay and nonce, which {@link checkBinding} checks once the token is verified).
   */
  async checkProof(
    token: string,
    presentation: TokenPresentation | undefined,
  ): Promise<ParsedProof | undefined> {
    const { dpop } = this;
    this.checkScheme(presentation);
    if (presentation?.scheme !== 'DPoP') return undefined;
    const proofs = presentation.dpopProofs;
    if (proofs.length === 0) {
      throw new InvalidDpopProofError(
        'dpop_proof_missing',
        'The request uses the DPoP scheme but has no DPoP header: send a DPoP proof made for this request.',
      );
    }
    if (proofs.length > 1) {
      throw new InvalidDpopProofError(
        'dpop_proof_multiple',
        `The request carries ${proofs.length} DPoP headers; send exactly one proof.`,
      );
    }
    return await parseDpopProof(proofs[0], {
      method: presentation.method,
      ...this.expectedUrls(presentation),
      accessToken: token,
      algorithms: dpop.algorithms,
      nowSeconds: Date.now() / 1000,
      iatWindowSeconds: dpop.iatWindowSeconds,
      leewaySeconds: this.options.clockToleranceSeconds,
    });
  }

  /**
   * The URLs a proof's `htu` may name. The presentation's own, unless it comes from the client's
   * Host header: then the origins the API is known by (its URL audiences, its RFC 9728 resource),
   * and the Host's only when it is one of them or a loopback host. A proof made for another server
   * that accepts the same token cannot be replayed here under a forged Host.
   */
  private expectedUrls(presentation: TokenPresentation): { urls: string[]; htuAdvice?: string } {
    const url = presentation.url();
    if (url === undefined) {
      throw new InvalidDpopProofError(
        'dpop_proof_htu',
        "The request's URL cannot be told (no Host header, nor HTTP/2 :authority), so the proof's " +
          'htu cannot be checked; the API operator can set dpop.publicBaseUrl.',
      );
    }
    if (!presentation.urlFromClientHost) return { urls: [url] };
    this.warnHostOnce();
    const addressed = URL.parse(url);
    if (!addressed) {
      throw new InvalidDpopProofError(
        'dpop_proof_htu',
        "The request's Host header is not a valid host, so the proof's htu cannot be checked.",
      );
    }
    const path = addressed.pathname;
    const urls = this.knownOrigins.map((origin) => origin + path);
    const hostKnown =
      LOOPBACK_HOSTS.has(addressed.hostname) || this.knownOrigins.includes(addressed.origin);
    if (hostKnown) urls.unshift(url);
    if (urls.length === 0) {
      throw new InvalidDpopProofError(
        'dpop_proof_htu',
        `This API cannot tell its own URL: the Host header "${describeValue(addressed.host, 80)}" is ` +
          'not an origin it is known by, and no audience or protectedResource.resource is a URL. ' +
          'The API operator must set dpop.publicBaseUrl (or dpop.trustForwardedHeaders behind a proxy).',
      );
    }
    return hostKnown
      ? { urls }
      : {
          urls,
          htuAdvice:
            `(The Host header "${describeValue(addressed.host, 80)}" is not an origin this API is ` +
            'known by, so it is not trusted for htu: if clients call this API there, its operator ' +
            'must set dpop.publicBaseUrl.)',
        };
  }

  /**
   * What every presentation must pass, proof or not: the scheme DPoP's mode asks for, a `cnf` this
   * API can check, and the certificate of a certificate-bound token. Returns the DPoP key the token
   * is bound to (`cnf.jkt`), if any.
   */
  private boundKey(
    user: AuthUser,
    presentation: TokenPresentation | undefined,
  ): string | undefined {
    this.checkScheme(presentation);
    const { jkt, x5t } = confirmation(user, this.options.mtls?.mode !== 'disabled');
    // A token bound both ways must pass both checks: every confirmation it carries is checked.
    if (x5t !== undefined) checkCertificateBinding(x5t, presentation);
    return jkt;
  }

  /**
   * {@link checkBinding} for a token presented without a DPoP proof, which has nothing to wait for:
   * refuses a bearer token where DPoP is required, a token bound to a DPoP key, and a token bound
   * to a certificate the request did not present.
   */
  checkUnprovenBinding(user: AuthUser, presentation: TokenPresentation | undefined): void {
    // A DPoP request always has a proof by now (checkProof); refused rather than trusted if not.
    if (presentation?.scheme === 'DPoP') {
      throw new InvalidDpopProofError(
        'dpop_proof_missing',
        'The request uses the DPoP scheme but has no DPoP header: send a DPoP proof made for this request.',
      );
    }
    if (this.boundKey(user, presentation) !== undefined) {
      throw new InvalidTokenError(
        'sender_constrained_token',
        'The access token is bound to a DPoP key (cnf.jkt) and cannot be used as a bearer token: ' +
          'send it as Authorization: DPoP <token> with a DPoP proof made with that key.',
      );
    }
  }

  /**
   * After the token is verified: its `cnf` must fit how it was presented (a key-bound token only
   * with a proof whose key has the thumbprint `cnf.jkt`); then the proof's signature is verified,
   * its nonce checked, and its `jti` recorded: a second use is a replay.
   */
  async checkBinding(
    user: AuthUser,
    presentation: TokenPresentation | undefined,
    proof: ParsedProof | undefined,
  ): Promise<void> {
    if (!proof) return this.checkUnprovenBinding(user, presentation);
    const jkt = this.boundKey(user, presentation);
    if (jkt === undefined) {
      throw new InvalidTokenError(
        'dpop_token_not_bound',
        'The access token is not bound to a DPoP key (no cnf.jkt), so it cannot be sent with the ' +
          'DPoP scheme: send it as Authorization: Bearer, or request a DPoP-bound token.',
      );
    }
    if (jkt !== proof.jkt) {
      throw new InvalidDpopProofError(
        'dpop_key_mismatch',
        'The DPoP proof is signed with another key than the one the access token is bound to (cnf.jkt): ' +
          'sign proofs with the key the token was requested with.',
      );
    }
    // Only now, for the holder of a valid token bound to this very key: the signature check.
    await verifyProofSignature(proof, this.proofKeys);
    if (this.nonces && (proof.nonce === undefined || !this.nonces.accepts(proof.nonce))) {
      throw new UseDpopNonceError(
        this.nonces.current(),
        proof.nonce === undefined
          ? 'This API requires a server nonce in DPoP proofs: make a new proof with the nonce of the DPoP-Nonce header.'
          : "The DPoP proof's nonce is unknown or expired: make a new proof with the nonce of the DPoP-Nonce header.",
      );
    }
    const { iatWindowSeconds } = this.dpop;
    const until = (proof.iat + iatWindowSeconds + this.options.clockToleranceSeconds) * 1000;
    if (!(await this.replays.firstUse(proof.jkt, proof.jti, until - Date.now()))) {
      throw new InvalidDpopProofError(
        'dpop_proof_replayed',
        'The DPoP proof was used before (same jti): make a new proof, with a new jti, for every request.',
      );
    }
    if (this.nonces && presentation?.sendNonce && !this.nonces.isCurrent(proof.nonce!)) {
      presentation.sendNonce(this.nonces.current());
    }
  }
}

/**
 * The DPoP key (`cnf.jkt`) and the client certificate (`cnf["x5t#S256"]`, when `certificates`) a
 * token is bound to; neither for an unbound token. Refuses a `cnf` this API cannot check, and an
 * introspection answer that calls the token DPoP without saying to which key.
 */
function confirmation(user: AuthUser, certificates: boolean): { jkt?: string; x5t?: string } {
  const cnf: unknown = user.claims.cnf;
  const tokenType = user.claims.token_type;
  const saysDpop = typeof tokenType === 'string' && tokenType.toLowerCase() === 'dpop';
  if (cnf === undefined) {
    if (saysDpop && user.tokenType === 'opaque')
      throw unsupportedCnf('a DPoP token type without cnf.jkt');
    return {};
  }
  if (typeof cnf !== 'object' || cnf === null || Array.isArray(cnf)) {
    throw unsupportedCnf('a cnf claim that is not an object');
  }
  // RFC 7800 §3.1: members this API does not understand are ignored (Keycloak's kc-jkt-type beside
  // jkt). A certificate binding it understands but has disabled is never ignored, and a cnf with no
  // member it can check binds the token to something it cannot check: both refused.
  const members = Object.keys(cnf);
  const checkable = members.filter((name) => SUPPORTED_CNF.has(name));
  if ('x5t#S256' in cnf && !certificates) throw unsupportedCnf('cnf["x5t#S256"]');
  if (checkable.length === 0) {
    const named = members.slice(0, 5).map((name) => describeValue(name, 40));
    throw unsupportedCnf(`cnf member(s) ${named.join(', ') || 'none'}`);
  }
  const { jkt, 'x5t#S256': x5t } = cnf as { jkt?: unknown; 'x5t#S256'?: unknown };
  if (jkt !== undefined && (typeof jkt !== 'string' || jkt === ''))
    throw unsupportedCnf('a cnf.jkt that is not a string');
  if (x5t !== undefined && !isCertificateThumbprint(x5t)) {
    throw unsupportedCnf(
      'a cnf["x5t#S256"] that is not a SHA-256 certificate thumbprint (43 base64url characters)',
    );
  }
  return { ...(jkt !== undefined ? { jkt } : {}), ...(x5t !== undefined ? { x5t } : {}) };
}

function unsupportedCnf(what: string): InvalidTokenError {
  return new InvalidTokenError(
    'unsupported_cnf',
    `The access token is bound to its sender by ${what}, which this API cannot check (it checks ` +
      'DPoP cnf.jkt, and cnf["x5t#S256"] unless mtls.mode is disabled): the token cannot be accepted.',
  );
}

/** The origins of the API's identifiers that are http(s) URLs: its audiences and RFC 9728 resource. */
function knownOrigins(options: SenderConstraintOptions): string[] {
  const identifiers = [
    ...(options.protectedResource?.enabled && options.protectedResource.resource
      ? [options.protectedResource.resource]
      : []),
    ...(options.audiences ?? []),
    ...(options.perIssuer ?? []).flatMap((issuer) => issuer.audiences),
  ];
  const origins = new Set<string>();
  for (const identifier of identifiers) {
    try {
      const url = new URL(identifier);
      if (url.protocol === 'https:' || url.protocol === 'http:') origins.add(url.origin);
    } catch {
      // Not a URL (an identifier such as "my-api"): it names no origin.
    }
  }
  return [...origins];
}
