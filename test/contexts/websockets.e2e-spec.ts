import { randomBytes } from 'node:crypto';
import { once } from 'node:events';
import type { AddressInfo } from 'node:net';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  SubscribeMessage,
  WebSocketGateway,
  WebSocketServer as GatewayServer,
} from '@nestjs/websockets';
import { io, type Socket } from 'socket.io-client';
import WebSocket, { WebSocketServer } from 'ws';
import {
  AuthModule,
  type AuthModuleOptions,
  CurrentUser,
  OptionalAuth,
  Public,
  Scopes,
  StepUp,
  type AuthUser,
} from '../../lib';
import { AuthIoAdapter } from '../../lib/websockets/auth-io.adapter';
import { AuthWsAdapter } from '../../lib/websockets/auth-ws.adapter';
import { generateKey, KeyServer } from '../support/key-server';
import { listen } from '../support/listen';
import { capturingLogger, rememberToken } from '../support/log-capture';

/** How many times a protected handler ran: a refusal must leave it at 0. */
const ran = { whoami: 0, scoped: 0, connections: 0, steppedUp: 0 };
const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

@WebSocketGateway({ namespace: '/events' })
class EventsGateway {
  handleConnection() {
    ran.connections++;
  }

  @SubscribeMessage('whoami')
  whoami(@CurrentUser() user: AuthUser) {
    ran.whoami++;
    return { sub: user.sub };
  }

  @Scopes('read:messages')
  @SubscribeMessage('scoped')
  scoped() {
    ran.scoped++;
    return { ok: true };
  }

  @StepUp({ acr: MFA, maxAge: 300 })
  @SubscribeMessage('stepped-up')
  steppedUp() {
    ran.steppedUp++;
    return { ok: true };
  }
}

@Public()
@WebSocketGateway({ namespace: '/open' })
class OpenGateway {
  @SubscribeMessage('ping')
  ping() {
    return 'pong';
  }
}

@OptionalAuth()
@WebSocketGateway({ namespace: '/maybe' })
class OptionalGateway {
  @SubscribeMessage('whoami')
  whoami(@CurrentUser() user?: AuthUser) {
    return { sub: user?.sub ?? null };
  }
}

@WebSocketGateway({ path: '/ws' })
class WsGateway {
  @GatewayServer() server!: WebSocketServer;

  @SubscribeMessage('whoami')
  whoami(@CurrentUser() user: AuthUser) {
    ran.whoami++;
    return { event: 'whoami', data: { sub: user.sub } };
  }

  @Scopes('read:messages')
  @SubscribeMessage('scoped')
  scoped() {
    ran.scoped++;
    return { event: 'scoped', data: { ok: true } };
  }

  @StepUp({ acr: MFA, maxAge: 300 })
  @SubscribeMessage('stepped-up')
  steppedUp() {
    ran.steppedUp++;
    return { event: 'stepped-up', data: { ok: true } };
  }
}

@Public()
@WebSocketGateway({ path: '/ws-open' })
class OpenWsGateway {
  @SubscribeMessage('ping')
  ping(@CurrentUser() user?: AuthUser) {
    return { event: 'pong', data: { sub: user?.sub ?? null } };
  }
}

/** The refusal a client receives: `connect_error`'s data, an `exception`, or an upgrade's body. */
interface Refusal {
  status: number;
  error: string;
  reason: string;
  message: string;
}

async function startApp(
  ks: KeyServer,
  gateways: 'socket.io' | 'ws',
  platform: 'express' | 'fastify' = 'express',
  options: Partial<AuthModuleOptions> = {},
  extraGateways: Type[] = [],
): Promise<{ app: INestApplication; url: string }> {
  @Module({
    imports: [
      AuthModule.forRoot({
        issuerUrl: ks.issuer,
        audience: ks.audience,
        clockTolerance: 0,
        ...options,
      }),
    ],
    providers: [
      ...(gateways === 'ws'
        ? [WsGateway, OpenWsGateway]
        : [EventsGateway, OpenGateway, OptionalGateway]),
      ...extraGateways,
    ],
  })
  class GatewayModule {}
  const moduleRef = await Test.createTestingModule({ imports: [GatewayModule] }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: capturingLogger })
      : moduleRef.createNestApplication({ logger: capturingLogger });
  app.useWebSocketAdapter(gateways === 'ws' ? new AuthWsAdapter(app) : new AuthIoAdapter(app));
  try {
    return { app, url: await listen(app) };
  } catch (error) {
    await app.close();
    throw error;
  }
}

