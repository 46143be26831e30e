// First: names the package to install when this entry's optional peer is missing.
// oxlint-disable-next-line import/no-unassigned-import
import '../peers/swagger.peer';
import { Logger, type INestApplicationContext } from '@nestjs/common';
import { MetadataScanner, ModulesContainer, Reflector } from '@nestjs/core';
import {
  DECORATORS,
  DocumentBuilder,
  SwaggerModule,
  type OpenAPIObject,
  type OperationObject,
  type ResponseObject,
  type SecurityRequirementObject,
  type SecuritySchemeObject,
  type SwaggerDocumentOptions,
} from '@nestjs/swagger';
import { RESOLVED_AUTH_OPTIONS } from '../auth.constants';
import {
  InsufficientScopeError,
  InvalidTokenError,
  IssuerUnavailableError,
} from '../errors/auth-error';
import {
  authErrorAnswer,
  type AuthErrorAnswer,
  type ChallengeOptions,
} from '../errors/www-authenticate';
import { AccessTokenGuard } from '../guards/access-token.guard';
import { readRouteAuth, type RouteAuth } from '../guards/route-auth';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options';
import { requiredScopes, type ScopeRequirement } from '../token/scopes';

/** How `applyAuthToOpenApi` names and describes the access token. */
export interface AuthOpenApiOptions {
  /**
   * The name of the security scheme in `components.securitySchemes`.
   * @default 'bearerAuth'
   */
  schemeName?: string;
  /**
   * `bearer`: an HTTP bearer scheme (`bearerFormat: 'JWT'`), where Swagger UI takes a pasted token.
   * `openIdConnect`: the issuer's discovery document, so that OpenAPI 3.0 validators accept the
   * scopes listed in the requirements (3.0 allows scopes only on `oauth2` and `openIdConnect`).
   * @default 'bearer'
   */
  scheme?: 'bearer' | 'openIdConnect';
  /**
   * The options given to `SwaggerModule.createDocument`, when they change the paths
   * (`ignoreGlobalPrefix`): the routes are found again with them.
   * @default {}
   */
  documentOptions?: SwaggerDocumentOptions;
}

/** The schema of every refusal's body, in `components.schemas`. */
export const AUTH_ERROR_SCHEMA_NAME = 'AuthErrorBody';

const PROBE_EXTENSION = 'x-nest-oauth2-bearer-route';
const CONTROLLER_KEY_END = '\u0001';
/** Nest's metadata keys of `@Get()`-style routes and `@UseGuards()` (stable across 11 and 12). */
const PATH_METADATA = 'path';
const GUARDS_METADATA = '__guards__';
const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch', 'trace'] as const;

interface Route {
  /** The controller's class name, as @nestjs/swagger passes it to `operationIdFactory`. */
  controllerKey: string;
  auth: RouteAuth;
  guarded: boolean;
}

/**
 * Describes the access token in an OpenAPI document made by `@nestjs/swagger`, from the same
 * decorators the guard reads: routes that need a token get a security requirement with the
 * scopes of `@Scopes()` (each choice of `@Scopes.any()` a requirement of its own), `@OptionalAuth()`
 * routes an optional one (`{}` or the token), `@Public()` routes none; guarded routes document
 * their 401 (and 403 where scopes are required, 503 when the provider is down) with the error body
 * and the `WWW-Authenticate` header. Returns the document, changed in place.
 *
 * @example
 * const document = SwaggerModule.createDocument(app, new DocumentBuilder().setTitle('API').build());
 * applyAuthToOpenApi(document, app);
 * SwaggerModule.setup('docs', app, document);
 */
export function applyAuthToOpenApi(
  document: OpenAPIObject,
  app: INestApplicationContext,
  options: AuthOpenApiOptions = {},
): OpenAPIObject {
  const { schemeName = 'bearerAuth', scheme = 'bearer', documentOptions = {} } = options;
  const authOptions = resolvedOptions(app);
  const routes = findRoutes(app);
  const operations = probeOperations(app, routes, documentOptions);

  document.components ??= {};
  document.components.securitySchemes ??= {};
  document.components.securitySchemes[schemeName] ??= securityScheme(scheme, authOptions.issuer);
  document.components.schemas ??= {};
  document.components.schemas[AUTH_ERROR_SCHEMA_NAME] ??= ERROR_BODY_SCHEMA;

  const unmatched: string[] = [];
  let matched = 0;
  for (const [path, item] of Object.entries(document.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method];
      if (!operation) continue;
      const route = operations.get(`${method} ${path}`);
      if (!route) {
        unmatched.push(`${method.toUpperCase()} ${path}`);
        continue;
      }
      matched++;
      describeRoute(operation, route, schemeName, authOptions, document);
    }
  }
  if (unmatched.length > 0) {
    const advice =
      'Pass the SwaggerDocumentOptions given to SwaggerModule.createDocument as documentOptions.';
    if (matched === 0) {
      throw new Error(
        `applyAuthToOpenApi: none of the document's operations is a route of this app (${unmatched[0]}, ...). ${advice}`,
      );
    }
    new Logger('AuthOpenApi').warn(
      `Operations left as they are (not routes of this app): ${unmatched.join(', ')}. ${advice}`,
    );
  }
  return document;
}

