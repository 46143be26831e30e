import {
  Injectable,
  Logger,
  Optional,
  type CanActivate,
  type ExecutionContext,
} from '@nestjs/common';
import { Reflector } from '@nestjs/core';
import type { ContextFace, UserCarrier } from '../contexts/context-face';
import { contextFace } from '../contexts/context-faces';
import {
  httpRequest,
  httpTokenSource,
  type GuardRequest,
  type GuardResponse,
} from '../contexts/http.face';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import { AuthError, UnsupportedContextError } from '../errors/auth-error';
import { authHttpException } from '../errors/auth-http-exception';
import type { ChallengeOptions } from '../errors/www-authenticate';
import { readRouteAuth, type RouteAuth } from './route-auth';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options';
import { UserinfoService } from '../userinfo.service';
import { attachedScheme, attachToken } from '../token/attached-token';
import { extractAccessToken, missingTokenError, type TokenSource } from '../token/extract-token';
import { httpPresentation, type TokenPresentation } from '../binding/token-presentation';
import { writeHeader } from '../binding/write-header';
import { clientCertificate, type CertificateRequest } from '../binding/client-certificate';
import { AccessTokenVerifier } from '../verifier/access-token.verifier';
import { McpScopes } from '../mcp/mcp-scopes';
import { mcpAuthInfo } from '../mcp/mcp-auth-info';
import { mcpOperations, type McpHttpRequest } from '../mcp/mcp-request';
import type { AuthUser } from '../token/auth-user';
import { requiredScopes, type ScopeRequirement } from '../token/scopes';
import type { StepUpRequirement } from '../token/step-up';

export type { GuardRequest, GuardResponse };

/**
 * Protects routes with OAuth 2.0 access tokens, in every execution context the library has a face
 * (HTTP on Express and Fastify, and those of `lib/contexts/context-faces.ts`); any other context is
 * refused, never let through. Registered as `APP_GUARD` by default; with `globalGuard: false`, use
 * it with `@UseGuards(AccessTokenGuard)`. Subclass it and override the protected hooks for
 * requests of other shapes.
 */
@Injectable()
export class AccessTokenGuard implements CanActivate {
  private readonly logger = new Logger('AccessTokenGuard');
  private readonly routes = new WeakMap<object, WeakMap<object, RouteAuth>>();

  constructor(
    protected readonly reflector: Reflector,
    @InjectAuthOptions() protected readonly options: ResolvedAuthOptions,
    protected readonly verifier: AccessTokenVerifier,
    protected readonly userinfo: UserinfoService,
    @Optional() protected readonly mcpScopes?: McpScopes,
  ) {}

