import { Injectable, Logger, type CanActivate, type ExecutionContext } from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { AuthUser } from '../auth-user.interface';
import { IS_PUBLIC_KEY, SCOPES_KEY, WITH_USERINFO_KEY } from '../auth.constants';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import {
  AuthError,
  InsufficientScopeError,
  InvalidTokenError,
  MissingTokenError,
  UnsupportedContextError,
} from '../errors/auth-error';
import { authHttpException, type GuardResponse } from './auth-http-exception';
import type { ResolvedAuthOptions } from '../resolve-auth-options';
import { AccessTokenStrategy } from '../strategies/access-token.strategy';
import { OpaqueTokenVerifier } from '../opaque/opaque-token.verifier';
import { UserinfoService } from '../opaque/userinfo.service';
import { attachToken } from '../token/attached-token';
import { classifyToken } from '../token/classify-token';
import { extractBearerToken } from '../token/extract-token';
import { unmetRequirements, type ScopeRequirement } from '../token/scopes';
import { tokenHash } from '../token/token-hash';

/** What a route's decorators ask of the guard. */
interface RouteAuth {
  isPublic: boolean;
  scopes: ScopeRequirement[];
  withUserinfo: boolean;
}

/** The parts of an HTTP request the guard reads and writes. */
export interface GuardRequest {
  headers: { authorization?: string; [name: string]: string | string[] | undefined };
  /** Node's raw header list (Express), where a repeated `Authorization` header shows. */
  rawHeaders?: readonly string[];
  /** Node's request under Fastify's, with its raw header list. */
  raw?: { rawHeaders?: readonly string[] };
  query?: Record<string, unknown>;
  user?: AuthUser;
}

export type { GuardResponse };

/**
 * Protects routes with OAuth 2.0 access tokens. Registered as `APP_GUARD` by default; with
 * `globalGuard: false`, use it with `@UseGuards(AccessTokenGuard)`.
 * Subclass it and override the protected hooks for requests of other shapes.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  private readonly logger = new Logger('AccessTokenGuard');
  private readonly routes = new WeakMap<object, WeakMap<object, RouteAuth>>();

  constructor(
    private readonly reflector: Reflector,
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly strategy: AccessTokenStrategy,
    private readonly opaqueVerifier: OpaqueTokenVerifier,
    private readonly userinfo: UserinfoService,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const { isPublic, scopes, withUserinfo } = this.routeAuth(context);
    if (context.getType() !== 'http') {
      if (isPublic) return true;
      const error = new UnsupportedContextError(context.getType());
      this.logger.error(error.message);
      throw error;
    }
    if (isPublic) return true;
    const request = this.getRequest(context);
    try {
      const user = await this.authenticate(request, context);
      request.user = user;
      this.checkScopes(user, scopes);
      // After the scope check: a caller that gets 403 costs no userinfo call.
      if (withUserinfo) await this.userinfo.fetchProfile(request);
      return true;
    } catch (error) {
      throw this.handleError(error, context);
    }
  }

  /** What the route's decorators ask for, read once per handler and class (metadata is static). */
  private routeAuth(context: ExecutionContext): RouteAuth {
    const handler = context.getHandler();
    const controller = context.getClass();
    let byController = this.routes.get(handler);
    let route = byController?.get(controller);
    if (route) return route;
    const targets = [handler, controller];
    route = {
      isPublic:
        this.reflector.getAllAndOverride<boolean | undefined>(IS_PUBLIC_KEY, targets) === true,
      scopes: this.reflector.getAllAndMerge<ScopeRequirement[]>(SCOPES_KEY, targets) ?? [],
      withUserinfo:
        this.reflector.getAllAndOverride<boolean | undefined>(WITH_USERINFO_KEY, targets) === true,
    };
    if (!byController) this.routes.set(handler, (byController = new WeakMap()));
    byController.set(controller, route);
    return route;
  }

  /** The HTTP request of the context. */
  protected getRequest(context: ExecutionContext): GuardRequest {
    return context.switchToHttp().getRequest<GuardRequest>();
  }

  /** The HTTP response of the context. */
  protected getResponse(context: ExecutionContext): GuardResponse {
    return context.switchToHttp().getResponse<GuardResponse>();
  }

  /**
   * Turns a refusal into the HTTP answer: RFC 6750 challenge header and Nest's JSON error body.
   * Errors that are not refusals (bugs) are passed on unchanged.
   */
  protected handleError(error: unknown, context: ExecutionContext): unknown {
    if (!(error instanceof AuthError)) return error;
    return authHttpException(error, this.options.realm, this.getResponse(context));
  }

  private async authenticate(request: GuardRequest, context: ExecutionContext): Promise<AuthUser> {
    const authorization = request.headers.authorization;
    const token = extractBearerToken(
      {
        authorization,
        // Node keeps only the first of repeated Authorization headers: count them in the raw list.
        authorizationHeaders:
          authorization === undefined
            ? 0
            : countHeaders(request.rawHeaders ?? request.raw?.rawHeaders, 'authorization'),
        // Express parses the query string on every read of `request.query`: read it only when asked.
        queryToken: this.options.allowQueryToken ? request.query?.access_token : undefined,
      },
      this.options,
    );
    if (token === undefined) throw new MissingTokenError();
    try {
      attachToken(request, token, this.getResponse(context));
      if (classifyToken(token) === 'jwt') return await this.strategy.verifyToken(token);
      if (this.opaqueVerifier.enabled) return await this.opaqueVerifier.verify(token);
      throw new InvalidTokenError(
        'not_a_jwt',
        'The access token is not a JWT but an opaque or encrypted token, which this API cannot verify. ' +
          'Auth0 issues such tokens when the client does not ask for an audience: request the access ' +
          `token with audience=${this.options.audiences[0]}.`,
      );
    } catch (error) {
      const reason = error instanceof AuthError ? error.reason : 'error';
      this.logger.debug(`Refused token ${tokenHash(token)}: ${reason}`);
      throw error;
    }
  }

  private checkScopes(user: AuthUser, requirements: ScopeRequirement[]): void {
    if (requirements.length === 0) return;
    const unmet = unmetRequirements(new Set(user.scopes), requirements);
    if (unmet.length === 0) return;
    const required = [...new Set(unmet.flatMap((r) => r.scopes))];
    const wanted = unmet.map((r) =>
      r.mode === 'all' ? r.scopes.join(' and ') : `one of ${r.scopes.join(', ')}`,
    );
    const granted = user.scopes.length > 0 ? user.scopes.join(' ') : 'none';
    const advice =
      user.tokenType === 'opaque' && this.options.opaqueTokens === 'userinfo'
        ? 'The access token is opaque and carries no scopes: request an access token with ' +
          `audience=${this.options.audiences[0]} and the scope, to get a JWT for this API.`
        : `The token grants: ${granted}. Request the access token with the missing scope, and grant it to the caller.`;
    throw new InsufficientScopeError(
      required,
      `This route requires the scope ${wanted.join('; and ')}. ${advice}`,
    );
  }
}

/** How many headers named `name` (lower case) a raw header list holds; 1 when it is unknown. */
function countHeaders(rawHeaders: readonly string[] | undefined, name: string): number {
  if (!rawHeaders) return 1;
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const header = rawHeaders[i];
    if (header.length === name.length && header.toLowerCase() === name) count++;
  }
  return count;
}