function resolvedOptions(app: INestApplicationContext): ResolvedAuthOptions {
  try {
    return app.get<ResolvedAuthOptions>(RESOLVED_AUTH_OPTIONS, { strict: false });
  } catch (error) {
    throw new Error(
      'applyAuthToOpenApi: AuthModule is not part of this app; import AuthModule.forRoot() first.',
      { cause: error },
    );
  }
}

/** Every controller method with a route, with what its decorators ask and whether it is guarded. */
function findRoutes(app: INestApplicationContext): Map<object, Route[]> {
  const reflector = new Reflector();
  const scanner = new MetadataScanner();
  const global = hasGlobalGuard(app);
  const routes = new Map<object, Route[]>();
  for (const module of app.get(ModulesContainer).values()) {
    for (const wrapper of module.controllers.values()) {
      const controller = wrapper.metatype as new (...args: never[]) => unknown;
      const prototype = controller.prototype as Record<string, unknown>;
      for (const name of scanner.getAllMethodNames(prototype)) {
        const handler = prototype[name] as object;
        if (Reflect.getMetadata(PATH_METADATA, handler) === undefined) continue;
        const route: Route = {
          controllerKey: controller.name,
          auth: readRouteAuth(reflector, handler, controller),
          guarded: global || usesGuard(handler) || usesGuard(controller),
        };
        // An inherited handler serves several controllers: told apart by class name.
        routes.set(handler, [...(routes.get(handler) ?? []), route]);
      }
    }
  }
  return routes;
}

/** `AuthModule` with `globalGuard: true` (the default), or `app.useGlobalGuards(guard)`. */
function hasGlobalGuard(app: INestApplicationContext): boolean {
  // The application config Nest keeps global guards in (also read by @nestjs/swagger's scanner).
  const config = (app as { config?: { getGlobalGuards?(): unknown[] } }).config;
  return (config?.getGlobalGuards?.() ?? []).some((guard) => guard instanceof AccessTokenGuard);
}

function usesGuard(target: object): boolean {
  const guards = (Reflect.getMetadata(GUARDS_METADATA, target) ?? []) as unknown[];
  return guards.some(
    (guard) =>
      guard instanceof AccessTokenGuard ||
      (typeof guard === 'function' &&
        (guard === AccessTokenGuard || guard.prototype instanceof AccessTokenGuard)),
  );
}

/**
 * Which route each `method path` of the document is: a second document, made by `@nestjs/swagger`
 * itself with a marker on every handler, so that paths come out exactly as in the user's document
 * (global prefix, versions, RouterModule paths) without computing them again here.
 */
function probeOperations(
  app: INestApplicationContext,
  routes: Map<object, Route[]>,
  documentOptions: SwaggerDocumentOptions,
): Map<string, Route> {
  const handlers = [...routes.keys()];
  const saved = handlers.map((handler) => ({
    handler,
    own: Reflect.hasOwnMetadata(DECORATORS.API_EXTENSION, handler),
    value: Reflect.getOwnMetadata(DECORATORS.API_EXTENSION, handler) as object | undefined,
  }));
  let probe: OpenAPIObject;
  try {
    handlers.forEach((handler, index) =>
      Reflect.defineMetadata(
        DECORATORS.API_EXTENSION,
        { ...saved[index].value, [PROBE_EXTENSION]: index },
        handler,
      ),
    );
    probe = SwaggerModule.createDocument(
      app as Parameters<typeof SwaggerModule.createDocument>[0],
      new DocumentBuilder().build(),
      {
        ...documentOptions,
        include: [],
        operationIdFactory: (controllerKey: string) => `${controllerKey}${CONTROLLER_KEY_END}`,
      },
    );
  } finally {
    for (const { handler, own, value } of saved) {
      if (own) Reflect.defineMetadata(DECORATORS.API_EXTENSION, value, handler);
      else Reflect.deleteMetadata(DECORATORS.API_EXTENSION, handler);
    }
  }
  const found = new Map<string, Route>();
  for (const [path, item] of Object.entries(probe.paths ?? {})) {
    for (const method of METHODS) {
      const operation = item[method] as (OperationObject & Record<string, unknown>) | undefined;
      const index = operation?.[PROBE_EXTENSION];
      if (typeof index !== 'number') continue;
      const controllerKey = (operation!.operationId ?? '').split(CONTROLLER_KEY_END)[0];
      const candidates = routes.get(handlers[index]) ?? [];
      const route = candidates.find((r) => r.controllerKey === controllerKey) ?? candidates[0];
      if (route && !found.has(`${method} ${path}`)) found.set(`${method} ${path}`, route);
    }
  }
  return found;
}

