import { Injectable } from '@nestjs/common';
import { PassportStrategy } from '@nestjs/passport';
import passport from 'passport';
import { Strategy } from 'passport-jwt';
import type { KeyObject } from 'node:crypto';
import type { AuthUser } from '../token/auth-user';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { httpTokenSource, type GuardRequest } from '../contexts/http.face';
import { AuthError, InvalidTokenError, MissingTokenError } from '../errors/auth-error';
import {
  AuthHttpException,
  authHttpException,
  type GuardResponse,
} from '../errors/auth-http-exception';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options';
import { SUPPORTED_ALGORITHMS } from '../token/check-jwt-header';
import { attachedResponse, attachedToken, attachToken } from '../token/attached-token';
import { classifyToken } from '../token/classify-token';
import { extractBearerToken, missingTokenError } from '../token/extract-token';
import { AccessTokenVerifier } from '../verifier/access-token.verifier';

/**
 * Name under which the strategy registers on Passport's global instance, for `AuthGuard` of
 * `@nestjs/passport`: `@UseGuards(AuthGuard('oauth2-access-token'))`.
 */
export const ACCESS_TOKEN_STRATEGY = 'oauth2-access-token';

const VERIFYING_KEY = Symbol('nest-oauth2-bearer:verifying-key');

/** The request as the strategy marks it: the key that verified its token. */
interface KeyCarrier {
  [VERIFYING_KEY]?: KeyObject;
}

/** What Passport gives a strategy for one request: its answers (passport-strategy's actions). */
interface PassportActions {
  success(user: unknown, info?: unknown): void;
  fail(challenge?: unknown, status?: number): void;
  error(error: unknown): void;
}

/**
 * What the strategy inherits from passport-jwt's `Strategy` through `PassportStrategy`, spelled
 * without passport-jwt's or Passport's types: the published declarations must compile in an app
 * that has no `@types/passport-jwt` or `@types/passport` (TS7016 with `skipLibCheck` off).
 */
interface PassportJwtStrategy {
  authenticate(request: object, authenticateOptions?: object): void;
}

const PassportJwtStrategy = PassportStrategy(Strategy, ACCESS_TOKEN_STRATEGY) as new (
  options: object,
) => PassportJwtStrategy;

/**
 * The Passport JWT strategy, a thin face over {@link AccessTokenVerifier}: passport-jwt verifies
 * the signature (through jsonwebtoken) with the key the verifier found and checked; what
 * jsonwebtoken does not check (`typ`, `crit`, `b64`, key fitness, required `exp`, ID-token
 * confusion) the verifier checks, before and after it. Opaque tokens (with `opaqueTokens`) go to
 * the verifier directly.
 *
 * Registered on Passport's global instance as `oauth2-access-token`, so that `AuthGuard` of
 * `@nestjs/passport` uses it, alone or composed, with the answers of `AccessTokenGuard`: every
 * refusal is an `AuthHttpException` (status, JSON body, `WWW-Authenticate` or `Retry-After`), raised
 * through Passport's `error`, which ends a chain of strategies. A request without a bearer token
 * is refused too (401 and the bare challenge): in a chain, list this strategy last.
 * On Express the headers are written to `request.res`; on Fastify, where a strategy cannot reach
 * the reply, register `AuthHttpExceptionFilter`. With several AuthModules in one app, the last one
 * created owns the name.
 *
 * @example
 * @UseGuards(AuthGuard(['api-key', 'oauth2-access-token']))
 * @Get('reports') reports(@Req() request: { user: AuthUser }) {}
 */
@Injectable()
export class AccessTokenStrategy extends PassportJwtStrategy {
  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
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

