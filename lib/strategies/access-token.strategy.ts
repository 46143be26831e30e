import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import { decodeProtectedHeader } from 'jose';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import type { KeyObject } from 'node:crypto';
import type { AuthUser } from '../auth-user.interface';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { InvalidTokenError } from '../errors/auth-error';
import { JwksKeyStore } from '../issuer/jwks-key-store';
import type { ResolvedAuthOptions } from '../resolve-auth-options';
import { checkJwtHeader, SUPPORTED_ALGORITHMS } from '../token/check-jwt-header';
import { grantedScopes } from '../token/scopes';
import { attachedToken } from '../token/attached-token';
import { tokenHash } from '../token/token-hash';
import { validateClaims, type ClaimPolicy } from '../token/validate-claims';
import { VerifiedTokenCache } from '../cache/verified-token-cache';

/** Name under which the strategy registers with its own Passport instance. */
export const ACCESS_TOKEN_STRATEGY = 'oauth2-access-token';

const PASSPORTS = new WeakMap<object, passport.Authenticator>();
const VERIFYING_KEY = Symbol('nest-oauth2-bearer:verifying-key');

/** The request as the strategy marks it: the key that verified its token. */
interface KeyCarrier {
  [VERIFYING_KEY]?: KeyObject;
}

/**
 * The Passport JWT strategy: passport-jwt verifies the signature (through jsonwebtoken) with a key
 * this library found and checked; what jsonwebtoken does not check (`typ`, `crit`, `b64`,
 * key fitness, required `exp`, ID-token confusion) is checked here, before and after it.
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(Strategy, ACCESS_TOKEN_STRATEGY) {
  private readonly claimPolicy: ClaimPolicy;
  private readonly verified?: VerifiedTokenCache;

  constructor(
    @InjectAuthOptions() options: ResolvedAuthOptions,
    private readonly keyStore: JwksKeyStore,
  ) {
    const headerPolicy = {
      ...(options.algorithms ? { algorithms: options.algorithms } : {}),
      strict: options.strict,
    };
    super({
      jwtFromRequest: (request: object) => attachedToken(request) ?? null,
      secretOrKeyProvider: (
        request: object,
        rawToken: string,
        done: (error: unknown, key?: KeyObject) => void,
      ) => {
        let header;
        try {
          header = checkJwtHeader(decodeHeader(rawToken), headerPolicy);
        } catch (error) {
          return done(error);
        }
        keyStore.getKey(header).then((key) => {
          Object.defineProperty(request, VERIFYING_KEY, { value: key, configurable: true });
          done(null, key);
        }, done);
      },
      algorithms: options.algorithms ?? [...SUPPORTED_ALGORITHMS],
      // Time claims are checked by validateClaims, after the ID-token diagnosis.
      ignoreExpiration: true,
      jsonWebTokenOptions: { ignoreNotBefore: true },
      passReqToCallback: true,
    } as ConstructorParameters<typeof Strategy>[0]);
    const { issuer, audiences, clockToleranceSeconds, strict } = options;
    this.claimPolicy = { issuer, audiences, clockToleranceSeconds, strict };
    if (options.verifiedTokenCache)
      this.verified = new VerifiedTokenCache(options.verifiedTokenCache);
  }

  /** Called by passport-jwt with the payload of a token whose signature is valid. */
  validate(request: object, payload: unknown): AuthUser {
    const claims = validateClaims(payload, this.claimPolicy, Math.floor(Date.now() / 1000));
    const token = attachedToken(request) ?? '';
    const user: AuthUser = {
      sub: claims.sub,
      scopes: [...grantedScopes(claims)],
      tokenType: 'jwt',
      tokenHash: tokenHash(token),
      claims,
    };
    const key = (request as KeyCarrier)[VERIFYING_KEY];
    if (this.verified && key) {
      const expiresAt = (claims.exp + this.claimPolicy.clockToleranceSeconds) * 1000;
      this.verified.set(token, { user, key, expiresAt });
      return { ...user };
    }
    return user;
  }

  /**
   * The user of a token that passed every check before, while it is still valid and its key is
   * still in the issuer's JWKS: the answer the checks would give again, without a signature check.
   */
  cachedUser(token: string): AuthUser | undefined {
    const entry = this.verified?.get(token);
    if (!entry) return undefined;
    if (!this.keyStore.isCurrent(entry.key)) {
      this.verified!.delete(token);
      return undefined;
    }
    return { ...entry.user };
  }

  /** This strategy's own Passport instance, so that several AuthModules never share a registry. */
  getPassportInstance(): passport.Authenticator {
    let instance = PASSPORTS.get(this);
    if (!instance) {
      instance = new passport.Authenticator();
      PASSPORTS.set(this, instance);
    }
    return instance;
  }
}

function decodeHeader(token: string): Record<string, unknown> {
  try {
    return decodeProtectedHeader(token) as Record<string, unknown>;
  } catch (error) {
    throw new InvalidTokenError(
      'malformed_jwt',
      'The access token is malformed: its header is not base64url-encoded JSON.',
      {
        cause: error,
      },
    );
  }
}
