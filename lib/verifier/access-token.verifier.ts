import type { KeyObject } from 'node:crypto';
import { Logger } from '@nestjs/common';
import type { AuthUser } from '../token/auth-user';
import { VerifiedTokenCache } from '../cache/verified-token-cache';
import { enforceClaimRules, type ClaimRule, type ClaimRuleLevel } from '../token/claim-rules';
import { AuthError, InsufficientScopeError, InvalidTokenError } from '../errors/auth-error';
import { verifyHmac } from '../token/hmac-secret';
import { TrustedIssuers } from '../issuer/trusted-issuers';
import type { ParsedProof } from '../binding/check-dpop-proof';
import { SenderConstraint, type SenderConstraintOptions } from '../binding/sender-constraint';
import type { TokenPresentation } from '../binding/token-presentation';
import { OpaqueTokenVerifier } from '../opaque/opaque-token.verifier';
import type { ResolvedVerifiedTokenCacheOptions } from '../cache/verified-token-cache-options';
import { checkJwtHeader, isHmacAlgorithm, type HeaderPolicy } from '../token/check-jwt-header';
import { classifyToken } from '../token/classify-token';
import { decodeJwt, parsePayload } from '../token/decode-jwt';
import {
  describeRequirement,
  grantedScopes,
  requiredScopes,
  unmetRequirements,
  type ScopeRequirement,
} from '../token/scopes';
import { checkStepUp, stepUpUnknowable, type StepUpRequirement } from '../token/step-up';
import { tokenDigest, tokenHash } from '../token/token-hash';
import { validateClaims, type ClaimPolicy } from '../token/validate-claims';
import { verifySignature } from '../token/verify-signature';
import { turnBatch } from './turn-batch';
import { describeValue } from '../token/describe-value';

/** A token's `aud`, for a refusal: its values, printable and bounded. */
function describeAudience(audList: readonly string[] | undefined): string {
  return audList ? describeValue(audList.join(' '), 200) : 'no audience';
}

/**
 * What the verifier needs of the options: the claim and header policies, the bounds of the
 * verified-token cache, the module's claim rules, what to tell of opaque tokens, and the binding
 * checks' part.
 */
export interface VerifierOptions extends SenderConstraintOptions {
  issuer: string;
  audiences: string[];
  clockToleranceSeconds: number;
  strict: boolean;
  algorithms?: string[];
  keySource: 'jwks' | 'secret';
  verifiedTokenCache: ResolvedVerifiedTokenCacheOptions;
  claimRules: ClaimRule[];
  opaqueTokens?: 'userinfo' | 'introspection';
  /** The resources beside the API (`resources`), by name: what their routes' tokens must name. */
  resources?: Readonly<Record<string, { resource: string }>>;
}

/**
 * The one verifier every entry point calls (the guard's HTTP, GraphQL, WebSocket and RPC faces,
 * and the Passport strategy): a token in, its user or an `AuthError` out. It knows nothing of
 * Passport or of Nest's execution contexts.
 *
 * @example
 * const user = await verifier.verify(token); // throws InvalidTokenError, IssuerUnavailableError, ...
 * verifier.checkScopes(user, [{ mode: 'all', scopes: ['read:messages'] }]);
 */
export class AccessTokenVerifier {
  private readonly logger = new Logger('AccessTokenVerifier');
  private readonly claimPolicy: ClaimPolicy;
  private readonly headerPolicy: HeaderPolicy;
  private readonly verified?: VerifiedTokenCache;
  /** DPoP proofs and the binding of tokens to their senders (`cnf`). */
  readonly senders: SenderConstraint;

  constructor(
    private readonly options: VerifierOptions,
    private readonly issuers: TrustedIssuers,
    private readonly opaque: OpaqueTokenVerifier,
    senderConstraint?: SenderConstraint,
  ) {
    this.senders = senderConstraint ?? new SenderConstraint(options);
    const { issuer, audiences, clockToleranceSeconds, strict } = options;
    this.claimPolicy = { issuer, audiences, clockToleranceSeconds, strict };
    this.headerPolicy = {
      ...(options.algorithms ? { algorithms: options.algorithms } : {}),
      strict: options.strict,
      ...(options.keySource === 'secret' ? { hmac: true } : {}),
    };
    if (options.verifiedTokenCache)
      this.verified = new VerifiedTokenCache(options.verifiedTokenCache);
  }

