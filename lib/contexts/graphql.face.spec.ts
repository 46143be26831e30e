import type { ExecutionContext } from '@nestjs/common';
import { GraphQLError } from 'graphql';
import {
  InsufficientScopeError,
  InvalidRequestError,
  IssuerUnavailableError,
  MissingTokenError,
} from '../errors/auth-error';
import { resolveAuthOptions } from '../options/resolve-auth-options';
import type { UserCarrier } from './context-face';
import {
  connectionParamsTokenSource,
  graphqlAuthError,
  graphqlFace,
  isGraphqlWsContext,
  type GraphqlWsContext,
} from './graphql.face';

const options = resolveAuthOptions({
  issuerUrl: 'https://tenant.example.com/',
  audience: 'https://api.example.com',
});

/** A resolver call: (root, args, context, info), or a reference resolver's (root, context, info). */
const resolverCall = (...args: unknown[]) =>
  ({ getArgs: () => args }) as unknown as ExecutionContext;

const wsContext = (connectionParams?: Record<string, unknown>): GraphqlWsContext =>
  ({
    connectionInitReceived: true,
    subscriptions: {},
    connectionParams,
  }) as GraphqlWsContext;

describe('graphqlAuthError', () => {
  it('is a GraphQLError carrying the refusal as originalError and its HTTP answer in extensions', () => {
    const refusal = new InsufficientScopeError(['read:orders', 'admin'], 'scope missing');
    const error = graphqlAuthError(refusal, { realm: 'api' });
    expect(error).toBeInstanceOf(GraphQLError);
    expect(error.originalError).toBe(refusal);
    expect(error.message).toBe('scope missing');
    expect(error.extensions).toEqual({
      code: 'FORBIDDEN',
      status: 403,
      error: 'insufficient_scope',
      reason: 'insufficient_scope',
      scope: 'read:orders admin',
    });
  });

  it('maps 503 to SERVICE_UNAVAILABLE with retryAfter, and a missing token to UNAUTHENTICATED', () => {
    expect(
      graphqlAuthError(new IssuerUnavailableError('down', 7), { realm: 'api' }).extensions,
    ).toEqual({
      code: 'SERVICE_UNAVAILABLE',
      status: 503,
      error: 'issuer_unavailable',
      reason: 'issuer_unavailable',
      retryAfter: 7,
    });
    expect(graphqlAuthError(new MissingTokenError(), { realm: 'api' }).extensions).toMatchObject({
      code: 'UNAUTHENTICATED',
      status: 401,
    });
  });

  it('names the graphql package when it cannot be loaded, with the load error as cause', () => {
    const loadError = new Error("Cannot find module 'graphql'");
    jest.isolateModules(() => {
      jest.doMock('graphql', () => {
        throw loadError;
      });
      const isolated = jest.requireActual<typeof import('./graphql.face')>('./graphql.face');
      let thrown: unknown;
      try {
        isolated.graphqlAuthError(new MissingTokenError(), { realm: 'api' });
      } catch (error) {
        thrown = error;
      }
      expect(thrown).toBeInstanceOf(Error);
      expect((thrown as Error).message).toMatch(/graphql package cannot be loaded/);
      expect((thrown as Error).cause).toBe(loadError);
    });
    jest.dontMock('graphql');
  });
});

describe('isGraphqlWsContext', () => {
  it('recognises a graphql-ws connection context, not an HTTP request', () => {
    expect(isGraphqlWsContext(wsContext())).toBe(true);
    expect(isGraphqlWsContext({ connectionInitReceived: true })).toBe(false);
    expect(isGraphqlWsContext({ headers: {} })).toBe(false);
  });
});

describe('connectionParamsTokenSource', () => {
  it('has nothing to offer without connectionParams or without an authorization entry', () => {
    expect(connectionParamsTokenSource(wsContext())).toEqual({});
    expect(connectionParamsTokenSource(wsContext({ other: 'x' }))).toEqual({});
  });

  it('counts authorization and Authorization as two headers, and refuses a value that is not text', () => {
    expect(
      connectionParamsTokenSource(
        wsContext({ authorization: 'Bearer a', Authorization: 'Bearer b' }),
      ),
    ).toEqual({ authorization: 'Bearer a', authorizationHeaders: 2 });
    expect(connectionParamsTokenSource(wsContext({ Authorization: 'Bearer b' }))).toEqual({
      authorization: 'Bearer b',
      authorizationHeaders: 1,
    });
    expect(() => connectionParamsTokenSource(wsContext({ authorization: 42 }))).toThrow(
      InvalidRequestError,
    );
  });
});

describe('graphqlFace.carrier', () => {
  it("is the context's req, for a resolver call and for a federation reference resolver", () => {
    const req = { headers: {} };
    expect(graphqlFace.carrier(resolverCall({}, {}, { req }, {}))).toBe(req);
    expect(graphqlFace.carrier(resolverCall({}, { req }, {}))).toBe(req);
  });

  it('is the context itself without a req, and a fresh object without a context', () => {
    const contextValue = { connectionInitReceived: true, subscriptions: {} };
    expect(graphqlFace.carrier(resolverCall({}, {}, contextValue, {}))).toBe(contextValue);
    expect(graphqlFace.carrier(resolverCall({}, {}, undefined, {}))).toEqual({});
  });
});

describe('graphqlFace.tokenSource', () => {
  const context = resolverCall();

  it('reads a graphql-ws connection from connectionParams', () => {
    expect(
      graphqlFace.tokenSource(wsContext({ authorization: 'Bearer t' }), context, options),
    ).toEqual({ authorization: 'Bearer t', authorizationHeaders: 1 });
  });

  it('offers no token for a carrier without headers, so the field is refused as missing_token', () => {
    expect(graphqlFace.tokenSource({}, context, options)).toEqual({});
  });

  it('reads an HTTP request like the HTTP face does', () => {
    expect(
      graphqlFace.tokenSource(
        { headers: { authorization: 'Bearer t' } } as UserCarrier,
        context,
        options,
      ),
    ).toEqual({ authorization: 'Bearer t', authorizationHeaders: 1, queryToken: undefined });
  });
});
