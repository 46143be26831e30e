import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import type { KeyObject } from 'node:crypto';
import type { AuthUser } from '../auth-user.interface';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError, InvalidTokenError, MissingTokenError } from '../errors/auth-error';
import type { ResolvedAuthOptions } from '../resolve-auth-options';
import { SUPPORTED_ALGORITHMS } from '../token/check-jwt-header';
import { attachedToken } from '../token/attached-token';
import { AccessTokenVerifier } from '../verifier/access-token.verifier';

/** Name under which the strategy registers with its own Passport instance. */
export const ACCESS_TOKEN_STRATEGY = 'oauth2-access-token';

const PASSPORTS = new WeakMap<object, passport.Authenticator>();
const VERIFYING_KEY = Symbol('nest-oauth2-bearer:verifying-key');

/** The request as the strategy marks it: the key that verified its token. */
interface KeyCarrier {
  [VERIFYING_KEY]?: KeyObject;
}

/**
 * The Passport JWT strategy, a thin face over {@link AccessTokenVerifier}: passport-jwt verifies
 * the signature (through jsonwebtoken) with the key the verifier found and checked; what
 * jsonwebtoken does not check (`typ`, `crit`, `b64`, key fitness, required `exp`, ID-token
 * confusion) the verifier checks, before and after it.
 *
 * `AccessTokenGuard` does not go through Passport's per-request machinery: it calls
 * `AccessTokenVerifier.verify`, the same checks with node:crypto for the signature. Passport
 * (`getPassportInstance().authenticate(...)`) gives the same answers.
 */
@Injectable()
export class AccessTokenStrategy extends PassportStrategy(Strategy, ACCESS_TOKEN_STRATEGY) {
  constructor(
    @InjectAuthOptions() options: ResolvedAuthOptions,
    private readonly verifier: AccessTokenVerifier,
  ) {
    super({
      jwtFromRequest: (request: object) => attachedToken(request) ?? null,
      secretOrKeyProvider: (
        request: object,
        rawToken: string,
        done: (error: unknown, key?: KeyObject) => void,
      ) => {
        let key: Promise<KeyObject>;
        try {
          key = verifier.keyFor(rawToken);
        } catch (error) {
          return done(error);
        }
        key.then((found) => {
          Object.defineProperty(request, VERIFYING_KEY, { value: found, configurable: true });
          done(null, found);
        }, done);
      },
      algorithms: options.algorithms ?? [...SUPPORTED_ALGORITHMS],
      // Time claims are checked by validateClaims, after the ID-token diagnosis.
      ignoreExpiration: true,
      jsonWebTokenOptions: { ignoreNotBefore: true },
      passReqToCallback: true,
    } as ConstructorParameters<typeof Strategy>[0]);
  }

  /** Called by passport-jwt with the payload of a token whose signature is valid. */
  validate(request: object, payload: unknown): AuthUser {
    return this.verifier.acceptVerifiedPayload(
      attachedToken(request) ?? '',
      payload,
      (request as KeyCarrier)[VERIFYING_KEY],
    );
  }

  /**
   * Authenticates `request` through Passport (passport-jwt and jsonwebtoken): the path for code that
   * composes Passport strategies. Gives the same answers as `verifyToken`, more slowly.
   */
  authenticateWithPassport(request: object, response: object): Promise<AuthUser> {
    const token = attachedToken(request);
    const cached = token === undefined ? undefined : this.verifier.cachedUser(token);
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
