import { Controller, Module, type INestMicroservice } from '@nestjs/common';
import {
  ClientProxyFactory,
  MessagePattern,
  Transport,
  type ClientProxy,
} from '@nestjs/microservices';
import { Test } from '@nestjs/testing';
import { firstValueFrom } from 'rxjs';
import { AuthModule, CurrentUser, ProtectedResource, type AuthUser } from '../../lib';
import { freePort } from '../support/free-port';
import { KeyServer } from '../support/key-server';

const MCP = 'http://localhost:3000/mcp';

@Controller()
class RpcController {
  @MessagePattern('api')
  api(@CurrentUser() user: AuthUser) {
    return { sub: user.sub };
  }

  @ProtectedResource('mcp')
  @MessagePattern('tool')
  tool(@CurrentUser() user: AuthUser) {
    return { sub: user.sub };
  }
}

/**
 * `@ProtectedResource()` outside HTTP: the guard holds a microservice handler to its resource's
 * audience as it does a route, and undecorated handlers stay the API's.
 */
describe('resources on microservice handlers (TCP)', () => {
  let ks: KeyServer;
  let app: INestMicroservice;
  let client: ClientProxy;

  beforeAll(async () => {
    ks = await KeyServer.start();
    @Module({
      imports: [
        AuthModule.forRoot({
          issuerUrl: ks.issuer,
          audience: ks.audience,
          resources: { mcp: { resource: MCP } },
        }),
      ],
      controllers: [RpcController],
    })
    class RpcAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [RpcAppModule] }).compile();
    const port = await freePort();
    app = moduleRef.createNestMicroservice({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
      logger: false,
    });
    await app.listen();
    client = ClientProxyFactory.create({
      transport: Transport.TCP,
      options: { host: '127.0.0.1', port },
    });
    await client.connect();
  });

  afterAll(async () => {
    await client.close();
    await app.close();
    await ks.stop();
  });

  /** `ok` or the refusal's reason. */
  const outcome = async (pattern: string, token: string) => {
    try {
      await firstValueFrom(client.send(pattern, { authorization: `Bearer ${token}` }));
      return 'ok';
    } catch (error) {
      return (error as { reason?: string }).reason ?? error;
    }
  };

  it("holds a decorated handler to its resource's audience, the others to the API's", async () => {
    const forMcp = ks.token({ aud: MCP });
    const forApi = ks.token();
    expect(await outcome('tool', forMcp)).toBe('ok');
    expect(await outcome('tool', forApi)).toBe('audience_mismatch');
    expect(await outcome('api', forApi)).toBe('ok');
    expect(await outcome('api', forMcp)).toBe('audience_mismatch');
  });
});
