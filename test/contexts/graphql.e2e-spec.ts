import { Module, type INestApplication } from '@nestjs/common';
import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import {
  Args,
  Field,
  GraphQLModule,
  Mutation,
  ObjectType,
  Query,
  ResolveField,
  Resolver,
  Subscription,
} from '@nestjs/graphql';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { createClient } from 'graphql-ws';
import WebSocket from 'ws';
import {
  AuthModule,
  CurrentUser,
  GraphqlWsAuth,
  Public,
  Scopes,
  StepUp,
  type AuthUser,
} from '../../lib';
import { createPlatformApp, PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';
import { listen } from '../support/listen';
import { capturingLogger } from '../support/log-capture';

const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

@ObjectType()
class Viewer {
  @Field()
  sub!: string;

  @Field(() => [String])
  scopes!: string[];
}

@ObjectType()
class Note {
  @Field()
  text!: string;
}

/** Public and private queries, a guarded mutation, field resolver and subscription. */
@Resolver(() => Note)
class MessagesResolver {
  @Public()
  @Query(() => String)
  publicMessage(): string {
    return 'public';
  }

  @Query(() => String, { nullable: true })
  privateMessage(@CurrentUser() user: AuthUser): string {
    return `private for ${user.sub}`;
  }

  @Scopes('admin:messages')
  @Query(() => String, { nullable: true })
  scopedMessage(): string {
    return 'scoped';
  }

  @Query(() => Viewer, { nullable: true })
  me(@CurrentUser() user: AuthUser): Viewer {
    return { sub: user.sub ?? '', scopes: user.scopes };
  }

  /** A public object whose `secret` field is guarded by its own field resolver. */
  @Public()
  @Query(() => Note)
  note(): Note {
    return { text: 'a public note' };
  }

  @ResolveField(() => String, { nullable: true })
  secret(@CurrentUser('sub') sub: string): string {
    return `secret of ${sub}`;
  }

  @Mutation(() => String, { nullable: true })
  post(@Args('text') text: string, @CurrentUser('sub') sub: string): string {
    return `${sub} posted ${text}`;
  }

  @Subscription(() => String)
  async *whoami(@CurrentUser() user: AuthUser) {
    yield { whoami: user.sub };
  }

  @Scopes('admin:messages')
  @Subscription(() => String)
  async *adminEvents() {
    yield { adminEvents: 'event' };
  }

  @StepUp({ acr: MFA, maxAge: 300 })
  @Query(() => String, { nullable: true })
  steppedUpMessage(): string {
    return 'stepped up';
  }

  @StepUp({ acr: MFA })
  @Subscription(() => String)
  async *steppedUpEvents() {
    yield { steppedUpEvents: 'event' };
  }
}

interface GraphqlAnswer {
  status: number;
  body: {
    data?: Record<string, unknown> | null;
    errors?: { message: string; path?: string[]; extensions: Record<string, unknown> }[];
  };
}

/** Resolvers, queries, mutations and subscriptions over Apollo, on Express and on Fastify. */
describe.each(PLATFORMS)('GraphQL resolvers (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;
  let url: string;

  beforeAll(async () => {
    ks = await KeyServer.start();
    @Module({
      imports: [
        // No clock tolerance: a connection is closed the moment its token expires.
        AuthModule.forRoot({ issuerUrl: ks.issuer, audience: ks.audience, clockTolerance: 0 }),
        GraphQLModule.forRootAsync<ApolloDriverConfig>({
          driver: ApolloDriver,
          inject: [GraphqlWsAuth],
          useFactory: (wsAuth: GraphqlWsAuth) => ({
            autoSchemaFile: true,
            graphiql: false,
            fieldResolverEnhancers: ['guards'],
            subscriptions: { 'graphql-ws': { onConnect: wsAuth.onConnect } },
          }),
        }),
      ],
      providers: [MessagesResolver],
    })
    class GraphqlAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [GraphqlAppModule] }).compile();
    app = await createPlatformApp(moduleRef, platform);
    url = `${await listen(app)}/graphql`;
  });

  afterAll(async () => {
    await app?.close();
    await ks?.stop();
  });

  async function graphql(
    query: string,
    token?: string,
    body: string = JSON.stringify({ query }),
  ): Promise<GraphqlAnswer> {
    const res = await fetch(url, {
      method: 'POST',
      headers: {
        'content-type': 'application/json',
        ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
      },
      body,
    });
    return { status: res.status, body: (await res.json()) as GraphqlAnswer['body'] };
  }

  /** The one error of an answer, reduced to what the library sets. */
  function refusal({ body }: GraphqlAnswer) {
    expect(body.errors).toHaveLength(1);
    const [{ path, extensions }] = body.errors!;
    return { path, code: extensions.code, error: extensions.error, reason: extensions.reason };
  }

  it('answers SERVICE_UNAVAILABLE with retryAfter while the provider is down and nothing is cached', async () => {
    ks.mode = 'error500';
    const res = await graphql('{ privateMessage }', ks.token());
    ks.mode = 'ok';
    expect(refusal(res)).toEqual({
      path: ['privateMessage'],
      code: 'SERVICE_UNAVAILABLE',
      error: 'issuer_unavailable',
      reason: 'issuer_unavailable',
    });
    expect(res.body.errors![0].extensions).toMatchObject({ status: 503 });
    expect(res.body.errors![0].extensions.retryAfter).toEqual(expect.any(Number));
    // The key store retries the provider after its failure backoff (1 s).
    await new Promise((resolve) => setTimeout(resolve, 1100));
  });

  it('answers a public field without a token', async () => {
    const res = await graphql('{ publicMessage }');
    expect([res.status, res.body]).toEqual([200, { data: { publicMessage: 'public' } }]);
  });

  it('runs private fields with a valid token; @CurrentUser() gives the user', async () => {
    const res = await graphql('{ privateMessage me { sub scopes } }', ks.token());
    expect(res.body).toEqual({
      data: {
        privateMessage: 'private for auth0|user-1',
        me: { sub: 'auth0|user-1', scopes: ['read:messages'] },
      },
    });
  });

  it.each([
    ['no token', () => undefined, 'missing_token', 'missing_token'],
    [
      'a forged token',
      () => `${ks.token().slice(0, -4)}AAAA`,
      'invalid_token',
      'signature_invalid',
    ],
    [
      'an ID token',
      () => ks.token({ nonce: 'n-1', aud: 'client-abc', azp: 'client-abc' }, { typ: 'JWT' }),
      'invalid_token',
      'id_token',
    ],
    [
      'an expired token',
      () => ks.token({ exp: Math.floor(Date.now() / 1000) - 3600 }),
      'invalid_token',
      'token_expired',
    ],
    [
      'a malformed header',
      () => 'not a token',
      'invalid_request',
      'malformed_authorization_header',
    ],
  ])('refuses a private field with %s: UNAUTHENTICATED', async (_case, token, error, reason) => {
    const res = await graphql('{ privateMessage }', token());
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({ privateMessage: null });
    expect(refusal(res)).toEqual({
      path: ['privateMessage'],
      code: 'UNAUTHENTICATED',
      error,
      reason,
    });
    expect(res.body.errors![0].message).not.toContain('eyJ');
  });

  it('refuses a field whose scope the token lacks: FORBIDDEN, insufficient_scope', async () => {
    const res = await graphql('{ scopedMessage }', ks.token());
    expect(refusal(res)).toEqual({
      path: ['scopedMessage'],
      code: 'FORBIDDEN',
      error: 'insufficient_scope',
      reason: 'insufficient_scope',
    });
    expect(res.body.errors![0].extensions).toMatchObject({ status: 403, scope: 'admin:messages' });
    const granted = await graphql('{ scopedMessage }', ks.token({ scope: 'admin:messages' }));
    expect(granted.body).toEqual({ data: { scopedMessage: 'scoped' } });
  });

  it('refuses a step-up field to a weak sign-in: UNAUTHENTICATED with acr_values and max_age', async () => {
    const res = await graphql('{ steppedUpMessage }', ks.token({ acr: 'urn:example:pwd' }));
    expect(refusal(res)).toEqual({
      path: ['steppedUpMessage'],
      code: 'UNAUTHENTICATED',
      error: 'insufficient_user_authentication',
      reason: 'acr_not_accepted',
    });
    expect(res.body.errors![0].extensions).toMatchObject({
      status: 401,
      acr_values: MFA,
      max_age: 300,
    });
    const now = Math.floor(Date.now() / 1000);
    const granted = await graphql('{ steppedUpMessage }', ks.token({ acr: MFA, auth_time: now }));
    expect(granted.body).toEqual({ data: { steppedUpMessage: 'stepped up' } });
  });

  it('answers the public fields of a mixed query, with an error at each refused field', async () => {
    const res = await graphql('{ publicMessage privateMessage me { sub } note { text secret } }');
    expect(res.status).toBe(200);
    expect(res.body.data).toEqual({
      publicMessage: 'public',
      privateMessage: null,
      me: null,
      note: { text: 'a public note', secret: null },
    });
    expect(res.body.errors!.map((e) => [e.path, e.extensions.code]).sort()).toEqual([
      [['me'], 'UNAUTHENTICATED'],
      [['note', 'secret'], 'UNAUTHENTICATED'],
      [['privateMessage'], 'UNAUTHENTICATED'],
    ]);
  });

  it('guards field resolvers and mutations', async () => {
    const token = ks.token();
    expect((await graphql('{ note { secret } }', token)).body).toEqual({
      data: { note: { secret: 'secret of auth0|user-1' } },
    });
    const refused = await graphql('mutation { post(text: "hi") }');
    expect([refused.body.data, refusal(refused).path]).toEqual([{ post: null }, ['post']]);
    const posted = await graphql('mutation { post(text: "hi") }', token);
    expect(posted.body).toEqual({ data: { post: 'auth0|user-1 posted hi' } });
  });

  it.each([
    ['invalid JSON', '{"query": '],
    ['no query', '{}'],
    ['a query that is not a string', '{"query": 42}'],
    ['a syntax error', JSON.stringify({ query: '{ privateMessage' })],
    ['an unknown field', JSON.stringify({ query: '{ nope }' })],
    [
      'variables that are not an object',
      JSON.stringify({ query: '{ note { text } }', variables: 1 }),
    ],
  ])('answers 400 to a body with %s, never 500', async (_case, body) => {
    const res = await graphql('', ks.token(), body);
    expect(res.status).toBe(400);
  });

  it('stops an app whose field resolvers would run without the guard', async () => {
    @Module({
      imports: [
        AuthModule.forRoot({ issuerUrl: ks.issuer, audience: ks.audience }),
        GraphQLModule.forRoot<ApolloDriverConfig>({ driver: ApolloDriver, autoSchemaFile: true }),
      ],
      providers: [MessagesResolver],
    })
    class UnguardedFieldsModule {}
    const moduleRef = await Test.createTestingModule({
      imports: [UnguardedFieldsModule],
    }).compile();
    const unguarded =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: capturingLogger })
        : moduleRef.createNestApplication({ logger: capturingLogger });
    await expect(unguarded.init()).rejects.toThrow(/fieldResolverEnhancers.*'guards'/);
    await unguarded.close();
  });

  describe('subscriptions over graphql-ws', () => {
    /** The first result of a subscription, or the close event of a refused connection. */
    function subscribeOnce(
      connectionParams?: Record<string, unknown>,
      query = 'subscription { whoami }',
    ) {
      const client = createClient({
        url: url.replace(/^http/, 'ws'),
        webSocketImpl: WebSocket,
        connectionParams,
        retryAttempts: 0,
        lazy: true,
      });
      return new Promise<{ data?: unknown; errors?: unknown; closed?: [number, string] }>(
        (resolve) => {
          client.subscribe(
            { query },
            {
              next: (result) => resolve(result as { data?: unknown }),
              error: (error) => {
                const { code, reason } = error as { code: number; reason: string };
                resolve({ closed: [code, String(reason)] });
              },
              complete: () => undefined,
            },
          );
        },
      ).finally(() => client.dispose());
    }

    it('accepts a connection with a valid token; @CurrentUser() works in the resolver', async () => {
      const result = await subscribeOnce({ authorization: `Bearer ${ks.token()}` });
      expect(result).toEqual({ data: { whoami: 'auth0|user-1' } });
    });

    it('refuses a subscription whose scope the token lacks: FORBIDDEN', async () => {
      const result = await subscribeOnce(
        { authorization: `Bearer ${ks.token()}` },
        'subscription { adminEvents }',
      );
      const errors = (result.errors ?? []) as { path?: string[]; extensions: object }[];
      expect(errors.map((e) => [e.path, e.extensions])).toEqual([
        [
          ['adminEvents'],
          expect.objectContaining({ code: 'FORBIDDEN', reason: 'insufficient_scope', status: 403 }),
        ],
      ]);
    });

    it('refuses a step-up subscription to a token without acr, and runs it with', async () => {
      const result = await subscribeOnce(
        { authorization: `Bearer ${ks.token()}` },
        'subscription { steppedUpEvents }',
      );
      const errors = (result.errors ?? []) as { path?: string[]; extensions: object }[];
      expect(errors.map((e) => [e.path, e.extensions])).toEqual([
        [
          ['steppedUpEvents'],
          expect.objectContaining({
            code: 'UNAUTHENTICATED',
            error: 'insufficient_user_authentication',
            reason: 'acr_missing',
            acr_values: MFA,
          }),
        ],
      ]);
      expect(errors[0].extensions).not.toHaveProperty('max_age');
      const granted = await subscribeOnce(
        { authorization: `Bearer ${ks.token({ acr: MFA })}` },
        'subscription { steppedUpEvents }',
      );
      expect(granted).toEqual({ data: { steppedUpEvents: 'event' } });
    });

    it('closes an accepted connection with 4401 when its token expires', async () => {
      const exp = Math.floor(Date.now() / 1000) + 2;
      let connected = false;
      let client: ReturnType<typeof createClient> | undefined;
      const closed = await new Promise<{ code: number; reason: string }>((resolve) => {
        client = createClient({
          url: url.replace(/^http/, 'ws'),
          webSocketImpl: WebSocket,
          connectionParams: { authorization: `Bearer ${ks.token({ exp })}` },
          lazy: false,
          retryAttempts: 0,
          onNonLazyError: () => undefined,
          on: {
            connected: () => (connected = true),
            closed: (event) => resolve(event as { code: number; reason: string }),
          },
        });
      });
      await client?.dispose();
      expect(connected).toBe(true);
      expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
      expect([closed.code, JSON.parse(String(closed.reason))]).toEqual([
        4401,
        { code: 'UNAUTHENTICATED', error: 'invalid_token', reason: 'token_expired' },
      ]);
    });

    it.each([
      ['no token', undefined, 'missing_token', 'missing_token'],
      ['a forged token', 'forged', 'invalid_token', 'signature_invalid'],
      ['an expired token', 'expired', 'invalid_token', 'token_expired'],
      [
        'a token that is not a string',
        'number',
        'invalid_request',
        'malformed_authorization_header',
      ],
    ])(
      'refuses connection_init with %s: 4401 and the reason',
      async (_case, kind, error, reason) => {
        const params =
          kind === undefined
            ? undefined
            : kind === 'number'
              ? { authorization: 42 }
              : {
                  authorization: `Bearer ${
                    kind === 'forged'
                      ? `${ks.token().slice(0, -4)}AAAA`
                      : ks.token({ exp: Math.floor(Date.now() / 1000) - 3600 })
                  }`,
                };
        const result = await subscribeOnce(params);
        expect(result.closed?.[0]).toBe(4401);
        expect(JSON.parse(result.closed![1])).toEqual({
          code: 'UNAUTHENTICATED',
          error,
          reason,
        });
      },
    );
  });
});