  /**
   * The user of an access token: a JWT verified with the issuer's keys, or an opaque token the
   * provider vouches for (when `opaqueTokens` is set). Each call returns a user of its own.
   * `presentation` says how an HTTP request presented it (scheme, DPoP proof): without it the token
   * is a bearer token, and a token bound to a key (`cnf`) is refused. `resource` names the
   * resource of `resources` the caller is (`@ProtectedResource()`): the token must be for it;
   * without it, for the API (`audience`). The checks run in the event loop's check phase, with
   * those of the other calls of the same turn (see `turnBatch`).
   */
  async verify(
    token: string,
    presentation?: TokenPresentation,
    resource?: string,
  ): Promise<AuthUser> {
    // With the other requests of this event-loop turn: warmer caches, less CPU per request.
    await turnBatch();
    try {
      // A DPoP proof's cheap checks come first; a bearer token is refused where DPoP is required.
      let proof: ParsedProof | undefined;
      if (presentation?.scheme === 'DPoP')
        proof = await this.senders.checkProof(token, presentation);
      else this.senders.checkScheme(presentation);
      // A token the verified-token cache holds is answered without a promise to wait for.
      const digest =
        this.verified && classifyToken(token) === 'jwt' ? tokenDigest(token) : undefined;
      const target = resource === undefined ? undefined : this.resourceNamed(resource);
      const user =
        (digest === undefined ? undefined : this.cachedByDigest(digest)) ??
        (await this.verifyToken(token, digest, target));
      // After the caches, which hold tokens of every resource: checked on every call.
      this.checkResource(user, resource);
      if (proof) await this.senders.checkBinding(user, presentation, proof);
      else this.senders.checkUnprovenBinding(user, presentation);
      // On every call, after the caches: the module's rules are never skipped.
      this.checkClaimRules(user, this.options.claimRules, 'module');
      return user;
    } catch (error) {
      const reason = error instanceof AuthError ? error.reason : 'error';
      this.logger.debug(`Refused token ${tokenHash(token)}: ${reason}`);
      throw error;
    }
  }

  /**
   * A token the verified-token cache does not hold; `digest` is its `tokenDigest` when the cache is
   * on, `target` the identifier of the route's resource when it is not the API (for refusals).
   */
  private async verifyToken(
    token: string,
    digest: string | undefined,
    target: string | undefined,
  ): Promise<AuthUser> {
    if (classifyToken(token) === 'jwt') return await this.verifyJwt(token, digest, target);
    if (this.opaque.enabled) return await this.opaque.verify(token);
    throw new InvalidTokenError(
      'not_a_jwt',
      'The access token is not a JWT but an opaque or encrypted token, which this API cannot verify. ' +
        (target === undefined
          ? 'Auth0 issues such tokens when the client does not ask for an audience: request the ' +
            `access token with audience=${this.options.audiences[0]}.`
          : `Request the access token with resource=${target}.`),
    );
  }

  /**
   * Verifies a JWT access token with node:crypto, and offers it to the verified-token cache.
   * Private: its user has not passed the binding check nor the module's claim rules (`verify` makes
   * them).
   */
  private async verifyJwt(
    token: string,
    digest: string | undefined,
    target: string | undefined,
  ): Promise<AuthUser> {
    const jwt = decodeJwt(token);
    const header = checkJwtHeader(jwt.header, this.headerPolicy);
    // With several issuers, the unverified iss only chooses whose keys check the signature.
    const payload = this.issuers.several ? parsePayload(jwt.payloadText) : undefined;
    const issuer = this.issuers.select(payload);
    const key = this.issuers.cachedKey(issuer, header) ?? (await this.issuers.key(issuer, header));
    const { alg } = header;
    const valid = isHmacAlgorithm(alg)
      ? verifyHmac(alg, key, jwt.signingInput, jwt.signature)
      : verifySignature(alg, key, jwt.signingInput, jwt.signature);
    if (!valid) {
      throw new InvalidTokenError(
        'signature_invalid',
        "The token's signature does not verify with the issuer's key: it was forged or altered.",
      );
    }
    const claims = payload ?? parsePayload(jwt.payloadText);
    return this.acceptVerifiedPayload(token, claims, key, digest, target);
  }