  /**
   * Passport's entry (`this` is Passport's copy of the strategy for one request): finds the token
   * (the one `AccessTokenGuard` extracted, or the request's own, with the guard's checks), then
   * verifies it through passport-jwt, or the verifier for an opaque token.
   */
  override authenticate(request: object, authenticateOptions?: object): void {
    const actions = this as unknown as PassportActions;
    let token: string | undefined;
    try {
      token = attachedToken(request);
      if (token === undefined) {
        const source = httpTokenSource(request as GuardRequest, this.options.allowQueryToken);
        token = extractBearerToken(source, this.options);
        if (token === undefined) throw missingTokenError(source);
        attachToken(request, token, (request as { res?: object }).res);
      }
      // Passport's path takes bearer tokens only: where DPoP is required, none (before any crypto).
      this.verifier.senders.checkScheme(undefined);
    } catch (error) {
      return this.refuse(actions, request, error);
    }
    const cached = this.verifier.cachedBearerUser(token);
    if (cached) {
      // Passport's path takes bearer tokens only: a key-bound token is refused, and every token
      // where DPoP is required (lib/binding).
      cached.then(
        (user) => actions.success(user),
        (error: unknown) => this.refuse(actions, request, error),
      );
      return;
    }
    if (classifyToken(token) !== 'jwt') {
      this.verifier.verify(token).then(
        (user) => actions.success(user),
        (error: unknown) => this.refuse(actions, request, error),
      );
      return;
    }
    // passport-jwt reports refusals through `fail` and `error`: both become the library's answer.
    const jwt = Object.create(actions) as PassportActions;
    jwt.fail = (info: unknown) => this.refuse(actions, request, passportRefusal(info));
    jwt.error = (error: unknown) => this.refuse(actions, request, error);
    Strategy.prototype.authenticate.call(jwt, request as never, authenticateOptions);
  }

  /** Answers a refusal with its `AuthHttpException`, headers written to the response when known. */
  private refuse(actions: PassportActions, request: object, error: unknown): void {
    if (!(error instanceof AuthError)) return actions.error(error);
    const response = attachedResponse(request) ?? (request as { res?: object }).res;
    const { dpop } = this.options;
    // Where DPoP is required, the challenge says so (RFC 9449 §7.1), as the library guard's does.
    const challenge =
      dpop.mode === 'required'
        ? { ...this.options, dpopChallenge: { algorithms: dpop.algorithms, required: true } }
        : this.options;
    actions.error(authHttpException(error, challenge, response as GuardResponse));
  }

  /**
   * Called by passport-jwt once the token's signature is valid (the verifier reads the payload from
   * the token itself, and makes the checks that follow).
   */
  async validate(request: object): Promise<AuthUser> {
    // Passport's path takes bearer tokens only: a key-bound token is refused, and every token where
    // DPoP is required (lib/binding).
    return await this.verifier.acceptPassportToken(
      attachedToken(request) ?? '',
      (request as KeyCarrier)[VERIFYING_KEY],
    );
  }

  /**
   * Authenticates `request` through Passport (passport-jwt and jsonwebtoken) with this very
   * strategy: the path for code that composes Passport strategies by hand. Gives the same answers
   * as `AccessTokenVerifier.verify`, more slowly; refusals are `AuthError`s.
   */
  authenticateWithPassport(request: object, response: object): Promise<AuthUser> {
    return new Promise<AuthUser>((resolve, reject) => {
      // A copy per request: Passport sets its actions on the strategy object it is given.
      const middleware = passport.authenticate(
        Object.create(this) as passport.Strategy,
        { session: false },
        (error: unknown, user: AuthUser | false, info: unknown) => {
          if (user) return resolve(user);
          const refusal = error ?? passportRefusal(info);
          reject(refusal instanceof AuthHttpException ? refusal.cause : refusal);
        },
      );
      middleware(request, response, reject);
    });
  }
}

/**
 * What passport-jwt reports through `fail()`: our own refusals, or whatever jsonwebtoken (and the
 * jwa/jws libraries below it) threw while verifying. All of the latter are refusals of the token
 * (for example jwa throws a TypeError for an ES256 signature of the wrong length), never bugs.
 */
function passportRefusal(info: unknown): AuthError {
  if (info instanceof AuthError) return info;
  // Cannot run in this process: passport-jwt says 'No auth token' only when jwtFromRequest gives
  // null, and authenticate() hands it a request with a JWT attached. Kept for passport-jwt changes.
  /* istanbul ignore if */
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
