import { Inject, Injectable, Logger } from '@nestjs/common';
import type { AuthUser, UserProfile } from './token/auth-user';
import {
  PROFILE_LIMITER,
  RESOLVED_AUTH_OPTIONS,
  TOKEN_INFO_LIMITS,
  USERINFO_CACHE,
} from './auth.constants';
import type { TokenResultCache } from './cache/token-result-cache';
import { AuthError, InvalidTokenError } from './errors/auth-error';
import type { ChallengeOptions } from './errors/www-authenticate';
import { authHttpException, type GuardResponse } from './errors/auth-http-exception';
import type { FetchLimits } from './issuer/fetch-json';
import { TrustedIssuers } from './issuer/trusted-issuers';
import type { ResolvedAuthOptions } from './options/resolve-auth-options';
import { attachedResponse, attachedToken } from './token/attached-token';
import { copyJson } from './token/copy-json';
import { MalformedAnswerError } from './opaque/malformed-answer';
import { endpointOf, logMalformedAnswer } from './opaque/opaque-token.verifier';
import type { UpstreamLimiter } from './opaque/upstream-limiter';
import { requestUserinfo } from './opaque/userinfo-client';

/**
 * The userinfo profile of an authenticated caller, fetched on demand and cached per token so that
 * an API stays under the provider's rate limit (Auth0: about 5 calls a minute per user). Its calls
 * have a budget of their own (`upstream.profiles`), so that a flood of random opaque tokens cannot
 * starve verified callers.
 */
@Injectable()
export class UserinfoService {
  private readonly logger = new Logger('UserinfoService');

  constructor(
    private readonly issuers: TrustedIssuers,
    @Inject(PROFILE_LIMITER) private readonly limiter: UpstreamLimiter,
    @Inject(USERINFO_CACHE) private readonly cache: TokenResultCache<UserProfile>,
    @Inject(TOKEN_INFO_LIMITS) private readonly limits: FetchLimits,
    @Inject(RESOLVED_AUTH_OPTIONS) private readonly options: ResolvedAuthOptions,
  ) {}

  /**
   * The profile of the caller of `request`, which `AccessTokenGuard` authenticated. Throws an
   * `AuthHttpException` with the whole answer (its headers are written to the response too): 401
   * when the profile's `sub` is not the token's, 503 with `Retry-After` when the provider is down.
   */
  async getProfile(request: object): Promise<UserProfile> {
    try {
      return await this.fetchProfile(request);
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      const response = attachedResponse(request) as GuardResponse | undefined;
      throw authHttpException(error, this.challenge(request), response);
    }
  }

  /**
   * The challenge options of a refusal, DPoP's included as the guard's: a token bound to a DPoP
   * key (cnf.jkt) was accepted only with the DPoP scheme, so its refusal goes in a DPoP challenge.
   */
  private challenge(request: object): ChallengeOptions {
    const { dpop } = this.options;
    if (dpop.mode === 'disabled') return this.options;
    const cnf = (request as { user?: AuthUser }).user?.claims.cnf;
    const presented = typeof cnf === 'object' && cnf !== null && 'jkt' in cnf;
    const required = dpop.mode === 'required';
    return { ...this.options, dpopChallenge: { algorithms: dpop.algorithms, required, presented } };
  }

  /** As `getProfile`, throwing the library's `AuthError` (for the guard). */
  async fetchProfile(request: object): Promise<UserProfile> {
    const user = (request as { user?: AuthUser }).user;
    const token = attachedToken(request);
    if (!user || token === undefined) {
      throw new Error(
        'UserinfoService.getProfile needs a request authenticated by AccessTokenGuard.',
      );
    }
    if (user.profile) return user.profile;
    // /userinfo would get the token as a bearer token, without the proof its binding requires.
    if (user.claims.cnf !== undefined) {
      throw new InvalidTokenError(
        'userinfo_sender_constrained',
        'The access token is bound to its sender (cnf: a DPoP key or a client certificate), so the ' +
          "API cannot fetch the caller's profile from the identity provider's /userinfo with it: " +
          'it would have to send the token without its proof. This route needs an access token ' +
          'that is not sender-constrained.',
      );
    }
    const exp = (user.claims as { exp?: unknown }).exp;
    const cached = await this.cache.resolve(token, async () => {
      // The caller's own issuer's userinfo (the only issuer for opaque tokens).
      const issuer = this.issuers.find(user.claims.iss) ?? this.issuers.first;
      const endpoint = await endpointOf(issuer.discovery, 'userinfoEndpoint');
      try {
        const value = await this.limiter.run(() => requestUserinfo(endpoint, token, this.limits));
        return { value, ...(typeof exp === 'number' ? { expiresAtMs: exp * 1000 } : {}) };
      } catch (error) {
        // Inside the lookup: one log per answer, however many requests shared it.
        if (error instanceof MalformedAnswerError)
          logMalformedAnswer(this.logger, user.tokenHash, error);
        throw error;
      }
    });
    if (cached.sub !== user.sub) {
      throw new InvalidTokenError(
        'userinfo_subject_mismatch',
        "The identity provider's userinfo profile is for another subject than the access token.",
      );
    }
    // The cache keeps its own profile: the request gets a copy that its handler may change.
    const profile = copyJson(cached);
    user.profile = profile;
    return profile;
  }
}