describe.each(['express', 'fastify'] as const)('socket.io gateways (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;
  let url: string;
  const sockets: Socket[] = [];

  beforeAll(async () => {
    ks = await KeyServer.start();
    ({ app, url } = await startApp(ks, 'socket.io', platform));
  });
  afterEach(() => sockets.splice(0).forEach((socket) => socket.close()));
  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  /** Connects to a namespace: the socket, or the refusal `connect_error` carried. */
  function connect(
    namespace: string,
    options: { auth?: Record<string, unknown>; extraHeaders?: Record<string, string> } = {},
  ): Promise<{ socket: Socket; refusal?: Refusal }> {
    const socket = io(`${url}${namespace}`, {
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
      ...options,
    });
    sockets.push(socket);
    return new Promise((resolve) => {
      socket.once('connect', () => resolve({ socket }));
      socket.once('connect_error', (error: Error & { data?: Refusal }) =>
        resolve({ socket, refusal: error.data }),
      );
    });
  }

  const nextException = (socket: Socket) =>
    new Promise<Refusal>((resolve) => socket.once('exception', resolve));

  it.each([
    ['no token', undefined, 401, 'missing_token', 'missing_token'],
    ['a malformed token', 'not a token!', 400, 'invalid_request', 'malformed_authorization_header'],
    ['a number', 42, 400, 'invalid_request', 'malformed_authorization_header'],
    ['an object', { token: 'x' }, 400, 'invalid_request', 'malformed_authorization_header'],
    ['a huge string', 'a'.repeat(100_000), 400, 'invalid_request', 'token_too_large'],
  ])(
    'refuses a handshake with %s, never connected',
    async (_case, token, status, error, reason) => {
      const before = { ...ran };
      const { socket, refusal } = await connect(
        '/events',
        token === undefined ? {} : { auth: { token } },
      );
      expect(socket.connected).toBe(false);
      expect(refusal).toMatchObject({ status, error, reason });
      expect(ran).toEqual(before);
    },
  );

  it.each([
    [
      'an ID token',
      () => ks.token({ nonce: 'n', aud: 'client-abc', azp: 'client-abc' }, { typ: 'JWT' }),
      'id_token',
    ],
    [
      'a bad signature',
      () => ks.token({}, {}, { ...generateKey('RS256'), kid: ks.key.kid }),
      'signature_invalid',
    ],
    [
      'an expired token',
      () => ks.token({ exp: Math.floor(Date.now() / 1000) - 1 }),
      'token_expired',
    ],
  ])('refuses a handshake with %s, naming the reason', async (_case, token, reason) => {
    const before = { ...ran };
    const { socket, refusal } = await connect('/events', { auth: { token: token() } });
    expect(socket.connected).toBe(false);
    expect(refusal).toMatchObject({ status: 401, error: 'invalid_token', reason });
    expect(ran).toEqual(before);
  });

  it('connects with a valid token (auth.token, with or without Bearer, or the header)', async () => {
    const token = ks.token();
    for (const options of [
      { auth: { token } },
      { auth: { token: `Bearer ${token}` } },
      { extraHeaders: { Authorization: `Bearer ${token}` } },
    ]) {
      const { socket, refusal } = await connect('/events', options);
      expect(refusal).toBeUndefined();
      expect(await socket.emitWithAck('whoami')).toEqual({ sub: 'auth0|user-1' });
    }
  });

  it('refuses a message without the scope with insufficient_scope, and runs it with', async () => {
    const { socket: without } = await connect('/events', {
      auth: { token: ks.token({ scope: 'other' }) },
    });
    const before = ran.scoped;
    const exception = nextException(without);
    without.emit('scoped', {});
    expect(await exception).toMatchObject({ status: 403, error: 'insufficient_scope' });
    expect(ran.scoped).toBe(before);
    const { socket: withScope } = await connect('/events', { auth: { token: ks.token() } });
    expect(await withScope.emitWithAck('scoped', {})).toEqual({ ok: true });
  });

  it('refuses a step-up message to an old sign-in with insufficient_user_authentication, and runs it after a fresh one', async () => {
    const now = Math.floor(Date.now() / 1000);
    const { socket: old } = await connect('/events', {
      auth: { token: ks.token({ acr: MFA, auth_time: now - 3600 }) },
    });
    const before = ran.steppedUp;
    const exception = nextException(old);
    old.emit('stepped-up', {});
    expect(await exception).toMatchObject({
      status: 401,
      error: 'insufficient_user_authentication',
      reason: 'authentication_too_old',
      acr_values: MFA,
      max_age: 300,
    });
    expect(ran.steppedUp).toBe(before);
    const { socket: fresh } = await connect('/events', {
      auth: { token: ks.token({ acr: MFA, auth_time: now }) },
    });
    expect(await fresh.emitWithAck('stepped-up', {})).toEqual({ ok: true });
  });

  it('leaves a @Public() gateway open', async () => {
    const { socket, refusal } = await connect('/open');
    expect(refusal).toBeUndefined();
    expect(await socket.emitWithAck('ping')).toBe('pong');
  });

  it('lets anonymous handshakes into an @OptionalAuth() gateway, never a bad token', async () => {
    const { socket: anonymous } = await connect('/maybe');
    expect(await anonymous.emitWithAck('whoami')).toEqual({ sub: null });
    const { socket } = await connect('/maybe', { auth: { token: ks.token() } });
    expect(await socket.emitWithAck('whoami')).toEqual({ sub: 'auth0|user-1' });
    const { refusal } = await connect('/maybe', { auth: { token: 'not a token!' } });
    expect(refusal).toMatchObject({ status: 400, reason: 'malformed_authorization_header' });
  });

  it('disconnects a socket when its token expires, saying token_expired', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const { socket, refusal } = await connect('/events', { auth: { token: ks.token({ exp }) } });
    expect(refusal).toBeUndefined();
    const exception = nextException(socket);
    const reason = await new Promise<string>((resolve) => socket.once('disconnect', resolve));
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(await exception).toMatchObject({ status: 401, reason: 'token_expired' });
    expect(reason).toBe('io server disconnect');
  });
});