  async canActivate(context: ExecutionContext): Promise<boolean> {
    const {
      isPublic,
      anonymousAllowed,
      scopes,
      claimRules,
      withUserinfo,
      stepUp,
      resource,
      mcpEndpoint,
    } = this.routeAuth(context);
    if (isPublic) return true;
    const isHttp = context.getType() === 'http';
    const face = isHttp ? undefined : this.faceOf(context);
    try {
      const carrier: UserCarrier = face ? face.carrier(context) : this.getRequest(context);
      const source = face
        ? face.tokenSource(carrier, context, this.options)
        : this.getTokenSource(carrier as GuardRequest);
      const dpopScheme = !face && this.options.dpop.mode !== 'disabled';
      const { maxTokenLength } = this.options;
      // MCP forbids a token in the query string: never taken at an MCP endpoint.
      const allowQueryToken = this.options.allowQueryToken && !mcpEndpoint;
      const extracted = extractAccessToken(source, { allowQueryToken, maxTokenLength, dpopScheme });
      const token = extracted?.token;
      if (extracted === undefined || token === undefined) {
        // Only a call with no token at all: a token that fails is refused on every route.
        if (anonymousAllowed) return true;
        throw missingTokenError(source);
      }
      // With its scheme: the challenge of a refusal says whether DPoP was presented.
      attachToken(
        carrier,
        token,
        face ? face.response?.(context) : this.getResponse(context),
        extracted.scheme,
      );
      const presentation = face
        ? undefined
        : this.getPresentation(carrier as GuardRequest, extracted.scheme, context);
      const user = await this.verifier.verify(token, presentation, resource);
      carrier.user = user;
      const mcp = mcpEndpoint ? this.mcpRequest(carrier, user, scopes) : undefined;
      if (mcp) this.verifier.checkScopes(user, mcp.scopes, mcp.subject);
      else this.verifier.checkScopes(user, scopes);
      this.verifier.checkClaimRules(user, claimRules);
      if (stepUp) this.verifier.checkStepUp(user, stepUp);
      for (const operationStepUp of mcp?.stepUps ?? []) {
        this.verifier.checkStepUp(user, operationStepUp);
      }
      // After the scope check: a caller that gets 403 costs no userinfo call.
      if (withUserinfo) await this.userinfo.fetchProfile(carrier);
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
    route = readRouteAuth(this.reflector, handler, controller);
    if (!byController) this.routes.set(handler, (byController = new WeakMap()));
    byController.set(controller, route);
    return route;
  }

  /**
   * At an `@McpEndpoint()` route: sets `request.auth` (the SDK's `extra.authInfo`), and gives the
   * endpoint's requirements plus those of every operation the JSON-RPC body asks to run.
   */
  private mcpRequest(
    carrier: object,
    user: AuthUser,
    endpoint: ScopeRequirement[],
  ): { scopes: ScopeRequirement[]; stepUps: StepUpRequirement[]; subject: string } {
    if (!this.mcpScopes) {
      // Fail closed: without the registry, the operations' scopes are unknown.
      throw new Error('AccessTokenGuard: @McpEndpoint() needs McpScopes (AuthModule provides it).');
    }
    const request = carrier as McpHttpRequest & {
      auth?: unknown;
      raw?: { auth?: unknown; user?: unknown };
    };
    // Fastify hands the SDK its raw request (`req.raw`): the SDK reads `auth` there, and
    // @rekog/mcp-nest `user` (its tools' `@McpRawRequest()`).
    request.auth = mcpAuthInfo(user);
    if (request.raw) Object.assign(request.raw, { auth: request.auth, user });
    const operations = mcpOperations(request);
    return {
      scopes: this.mcpScopes.requirements(endpoint, operations),
      stepUps: this.mcpScopes.stepUpRequirements(operations),
      subject: this.mcpScopes.subjectOf(operations),
    };
  }

  /** The face of a context other than HTTP; refuses (fail-closed) a context it has none for. */
  protected faceOf(context: ExecutionContext): ContextFace {
    const face = contextFace(context.getType());
    if (face) return face;
    const error = new UnsupportedContextError(context.getType());
    this.logger.error(error.message);
    throw error;
  }

  /** The HTTP request of the context. */
  protected getRequest(context: ExecutionContext): GuardRequest {
    return httpRequest(context);
  }

  /** The HTTP response of the context. */
  protected getResponse(context: ExecutionContext): GuardResponse {
    return context.switchToHttp().getResponse<GuardResponse>();
  }

  /**
   * Where an HTTP request carries its token. Override it to read a token from elsewhere (a cookie,
   * another header); extraction and every check stay the same.
   */
  protected getTokenSource(request: GuardRequest): TokenSource {
    return httpTokenSource(request, this.options.allowQueryToken);
  }

  /**
   * How an HTTP request presented its token (scheme, DPoP proof, URL, TLS client certificate), for
   * the DPoP and mTLS checks. Override
   * it when a proxy changes the URL in a way `dpop.publicBaseUrl` cannot say.
   */
  protected getPresentation(
    request: GuardRequest,
    scheme: 'Bearer' | 'DPoP',
    context: ExecutionContext,
  ): TokenPresentation {
    const presentation: TokenPresentation = httpPresentation(request, scheme, this.options.dpop);
    presentation.clientCertificate = () =>
      clientCertificate(request as CertificateRequest & GuardRequest, this.options.mtls);
    presentation.sendNonce = (nonce) => writeHeader(this.getResponse(context), 'DPoP-Nonce', nonce);
    return presentation;
  }

  /** The challenge options of an HTTP refusal: the route's, plus DPoP's where it is on. */
  private httpChallenge(context: ExecutionContext): ChallengeOptions {
    const { dpop } = this.options;
    const options = this.routeChallenge(context);
    if (dpop.mode === 'disabled') return options;
    const presented = attachedScheme(this.getRequest(context)) === 'DPoP';
    const dpopChallenge = {
      algorithms: dpop.algorithms,
      required: dpop.mode === 'required',
      presented,
    };
    return { ...options, dpopChallenge };
  }

  /**
   * The app's challenge options for the route: the `resource_metadata` of its resource
   * (`@ProtectedResource()`) and the scopes it requires.
   */
  private routeChallenge(context: ExecutionContext): ResolvedAuthOptions & ChallengeOptions {
    const { resource: name, scopes } = this.routeAuth(context);
    const { resources } = this.options;
    const resource =
      name !== undefined && resources && Object.hasOwn(resources, name)
        ? resources[name]
        : undefined;
    return {
      ...this.options,
      ...(resource ? { resourceMetadataUrl: resource.metadataUrl } : {}),
      scopes: requiredScopes(scopes),
    };
  }

  /**
   * Turns a refusal into the answer of its context: over HTTP the RFC 6750 challenge header and
   * Nest's JSON error body. Errors that are not refusals (bugs) are passed on unchanged.
   */
  protected handleError(error: unknown, context: ExecutionContext): unknown {
    if (!(error instanceof AuthError)) return error;
    if (context.getType() === 'http')
      return authHttpException(error, this.httpChallenge(context), this.getResponse(context));
    return this.faceOf(context).refusal(error, context, this.routeChallenge(context));
  }
}
