import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import type { KeyObject } from 'node:crypto';
import type { AuthUser } from '../auth-user.interface';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError, InvalidTokenError, MissingTokenError } from '../errors/auth-error';
import { JwksKeyStore } from '../issuer/jwks-key-store';
import type { ResolvedAuthOptions } from '../resolve-auth-options';
import { checkJwtHeader, SUPPORTED_ALGORITHMS, type HeaderPolicy } from '../token/check-jwt-header';
import { decodeJwt, parsePayload } from '../token/decode-jwt';
import { verifySignature, verifySignatureInThreadPool } from '../token/verify-signature';
import { grantedScopes } from '../token/scopes';
import { attachedToken } from '../token/attached-token';
import { copyJson } from '../token/copy-json';
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
 *
 * `AccessTokenGuard` does not go through Passport's per-request machinery: it calls
 * `verifyToken`, the same checks in the same order with node:crypto for the signature, plus the
 * verified-token cache. Passport (`getPassportInstance().authenticate(...)`) gives the same answers.
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(Strategy, ACCESS_TOKEN_STRATEGY) {
  private readonly claimPolicy: ClaimPolicy;
  private readonly headerPolicy: HeaderPolicy;
  private readonly verified?: VerifiedTokenCache;
  private readonly inThreadPool: boolean;

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
          header = checkJwtHeader(decodeJwt(rawToken).header, headerPolicy);
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
    this.headerPolicy = headerPolicy;
    this.inThreadPool = options.signatureChecks === 'thread-pool';
    if (options.verifiedTokenCache)
      this.verified = new VerifiedTokenCache(options.verifiedTokenCache);
  }

  /** Called by passport-jwt with the payload of a token whose signature is valid. */
  validate(request: object, payload: unknown): AuthUser {
    return this.userFor(
      attachedToken(request) ?? '',
      payload,
      (request as KeyCarrier)[VERIFYING_KEY],
    );
  }

  /**
   * Verifies a JWT access token and returns its user: the checks of the Passport path, in the same
   * order, without Passport's per-request objects and with node:crypto for the signature (on the
   * event loop, or in the thread pool with `signatureChecks: 'thread-pool'`).
   */
  async verifyToken(token: string): Promise<AuthUser> {
    const cached = this.cachedUser(token);
    if (cached) return cached;
    const jwt = decodeJwt(token);
    const header = checkJwtHeader(jwt.header, this.headerPolicy);
    const key = this.keyStore.getCachedKey(header) ?? (await this.keyStore.getKey(header));
    const valid = this.inThreadPool
      ? await verifySignatureInThreadPool(header.alg, key, jwt.signingInput, jwt.signature)
      : verifySignature(header.alg, key, jwt.signingInput, jwt.signature);
    if (!valid) {
      throw new InvalidTokenError(
        'signature_invalid',
        "The token's signature does not verify with the issuer's key: it was forged or altered.",
      );
    }
    return this.userFor(token, parsePayload(jwt.payloadText), key);
  }

  /** Checks the claims of a token whose signature verified, and remembers it when it passes. */
  private userFor(token: string, payload: unknown, key: KeyObject | undefined): AuthUser {
    const claims = validateClaims(payload, this.claimPolicy, Math.floor(Date.now() / 1000));
    const user: AuthUser = {
      sub: claims.sub,
      scopes: [...grantedScopes(claims)],
      tokenType: 'jwt',
      tokenHash: tokenHash(token),
      claims,
    };
    if (!this.verified || !key) return user;
    const expiresAt = (claims.exp + this.claimPolicy.clockToleranceSeconds) * 1000;
    // The cache keeps its own user: the request gets a copy that its handler may change.
    return this.verified.set(token, { user, key, expiresAt }) ? copyJson(user) : user;
  }

  /**
   * The user of a token that passed every check before, while it is still valid and its key is
   * still in the issuer's JWKS: the answer the checks would give again, without a signature check.
   * A copy of its own for each request, as on a first use.
   */
  cachedUser(token: string): AuthUser | undefined {
    const entry = this.verified?.get(token);
    if (!entry) return undefined;
    if (!this.keyStore.isCurrent(entry.key)) {
      this.verified!.delete(token);
      return undefined;
    }
    return copyJson(entry.user);
  }

  /**
   * Authenticates `request` through Passport (passport-jwt and jsonwebtoken): the path for code that
   * composes Passport strategies. Gives the same answers as `verifyToken`, more slowly.
   */
  authenticateWithPassport(request: object, response: object): Promise<AuthUser> {
    const token = attachedToken(request);
    const cached = token === undefined ? undefined : this.cachedUser(token);
    if (cached) return Promise.resolve(cached);
    return new Promise<AuthUser>((resolve, reject) => {
      const middleware = this.getPassportInstance().authenticate(
        ACCESS_TOKEN_STRATEGY,
        { session: false },
        (error: unknown, user: AuthUser | false, info: unknown) =>
          user ? resolve(user) : reject(error ?? passportRefusal(info)),
      );
      middleware(request, response, reject);
    });
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

/**
 * What passport-jwt reports through `fail()`: our own refusals, or whatever jsonwebtoken (and the
 * jwa/jws libraries below it) threw while verifying. All of the latter are refusals of the token
 * (for example jwa throws a TypeError for an ES256 signature of the wrong length), never bugs.
 */
function passportRefusal(info: unknown): AuthError {
  if (info instanceof AuthError) return info;
  if (info instanceof Error && info.message === 'No auth token') {
    return new MissingTokenError();
  }
  const message = info instanceof Error ? info.message : String(info);
  const bySignature = /signature/i.test(message);
  return new InvalidTokenError(
    bySignature ? 'signature_invalid' : 'malformed_jwt',
    bySignature
      ? "The token's signature does not verify with the issuer's key: it was forged or altered."
      : 'The access token is malformed and cannot be verified.',
    { cause: info },
  );
}