function describeRoute(
  operation: OperationObject,
  route: Route,
  schemeName: string,
  challenge: ChallengeOptions,
  document: OpenAPIObject,
): void {
  const { auth, guarded } = route;
  if (auth.isPublic || !guarded) {
    // No token needed: no requirement, even when the document sets a global one.
    if (auth.isPublic && (document.security?.length ?? 0) > 0) operation.security = [];
    return;
  }
  const alternatives = scopeAlternatives(auth.scopes);
  // The route's 401 names its scopes, as the guard's does.
  challenge = { ...challenge, scopes: requiredScopes(auth.scopes) };
  operation.security = [
    ...(auth.anonymousAllowed ? [{}] : []),
    ...alternatives.map((scopes): SecurityRequirementObject => ({ [schemeName]: scopes })),
  ];
  const responses = (operation.responses ??= {});
  responses['401'] ??= errorResponse(
    auth.anonymousAllowed
      ? 'The access token sent is missing its mark: malformed, expired, forged or not meant for this API (a call without a token is served).'
      : 'No access token, or one that is malformed, expired, forged or not meant for this API.',
    authErrorAnswer(
      new InvalidTokenError('token_expired', 'The access token expired at 2030-01-01T00:00:00Z.'),
      challenge,
    ),
  );
  if (auth.scopes.length > 0) {
    const wanted = alternatives.map((scopes) => scopes.join(' and ')).join(', or ');
    responses['403'] ??= errorResponse(
      `The access token lacks a required scope: this route requires ${wanted}.`,
      authErrorAnswer(
        new InsufficientScopeError(alternatives[0], `This route requires ${wanted}.`),
        challenge,
      ),
    );
  }
  responses['503'] ??= errorResponse(
    'The identity provider cannot be reached and no usable key is cached; retry after Retry-After seconds.',
    authErrorAnswer(
      new IssuerUnavailableError(
        'The identity provider could not be reached to fetch its signing keys; try again shortly.',
        1,
      ),
      challenge,
    ),
  );
}

/**
 * The scope sets that satisfy every requirement: `@Scopes('a', 'b')` needs both, each
 * `@Scopes.any('c', 'd')` one of its scopes, so each choice is an alternative.
 */
export function scopeAlternatives(requirements: readonly ScopeRequirement[]): string[][] {
  let alternatives: string[][] = [[]];
  for (const { mode, scopes } of requirements) {
    const choices = mode === 'all' ? [scopes] : scopes.map((scope) => [scope]);
    alternatives = alternatives.flatMap((chosen) =>
      choices.map((choice) => [...new Set([...chosen, ...choice])]),
    );
  }
  const seen = new Set<string>();
  return alternatives.filter((scopes) => {
    const key = [...scopes].sort().join(' ');
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}

function errorResponse(description: string, example: AuthErrorAnswer): ResponseObject {
  const challenge = example.headers['WWW-Authenticate'];
  const retryAfter = example.headers['Retry-After'];
  return {
    description,
    headers: {
      ...(challenge
        ? {
            'WWW-Authenticate': {
              description: 'The RFC 6750 challenge: error code, description and required scope.',
              schema: { type: 'string', example: challenge },
            },
          }
        : {}),
      ...(retryAfter
        ? {
            'Retry-After': {
              description: 'Seconds after which a retry may succeed.',
              schema: { type: 'integer', example: Number(retryAfter) },
            },
          }
        : {}),
    },
    content: {
      'application/json': {
        schema: { $ref: `#/components/schemas/${AUTH_ERROR_SCHEMA_NAME}` },
        example: example.body,
      },
    },
  };
}

function securityScheme(scheme: 'bearer' | 'openIdConnect', issuer: string): SecuritySchemeObject {
  if (scheme === 'openIdConnect') {
    return {
      type: 'openIdConnect',
      openIdConnectUrl: `${issuer.replace(/\/+$/, '')}/.well-known/openid-configuration`,
      description: `An access token from ${issuer}, sent as Authorization: Bearer <token>.`,
    };
  }
  return {
    type: 'http',
    scheme: 'bearer',
    bearerFormat: 'JWT',
    description: `An access token from ${issuer}, sent as Authorization: Bearer <token>.`,
  };
}

const ERROR_BODY_SCHEMA = {
  type: 'object' as const,
  description: 'The body of a refusal (see the README error table).',
  required: ['statusCode', 'error', 'message', 'reason'],
  properties: {
    statusCode: { type: 'integer' as const, example: 401 },
    error: {
      type: 'string' as const,
      description: 'The RFC 6750 error code, or missing_token / issuer_unavailable.',
      enum: [
        'missing_token',
        'invalid_request',
        'invalid_token',
        'insufficient_scope',
        'issuer_unavailable',
      ],
    },
    message: { type: 'string' as const, description: 'What is wrong, for a developer.' },
    reason: {
      type: 'string' as const,
      description: 'A finer stable reason, such as token_expired or audience_mismatch.',
    },
  },
};