describe('ws gateways', () => {
  let ks: KeyServer;
  let app: INestApplication;
  let url: string;
  const clients: WebSocket[] = [];

  beforeAll(async () => {
    ks = await KeyServer.start();
    ({ app, url } = await startApp(ks, 'ws'));
    url = url.replace('http', 'ws');
  });
  afterEach(() => clients.splice(0).forEach((client) => client.terminate()));
  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  function open(token?: string, path = '/ws'): Promise<WebSocket> {
    const client = new WebSocket(`${url}${path}`, {
      headers: token ? { Authorization: `Bearer ${token}` } : {},
    });
    clients.push(client);
    return new Promise((resolve, reject) => {
      client.once('open', () => resolve(client));
      client.once('error', reject);
    });
  }

  function refusedUpgrade(headers: Record<string, string>) {
    const client = new WebSocket(`${url}/ws`, { headers });
    // A refused upgrade leaves the client connecting; ws reports it as an error when it gives up.
    client.on('error', () => undefined);
    return new Promise<{ status: number; challenge: unknown; body: Refusal }>((resolve, reject) => {
      client.once('open', () => reject(new Error('connected')));
      client.once('unexpected-response', (_req, res) => {
        let text = '';
        res.on('data', (chunk: Buffer) => (text += chunk.toString()));
        res.on('end', () =>
          resolve({
            status: res.statusCode ?? 0,
            challenge: res.headers['www-authenticate'],
            body: JSON.parse(text) as Refusal,
          }),
        );
      });
    });
  }

  const nextMessage = (client: WebSocket) =>
    new Promise<{ event: string; data: unknown }>((resolve) =>
      client.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()))),
    );

  it('refuses an upgrade without a valid token with the status, challenge and reason', async () => {
    const before = { ...ran };
    expect(await refusedUpgrade({})).toMatchObject({
      status: 401,
      challenge: `Bearer realm="api", ${ks.resourceMetadata}`,
      body: { status: 401, error: 'missing_token', reason: 'missing_token' },
    });
    const forged = ks.token({}, {}, { ...generateKey('RS256'), kid: ks.key.kid });
    const refused = await refusedUpgrade({ Authorization: `Bearer ${forged}` });
    expect(refused).toMatchObject({
      status: 401,
      body: { error: 'invalid_token', reason: 'signature_invalid' },
    });
    expect(refused.challenge).toContain('error="invalid_token"');
    expect(ran).toEqual(before);
  });

  it('answers whoami, and refuses a message without the scope with insufficient_scope', async () => {
    const client = await open(ks.token());
    client.send(JSON.stringify({ event: 'whoami', data: {} }));
    expect(await nextMessage(client)).toEqual({ event: 'whoami', data: { sub: 'auth0|user-1' } });
    const unscoped = await open(ks.token({ scope: 'other' }));
    unscoped.send(JSON.stringify({ event: 'scoped', data: {} }));
    expect(await nextMessage(unscoped)).toMatchObject({
      event: 'exception',
      data: { status: 403, error: 'insufficient_scope' },
    });
  });

  it('refuses a step-up message to a token without acr, and answers it to one with', async () => {
    const now = Math.floor(Date.now() / 1000);
    const weak = await open(ks.token({ auth_time: now }));
    weak.send(JSON.stringify({ event: 'stepped-up', data: {} }));
    expect(await nextMessage(weak)).toMatchObject({
      event: 'exception',
      data: {
        status: 401,
        error: 'insufficient_user_authentication',
        reason: 'acr_missing',
        acr_values: MFA,
        max_age: 300,
      },
    });
    const strong = await open(ks.token({ acr: MFA, auth_time: now }));
    strong.send(JSON.stringify({ event: 'stepped-up', data: {} }));
    expect(await nextMessage(strong)).toEqual({ event: 'stepped-up', data: { ok: true } });
  });

  it('opens a @Public() ws gateway without a token, and without a user', async () => {
    const client = await open(undefined, '/ws-open');
    client.send(JSON.stringify({ event: 'ping', data: {} }));
    expect(await nextMessage(client)).toEqual({ event: 'pong', data: { sub: null } });
  });

  it('closes a connection whose upgrade it never verified with 4401 missing_token', async () => {
    // Another server's connection handed to the gateway's server (as code relaying upgrades
    // would): it passed no verifyClient of the adapter, so even a valid token is not enough.
    const relay = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    const gatewayServer = app.get(WsGateway).server;
    relay.on('connection', (socket, request) => gatewayServer.emit('connection', socket, request));
    try {
      await once(relay, 'listening');
      const { port } = relay.address() as AddressInfo;
      const client = new WebSocket(`ws://127.0.0.1:${port}/ws`, {
        headers: { Authorization: `Bearer ${ks.token()}` },
      });
      clients.push(client);
      const before = ran.whoami;
      client.once('open', () => client.send(JSON.stringify({ event: 'whoami', data: {} })));
      const [code, reason] = (await once(client, 'close')) as [number, Buffer];
      expect([code, reason.toString()]).toEqual([4401, 'missing_token']);
      expect(ran.whoami).toBe(before);
    } finally {
      relay.close();
    }
  });

  it('refuses to start a ws gateway that brings its own verifyClient', async () => {
    @WebSocketGateway({ path: '/own-verify', verifyClient: () => true })
    class OwnVerifyClientGateway {
      @SubscribeMessage('whoami')
      whoami() {
        return { event: 'whoami', data: {} };
      }
    }
    await expect(startApp(ks, 'ws', 'express', {}, [OwnVerifyClientGateway])).rejects.toThrow(
      'AuthWsAdapter verifies the upgrade itself: remove verifyClient from the gateway options.',
    );
  });

  it('closes a connection when its token expires: exception, then 4401 token_expired', async () => {
    const exp = Math.floor(Date.now() / 1000) + 2;
    const client = await open(ks.token({ exp }));
    const message = nextMessage(client);
    const [code, reason] = await new Promise<[number, string]>((resolve) =>
      client.once('close', (closeCode: number, closeReason: Buffer) =>
        resolve([closeCode, closeReason.toString()]),
      ),
    );
    expect(Date.now()).toBeGreaterThanOrEqual(exp * 1000);
    expect(await message).toMatchObject({ event: 'exception', data: { reason: 'token_expired' } });
    expect([code, reason]).toEqual([4401, 'token_expired']);
  });
});

describe('socket.io gateways, opaque tokens (userinfo, no exp)', () => {
  it('disconnects a socket once the provider stops accepting its token (checked every cache TTL)', async () => {
    const ks = await KeyServer.start();
    const { app, url } = await startApp(ks, 'socket.io', 'express', {
      opaqueTokens: 'userinfo',
      cache: { ttlSeconds: 1 },
    });
    const token = rememberToken(`opaque-${randomBytes(16).toString('hex')}`);
    ks.profiles.set(token, { sub: 'auth0|opaque-1' });
    const socket = io(`${url}/events`, {
      auth: { token },
      transports: ['websocket'],
      reconnection: false,
      forceNew: true,
    });
    try {
      await new Promise((resolve) => socket.once('connect', () => resolve(undefined)));
      expect(await socket.emitWithAck('whoami')).toEqual({ sub: 'auth0|opaque-1' });
      const exception = new Promise<Refusal>((resolve) => socket.once('exception', resolve));
      const disconnected = new Promise((resolve) => socket.once('disconnect', resolve));
      ks.profiles.delete(token);
      expect(await exception).toMatchObject({ status: 401, error: 'invalid_token' });
      await disconnected;
    } finally {
      socket.close();
      await app.close();
      await ks.stop();
    }
  });
});