  /**
   * The issuer's key for a JWT whose header passes the checks jsonwebtoken does not make (`typ`,
   * `crit`, `b64`, key fitness): for signature checks made elsewhere (passport-jwt).
   */
  keyFor(token: string): Promise<KeyObject> {
    const jwt = decodeJwt(token);
    const header = checkJwtHeader(jwt.header, this.headerPolicy);
    const issuer = this.issuers.select(this.issuers.several ? parsePayload(jwt.payloadText) : {});
    return this.issuers.key(issuer, header);
  }

  /**
   * Checks the claims of a token whose signature `key` verified, and remembers it when it passes.
   * The user is the request's own: the cache keeps a copy. `digest` is the token's `tokenDigest`
   * when the caller has it; `target`, the route's resource when it is not the API, comes first in
   * the audiences a refusal names (the same ones are accepted). Private, as `verifyJwt`.
   */
  private acceptVerifiedPayload(
    token: string,
    payload: unknown,
    key: KeyObject | undefined,
    digest?: string,
    target?: string,
  ): AuthUser {
    const selected = this.issuers.select(payload).policy;
    const policy =
      target === undefined
        ? selected
        : { ...selected, audiences: [target, ...selected.audiences.filter((a) => a !== target)] };
    const claims = validateClaims(payload, policy, Math.floor(Date.now() / 1000));
    if (this.verified) digest ??= tokenDigest(token);
    const user: AuthUser = {
      sub: claims.sub,
      scopes: [...grantedScopes(claims)],
      tokenType: 'jwt',
      tokenHash: digest === undefined ? tokenHash(token) : digest.slice(0, 12),
      claims,
    };
    if (!this.verified || !key || digest === undefined) return user;
    const expiresAt = (claims.exp + this.claimPolicy.clockToleranceSeconds) * 1000;
    this.verified.set(digest, { user, key, expiresAt });
    return user;
  }

  /**
   * The user of a token that passed every check before, while it is still valid and its key is
   * still in the issuer's JWKS: the answer the checks would give again, without a signature check.
   * A copy of its own for each request, as on a first use. Private, as `verifyJwt`.
   */
  private cachedUser(token: string): AuthUser | undefined {
    return this.verified ? this.cachedByDigest(tokenDigest(token)) : undefined;
  }

  /**
   * @internal For `AccessTokenStrategy` (Passport's path, which takes bearer tokens only): the user
   * of a token the verified-token cache holds, after the checks `verify` makes on every use (a
   * token bound to a key or a certificate is refused, having no proof; the module's claim rules).
   * Undefined when the cache does not hold the token.
   */
  cachedBearerUser(token: string): Promise<AuthUser> | undefined {
    const user = this.cachedUser(token);
    return user && this.acceptBearer(user);
  }

  /**
   * @internal For `AccessTokenStrategy`: the user of a JWT whose signature passport-jwt verified
   * with `key` (the one {@link keyFor} gave), after every check `verify` makes on a bearer token:
   * the claims, the binding (a bound token is refused) and the module's claim rules.
   */
  async acceptPassportToken(token: string, key: KeyObject | undefined): Promise<AuthUser> {
    const payload = parsePayload(decodeJwt(token).payloadText);
    return await this.acceptBearer(this.acceptVerifiedPayload(token, payload, key));
  }

  /** What `verify` checks after the token itself, for a token presented without DPoP. */
  private async acceptBearer(user: AuthUser): Promise<AuthUser> {
    // Passport's path serves the API's routes: tokens of the other resources are refused.
    this.checkResource(user, undefined);
    this.senders.checkUnprovenBinding(user, undefined);
    this.checkClaimRules(user, this.options.claimRules, 'module');
    return user;
  }

  /**
   * The cached user of a token while its key is current. When the issuer's key set is due for a
   * refresh, undefined (the entry kept): the token is then verified as without the cache, which
   * starts the refresh and answers as the uncached path does at that moment.
   */
  private cachedByDigest(digest: string): AuthUser | undefined {
    const now = Date.now();
    const entry = this.verified?.get(digest, now);
    if (!entry) return undefined;
    const standing = this.issuers.keyStanding(entry.user.claims.iss, entry.key, now);
    if (standing === 'current') return entry.user;
    if (standing === 'gone') this.verified!.delete(digest);
    return undefined;
  }

