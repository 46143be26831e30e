import { Inject, Injectable } from '@nestjs/common';
import type { AuthUser } from '../auth-user.interface';
import { TOKEN_INFO_LIMITS, USERINFO_CACHE } from '../auth.constants';
import type { TokenResultCache } from '../cache/token-result-cache';
import { AuthError, InvalidTokenError } from '../errors/auth-error';
import { authHttpException } from '../guards/auth-http-exception';
import type { FetchLimits } from '../issuer/fetch-json';
import { IssuerDiscovery } from '../issuer/issuer-discovery';
import { attachedToken } from '../token/attached-token';
import { endpointOf } from './opaque-token.verifier';
import { UpstreamLimiter } from './upstream-limiter';
import { requestUserinfo, type UserProfile } from './userinfo-client';

/**
 * The userinfo profile of an authenticated caller, fetched on demand and cached per token so that
 * an API stays under the provider's rate limit (Auth0: about 5 calls a minute per user).
 */
@Injectable()
export class UserinfoService {
  constructor(
    private readonly discovery: IssuerDiscovery,
    private readonly limiter: UpstreamLimiter,
    @Inject(USERINFO_CACHE) private readonly cache: TokenResultCache<UserProfile>,
    @Inject(TOKEN_INFO_LIMITS) private readonly limits: FetchLimits,
  ) {}

  /**
   * The profile of the caller of `request`, which `AccessTokenGuard` authenticated. Throws an
   * `HttpException`: 401 when the profile's `sub` is not the token's, 503 when the provider is down.
   */
  async getProfile(request: object): Promise<UserProfile> {
    try {
      return await this.fetchProfile(request);
    } catch (error) {
      throw error instanceof AuthError ? authHttpException(error) : error;
    }
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
    const exp = (user.claims as { exp?: unknown }).exp;
    const profile = await this.cache.resolve(token, async () => {
      const endpoint = await endpointOf(this.discovery, 'userinfoEndpoint');
      const value = await this.limiter.run(() => requestUserinfo(endpoint, token, this.limits));
      return { value, ...(typeof exp === 'number' ? { expiresAtMs: exp * 1000 } : {}) };
    });
    if (profile.sub !== user.sub) {
      throw new InvalidTokenError(
        'userinfo_subject_mismatch',
        "The identity provider's userinfo profile is for another subject than the access token.",
      );
    }
    user.profile = profile;
    return profile;
  }
}
