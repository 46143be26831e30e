import type { ExecutionContext } from '@nestjs/common';
import { AuthError, InsufficientScopeError, InvalidRequestError } from '../errors/auth-error';
import {
  authErrorAnswer,
  stepUpParameters,
  type ChallengeOptions,
  type StepUpParameters,
} from '../errors/www-authenticate';
import type { TokenSource } from '../token/extract-token';
import type { ContextFace, UserCarrier, FaceOptions } from './context-face';
import { httpTokenSource, type GuardRequest } from './http.face';

/** The `extensions.code` of a refusal, by HTTP status (Apollo's names). */
export type GraphqlAuthErrorCode = 'UNAUTHENTICATED' | 'FORBIDDEN' | 'SERVICE_UNAVAILABLE';

/** What a GraphQL refusal carries in `extensions`: the HTTP answer's status, codes and reason. */
export interface GraphqlAuthErrorExtensions extends StepUpParameters {
  [key: string]: unknown;
  /** `UNAUTHENTICATED` (401 and 400 answers), `FORBIDDEN` (403), `SERVICE_UNAVAILABLE` (503). */
  code: GraphqlAuthErrorCode;
  /** The HTTP status the same refusal answers with over HTTP. */
  status: number;
  /** The RFC 6750 error code, or `missing_token` / `issuer_unavailable`. */
  error: string;
  /** The library's finer reason (`token_expired`, `id_token`, ...). */
  reason: string;
  /** The scopes the field requires (`insufficient_scope` only). */
  scope?: string;
  /** Seconds after which a retry may succeed (`issuer_unavailable`, when known). */
  retryAfter?: number;
}

/** The parts of a graphql-ws connection context (`Context` of graphql-ws) the library reads. */
export interface GraphqlWsContext extends UserCarrier {
  /** The `connection_init` payload, once received. */
  readonly connectionParams?: Readonly<Record<string, unknown>>;
  readonly connectionInitReceived: boolean;
  readonly extra?: unknown;
}

/** The extensions of a refusal, built from its HTTP answer so that both always agree. */
export function graphqlErrorExtensions(
  error: AuthError,
  challenge: ChallengeOptions,
): GraphqlAuthErrorExtensions {
  const { status, headers, body } = authErrorAnswer(error, challenge);
  const code: GraphqlAuthErrorCode =
    status === 403 ? 'FORBIDDEN' : status === 503 ? 'SERVICE_UNAVAILABLE' : 'UNAUTHENTICATED';
  const extensions: GraphqlAuthErrorExtensions = {
    code,
    status,
    error: body.error,
    reason: body.reason,
    ...stepUpParameters(error),
  };
  if (error instanceof InsufficientScopeError) extensions.scope = error.requiredScopes.join(' ');
  if (headers['Retry-After'] !== undefined) extensions.retryAfter = Number(headers['Retry-After']);
  return extensions;
}

/**
 * A refusal as GraphQL reports it: at run time a `GraphQLError` of the app's `graphql`, typed
 * without graphql's types so that the declarations compile in apps without GraphQL.
 */
export interface GraphqlAuthError extends Error {
  /** The refusal's HTTP answer, as GraphQL clients read it. */
  readonly extensions: GraphqlAuthErrorExtensions;
  /** The refusal itself. */
  readonly originalError: AuthError;
}

/**
 * A refusal as the `GraphQLError` a resolver's guard throws: GraphQL reports it as a field error
 * with the field's `path`, and the rest of the answer stays intact. `graphql` is loaded here, on
 * the first refusal, so that apps without GraphQL need not install it.
 */
export function graphqlAuthError(error: AuthError, challenge: ChallengeOptions): GraphqlAuthError {
  const { GraphQLError } = loadGraphql();
  // GraphQLError keeps the very extensions and originalError it is given: ours.
  return new GraphQLError(error.message, {
    originalError: error,
    extensions: graphqlErrorExtensions(error, challenge),
  }) as unknown as GraphqlAuthError;
}

/** `graphql`, an optional peer: installed wherever resolvers run. */
function loadGraphql(): typeof import('graphql') {
  try {
    return require('graphql') as typeof import('graphql');
  } catch (cause) {
    throw new Error('GraphQL resolvers are guarded, but the graphql package cannot be loaded.', {
      cause,
    });
  }
}

/** Whether a GraphQL context's request is a graphql-ws connection (a subscription). */
export function isGraphqlWsContext(value: object): value is GraphqlWsContext {
  return 'connectionInitReceived' in value && 'subscriptions' in value;
}

/**
 * Where a graphql-ws connection carries its token: `connectionParams.authorization` (or
 * `Authorization`) of `connection_init`, as an `Authorization` header value (`Bearer <token>`).
 */
export function connectionParamsTokenSource(context: GraphqlWsContext): TokenSource {
  const params = context.connectionParams;
  if (!params) return {};
  const values = [params.authorization, params.Authorization].filter((v) => v !== undefined);
  if (values.length === 0) return {};
  const authorization = values[0];
  if (typeof authorization !== 'string') {
    throw new InvalidRequestError(
      'malformed_authorization_header',
      'connectionParams.authorization must be a string: Bearer <access token>.',
    );
  }
  return { authorization, authorizationHeaders: values.length };
}

/** The GraphQL context value of a resolver call (`GqlExecutionContext.getContext()`). */
function graphqlContextValue(context: ExecutionContext): unknown {
  const args = context.getArgs();
  // A federation reference resolver gets (root, context, info): no arguments object.
  return args.length === 3 ? args[1] : args[2];
}

const isObject = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null;

/**
 * The face of GraphQL resolvers (`@nestjs/graphql`, Apollo on Express or Fastify): the user is set
 * on the context's `req` (the HTTP request; for a subscription, the graphql-ws connection context),
 * and refusals are `GraphQLError`s with `extensions.code` and the library's `reason`.
 */
export const graphqlFace: ContextFace = {
  carrier(context) {
    const value = graphqlContextValue(context);
    if (!isObject(value)) return {};
    // The drivers put the request in `req`; a context without one is the carrier itself.
    return isObject(value.req) ? value.req : value;
  },

  tokenSource(carrier, _context, options: FaceOptions) {
    if (isGraphqlWsContext(carrier)) return connectionParamsTokenSource(carrier);
    const request = carrier as Partial<GuardRequest>;
    // No headers: nothing to read a token from, so the field is refused (missing_token).
    if (!isObject(request.headers)) return {};
    return httpTokenSource(request as GuardRequest, options.allowQueryToken);
  },

  refusal(error, _context, options) {
    return graphqlAuthError(error, options);
  },
};