  /**
   * Refuses, with 401 `audience_mismatch`, a user whose token is not for `resource` (a name of
   * `resources`) or, without it, not for the API. The claims check accepted the audiences of every
   * resource, and the caches hold such tokens: this says which one the route is. Without
   * `resources`, the claims check already said it all.
   */
  private checkResource(user: AuthUser, resource: string | undefined): void {
    const { resources } = this.options;
    if (resource === undefined && (!resources || Object.keys(resources).length === 0)) return;
    const target = resource === undefined ? undefined : this.resourceNamed(resource);
    const aud = user.claims.aud;
    const audList = typeof aud === 'string' ? [aud] : Array.isArray(aud) ? aud : undefined;
    if (target === undefined) {
      // An opaque token userinfo accepted names no audience: the API's routes take it as ever.
      if (audList === undefined && user.tokenType === 'opaque') return;
      const trusted = this.issuers.find(user.claims.iss) ?? this.issuers.first;
      const accepted = trusted.settings.audiences;
      if (audList?.some((a) => accepted.includes(a))) return;
      throw new InvalidTokenError(
        'audience_mismatch',
        `The access token is for ${describeAudience(audList)} (aud); this API, ${accepted[0]}, ` +
          `accepts only tokens for ${accepted.join(' or ')}: request the access token with ` +
          `audience=${accepted[0]}.`,
      );
    }
    if (audList?.includes(target)) return;
    if (audList === undefined) {
      throw new InvalidTokenError(
        'audience_mismatch',
        "The access token is opaque, and the identity provider's userinfo endpoint that accepted " +
          `it does not say whom it is for; this resource, ${target}, accepts only tokens issued ` +
          `for ${target}: request a JWT access token with resource=${target}.`,
      );
    }
    throw new InvalidTokenError(
      'audience_mismatch',
      `The access token is for ${describeAudience(audList)} (aud); this resource, ${target}, ` +
        `accepts only tokens for ${target}: request the access token with resource=${target}.`,
    );
  }

  /** The identifier of the resource named `name`; a name `resources` lacks is a bug (startup checks them). */
  private resourceNamed(name: string): string {
    const { resources } = this.options;
    if (resources && Object.hasOwn(resources, name)) return resources[name].resource;
    throw new Error(
      `@ProtectedResource('${name}') names no resource of AuthModule's resources option.`,
    );
  }

  /**
   * Refuses `user` unless its claims pass every rule: a route's `@ClaimRules()` (403 by default),
   * or with `level: 'module'` the module's `claimRules` (401 by default; `verify` checks them).
   */
  checkClaimRules(
    user: AuthUser,
    rules: readonly ClaimRule[],
    level: ClaimRuleLevel = 'route',
  ): void {
    enforceClaimRules(user, rules, level, this.logger, this.options.opaqueTokens);
  }

  /**
   * Refuses `user` with 401 `insufficient_user_authentication` (RFC 9470) unless its `acr` and
   * `auth_time` meet a route's `@StepUp()` now, with the clock tolerance. An opaque token checked
   * through /userinfo is refused: a profile tells nothing of the token's authentication.
   */
  checkStepUp(user: AuthUser, requirement: StepUpRequirement): void {
    if (user.tokenType === 'opaque' && this.options.opaqueTokens === 'userinfo') {
      throw stepUpUnknowable(requirement);
    }
    const { clockToleranceSeconds } = this.options;
    checkStepUp(user.claims, requirement, Math.floor(Date.now() / 1000), clockToleranceSeconds);
  }

  /** Refuses `user` with 403 `insufficient_scope` unless it meets every requirement. */
  checkScopes(
    user: AuthUser,
    requirements: readonly ScopeRequirement[],
    /** What needs them, for the description: an MCP tool, say (the route by default). */
    subject = 'This route',
  ): void {
    if (requirements.length === 0) return;
    const unmet = unmetRequirements(new Set(user.scopes), requirements);
    if (unmet.length === 0) return;
    const wanted = unmet.map(describeRequirement);
    const granted = user.scopes.length > 0 ? user.scopes.join(' ') : 'none';
    const advice =
      user.tokenType === 'opaque' && this.options.opaqueTokens === 'userinfo'
        ? 'The access token is opaque and carries no scopes: request an access token with ' +
          `audience=${this.options.audiences[0]} and the scope, to get a JWT for this API.`
        : `The token grants: ${granted}. Request the access token with the missing scope, and grant it to the caller.`;
    // Every scope the request needs, not only the missing ones: a client (an MCP client, say) asks
    // for what the challenge names instead of what it had.
    throw new InsufficientScopeError(
      requiredScopes(requirements),
      `${subject} requires ${wanted.join('; and ')}. ${advice}`,
    );
  }
}
