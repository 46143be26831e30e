import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import {
  ClientProxyFactory,
  MessagePattern,
  Payload,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import {
  AuthModule,
  CurrentUser,
  OptionalAuth,
  Public,
  Scopes,
  StepUp,
  type AuthModuleOptions,
  type AuthUser,
} from '../../lib';
import { connect } from 'node:net';
import { claimEquals } from '../../lib';
import { freePort } from '../support/free-port';
import { KeyServer, signRaw } from '../support/key-server';
import { rememberToken } from '../support/log-capture';

const runs: string[] = [];

@Controller()
class RpcController {
  @MessagePattern('whoami')
  whoami(@CurrentUser() user: AuthUser) {
    runs.push('whoami');
    return { sub: user.sub, scopes: user.scopes };
  }

  @Scopes('admin')
  @MessagePattern('admin')
  admin() {
    runs.push('admin');
    return { ok: true };
  }

  @StepUp({ acr: 'http://schemas.openid.net/pape/policies/2007/06/multi-factor', maxAge: 300 })
  @MessagePattern('stepped-up')
  steppedUp() {
    runs.push('stepped-up');
    return { ok: true };
  }

  @Public()
  @MessagePattern('ping')
  ping(@Payload() data: unknown) {
    return { pong: data };
  }

  @OptionalAuth()
  @MessagePattern('optional')
  optional(@CurrentUser() user?: AuthUser) {
    return { sub: user?.sub ?? null };
  }
}

interface Service {
  app: INestMicroservice;
  client: ClientProxy;
  port: number;
  /** The `authorization` metadata the next messages carry (TCP `getMetadata()`). */
  metadata?: string;
}

/** Whether the TCP client can send metadata (NestJS 12's `setOnDispatchHook`). */
const TCP_METADATA =
  typeof (
    ClientProxyFactory.create({ transport: Transport.TCP }) as { setOnDispatchHook?: unknown }
  ).setOnDispatchHook === 'function';
/** A test of TCP metadata: on NestJS 11, which has none, it is skipped (the payload's are not). */
const itWithMetadata = TCP_METADATA ? it : it.skip;

async function startService(options: AuthModuleOptions): Promise<Service> {
  @Module({ imports: [AuthModule.forRoot(options)], controllers: [RpcController] })
  class RpcAppModule {}
  const moduleRef = await Test.createTestingModule({ imports: [RpcAppModule] }).compile();
  const port = await freePort();
  const app = moduleRef.createNestMicroservice({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
    logger: false,
  });
  await app.listen();
  const client = ClientProxyFactory.create({
    transport: Transport.TCP,
    options: { host: '127.0.0.1', port },
  });
  const service: Service = { app, client, port };
  // TCP metadata came with NestJS 12; on 11 only the payload carries a token.
  if (TCP_METADATA) {
    client.setOnDispatchHook((packet) => {
      if (service.metadata !== undefined) packet.metadata = { authorization: service.metadata };
    });
  }
  await client.connect();
  return service;
}

/** JSON text of arrays nested `depth` deep around `inner` (JSON.stringify would overflow). */
const nestedJson = (depth: number, inner = '"x"') => '['.repeat(depth) + inner + ']'.repeat(depth);

/**
 * One message sent over TCP as Nest's framing has it (`<length>#<json>`), from JSON text written by
 * hand: Nest's client cannot send what JSON.stringify cannot serialise. Resolves with the reply.
 */
async function sendRawFrame(service: Service, json: string): Promise<Record<string, unknown>> {
  const socket = connect(service.port, '127.0.0.1');
  let received = '';
  try {
    return await new Promise((resolve, reject) => {
      socket.on('error', reject);
      socket.on('data', (chunk) => {
        received += chunk.toString('utf8');
        const at = received.indexOf('#');
        if (at < 0 || received.length - at - 1 < Number(received.slice(0, at))) return;
        resolve(JSON.parse(received.slice(at + 1)) as Record<string, unknown>);
      });
      socket.write(`${json.length}#${json}`);
    });
  } finally {
    socket.destroy();
  }
}

async function stopService({ app, client }: Service): Promise<void> {
  await client.close();
  await app.close();
}

/** The handler's answer, or the error the client received (`{ status, error, reason, message }`). */
async function send(service: Service, pattern: string, data: unknown): Promise<unknown> {
  try {
    return { answer: await firstValueFrom(service.client.send(pattern, data)) };
  } catch (error) {
    return { refused: error };
  }
}

/**
 * Microservice handlers over a real TCP transport: the guard takes the token from the message
 * (TCP metadata, or the payload's `authorization`), `@CurrentUser()` reads its user, and a refusal
 * reaches the client as `{ status, error, reason, message }` without running the handler.
 */
describe('microservices (TCP)', () => {
  let ks: KeyServer;
  let service: Service;

  beforeAll(async () => {
    ks = await KeyServer.start();
    service = await startService({ issuerUrl: ks.issuer, audience: ks.audience });
  });

  afterAll(async () => {
    await stopService(service);
    await ks.stop();
  });

  beforeEach(() => {
    service.metadata = undefined;
    runs.length = 0;
  });

  it('runs a handler with the user of a token in the payload', async () => {
    expect(await send(service, 'whoami', { authorization: `Bearer ${ks.token()}` })).toEqual({
      answer: { sub: 'auth0|user-1', scopes: ['read:messages'] },
    });
    expect(
      await send(service, 'whoami', { headers: { authorization: `Bearer ${ks.token()}` } }),
    ).toMatchObject({ answer: { sub: 'auth0|user-1' } });
  });

  itWithMetadata('runs a handler with the user of a token in the transport metadata', async () => {
    service.metadata = `Bearer ${ks.token({ sub: 'auth0|from-metadata' })}`;
    expect(await send(service, 'whoami', { some: 'data' })).toMatchObject({
      answer: { sub: 'auth0|from-metadata' },
    });
  });

  const now = () => Math.floor(Date.now() / 1000);
  it.each<[string, () => unknown, Record<string, unknown>]>([
    ['no token', () => ({ some: 'data' }), { status: 401, error: 'missing_token' }],
    ['a primitive payload', () => 'text', { status: 401, error: 'missing_token' }],
    [
      'an expired token',
      () => ({ authorization: `Bearer ${ks.token({ exp: now() - 60 })}` }),
      { status: 401, error: 'invalid_token', reason: 'token_expired' },
    ],
    [
      'an ID token',
      () => ({ authorization: `Bearer ${ks.token({ nonce: 'n' })}` }),
      { status: 401, error: 'invalid_token', reason: 'id_token' },
    ],
    [
      'a malformed token',
      () => ({ authorization: 'Bearer a b' }),
      { status: 400, error: 'invalid_request', reason: 'malformed_authorization_header' },
    ],
    [
      'an authorization that is not text',
      () => ({ authorization: 42 }),
      { status: 400, error: 'invalid_request', reason: 'malformed_authorization_header' },
    ],
    [
      'two tokens in the payload',
      () => ({
        authorization: `Bearer ${ks.token()}`,
        headers: { authorization: `Bearer ${ks.token()}` },
      }),
      { status: 400, error: 'invalid_request', reason: 'multiple_token_methods' },
    ],
  ])('refuses %s with its code and reason, never running the handler', async (_, data, error) => {
    const result = (await send(service, 'whoami', data())) as { refused?: { message: string } };
    expect(result).toEqual({ refused: expect.objectContaining(error) });
    expect(typeof result.refused?.message).toBe('string');
    expect(runs).toEqual([]);
  });

  itWithMetadata('refuses a token in both the metadata and the payload', async () => {
    service.metadata = `Bearer ${ks.token()}`;
    expect(await send(service, 'whoami', { authorization: `Bearer ${ks.token()}` })).toEqual({
      refused: expect.objectContaining({ status: 400, reason: 'multiple_token_methods' }),
    });
    expect(runs).toEqual([]);
  });

  it('refuses an authorization of arrays nested 20,000 deep (400), and goes on serving', async () => {
    const token = JSON.stringify(`Bearer ${ks.token()}`);
    for (const depth of [20_000, 2]) {
      const data = `{"authorization":${nestedJson(depth, token)}}`;
      const reply = await sendRawFrame(
        service,
        `{"pattern":"whoami","data":${data},"id":"d${depth}"}`,
      );
      expect(reply).toMatchObject({
        id: `d${depth}`,
        err: expect.objectContaining({
          status: 400,
          error: 'invalid_request',
          reason: 'malformed_authorization_header',
        }),
      });
    }
    expect(runs).toEqual([]);
    expect(await send(service, 'whoami', { authorization: [`Bearer ${ks.token()}`] })).toEqual({
      answer: { sub: 'auth0|user-1', scopes: ['read:messages'] },
    });
  });

  it('refuses a token whose claims nest 20,000 deep (401 claims_too_deep), on every offer', async () => {
    const deep = await startService({
      issuerUrl: ks.issuer,
      audience: ks.audience,
      maxTokenLength: 65_536,
      claimRules: [claimEquals('org', 'acme')],
    });
    try {
      const iat = now();
      const claims = {
        iss: ks.issuer,
        sub: 'auth0|deep',
        aud: ks.audience,
        iat,
        exp: iat + 600,
      };
      const payload = `${JSON.stringify({ ...claims, org: 'acme' }).slice(0, -1)},"deep":${nestedJson(20_000, '1')}}`;
      const { alg, kid, privateKey } = ks.key;
      const token = rememberToken(signRaw({ alg, typ: 'at+jwt', kid }, payload, privateKey));
      // Three offers: the verified-token cache keeps a token from its second offer on.
      for (let i = 0; i < 3; i++)
        expect(await send(deep, 'whoami', { authorization: `Bearer ${token}` })).toEqual({
          refused: expect.objectContaining({
            status: 401,
            error: 'invalid_token',
            reason: 'claims_too_deep',
          }),
        });
      // 32 levels are claims like any other.
      const shallow = `${JSON.stringify({ ...claims, org: 'acme' }).slice(0, -1)},"deep":${nestedJson(31, '1')}}`;
      const fine = rememberToken(signRaw({ alg, typ: 'at+jwt', kid }, shallow, privateKey));
      expect(await send(deep, 'whoami', { authorization: `Bearer ${fine}` })).toMatchObject({
        answer: { sub: 'auth0|deep' },
      });
      expect(runs).toEqual(['whoami']);
    } finally {
      await stopService(deep);
    }
  });

  it('refuses a token without the scope a handler requires', async () => {
    expect(await send(service, 'admin', { authorization: `Bearer ${ks.token()}` })).toEqual({
      refused: expect.objectContaining({
        status: 403,
        error: 'insufficient_scope',
        reason: 'insufficient_scope',
      }),
    });
    expect(runs).toEqual([]);
    expect(
      await send(service, 'admin', { authorization: `Bearer ${ks.token({ scope: 'admin' })}` }),
    ).toEqual({ answer: { ok: true } });
  });

  it('refuses a step-up handler to a token without auth_time, with max_age, and runs it with', async () => {
    const acr = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';
    const weak = ks.token({ acr });
    expect(await send(service, 'stepped-up', { authorization: `Bearer ${weak}` })).toEqual({
      refused: expect.objectContaining({
        status: 401,
        error: 'insufficient_user_authentication',
        reason: 'auth_time_missing',
        acr_values: acr,
        max_age: 300,
      }),
    });
    expect(runs).toEqual([]);
    const fresh = ks.token({ acr, auth_time: Math.floor(Date.now() / 1000) });
    expect(await send(service, 'stepped-up', { authorization: `Bearer ${fresh}` })).toEqual({
      answer: { ok: true },
    });
  });

  it('lets @Public() handlers through and serves @OptionalAuth() ones anonymously', async () => {
    expect(await send(service, 'ping', 'x')).toEqual({ answer: { pong: 'x' } });
    expect(await send(service, 'optional', {})).toEqual({ answer: { sub: null } });
    expect(await send(service, 'optional', { authorization: `Bearer ${ks.token()}` })).toEqual({
      answer: { sub: 'auth0|user-1' },
    });
    expect(await send(service, 'optional', { authorization: 'Bearer a.b.c' })).toEqual({
      refused: expect.objectContaining({ status: 401, reason: 'malformed_jwt' }),
    });
  });

  it('never takes a user from the payload', async () => {
    expect(await send(service, 'optional', { user: { sub: 'admin' } })).toEqual({
      answer: { sub: null },
    });
  });

  it('reads the token where rpcAuthorization says', async () => {
    const custom = await startService({
      issuerUrl: ks.issuer,
      audience: ks.audience,
      rpcAuthorization: (data) => (data as { meta?: { auth?: string } }).meta?.auth,
    });
    try {
      expect(await send(custom, 'whoami', { meta: { auth: `Bearer ${ks.token()}` } })).toEqual({
        answer: { sub: 'auth0|user-1', scopes: ['read:messages'] },
      });
      // What the function returns is checked as a header is.
      expect(await send(custom, 'whoami', { meta: { auth: 42 } })).toEqual({
        refused: expect.objectContaining({ status: 400, reason: 'malformed_authorization_header' }),
      });
      // The default places are not read any more.
      expect(await send(custom, 'whoami', { authorization: `Bearer ${ks.token()}` })).toEqual({
        refused: expect.objectContaining({ status: 401, error: 'missing_token' }),
      });
    } finally {
      await stopService(custom);
    }
  });

  it("refuses every token where dpop.mode is 'required' (an RPC message cannot carry a proof)", async () => {
    const strict = await startService({
      issuerUrl: ks.issuer,
      audience: ks.audience,
      dpop: { mode: 'required' },
    });
    try {
      for (const token of [ks.token(), ks.token({ cnf: { jkt: 'a'.repeat(43) } })])
        expect(await send(strict, 'whoami', { authorization: `Bearer ${token}` })).toEqual({
          refused: expect.objectContaining({ status: 401, reason: 'dpop_required' }),
        });
    } finally {
      await stopService(strict);
    }
  });
});
