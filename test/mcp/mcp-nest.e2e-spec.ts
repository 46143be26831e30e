import { Controller, Module, type INestApplication } from '@nestjs/common';
import { Payload } from '@nestjs/microservices';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import {
  McpController,
  McpHttpControllerFor,
  McpRawRequest,
  McpStrategy,
  StreamableHttpTransport,
  Tool,
} from '@rekog/mcp-nest';
import { z } from 'zod';
import { AuthModule, McpEndpoint, McpScopes, ProtectedResource, Scopes } from '../../lib';
import type { AuthUser } from '../../lib';
import { PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';
import { listen } from '../support/listen';
import { connectMcp, mcpTextOf, postMcp, toolCall } from '../support/mcp-requests';
import { capturingLogger } from '../support/log-capture';

/** The MCP endpoint's resource identifier (`resources.mcp`): its tokens have it as `aud`. */
const MCP = 'http://localhost:3000/mcp';
const MCP_METADATA =
  'resource_metadata="http://localhost:3000/.well-known/oauth-protected-resource/mcp"';

/** What write_messages stored, for the test to read. */
const stored: string[] = [];

/** mcp-nest's tools: `@Tool()` methods; the guard learns write_messages' scope by its name. */
@McpController()
class MessageTools {
  constructor(mcpScopes: McpScopes) {
    mcpScopes.declare('tool', 'write_messages', 'write:messages');
  }

  @Tool({ name: 'whoami', description: 'The caller' })
  whoami(@Payload() _args: unknown, @McpRawRequest() req: { user: AuthUser }) {
    return { content: [{ type: 'text', text: JSON.stringify({ sub: req.user.sub }) }] };
  }

  @Tool({
    name: 'write_messages',
    description: 'Stores a message (needs write:messages)',
    parameters: z.object({ text: z.string() }),
  })
  write(@Payload() { text }: { text: string }, @McpRawRequest() req: { user: AuthUser }) {
    stored.push(`${req.user.sub}: ${text}`);
    return { content: [{ type: 'text', text: 'stored' }] };
  }
}

/** An app with the guard and mcp-nest's endpoint mounted as a Nest controller. */
async function mcpNestApp(ks: KeyServer, platform: string): Promise<INestApplication> {
  const transport = new StreamableHttpTransport(); // stateless, JSON answers
  const strategy = new McpStrategy({ name: 'messages', version: '1.0.0', transports: [transport] });

  @ProtectedResource('mcp')
  @Scopes('read:messages')
  @McpEndpoint()
  @Controller('mcp')
  class McpHttpController extends McpHttpControllerFor(transport) {}

  @Module({
    imports: [
      AuthModule.forRoot({
        issuerUrl: ks.issuer,
        audience: ks.audience,
        resources: { mcp: { resource: MCP } },
      }),
    ],
    controllers: [McpHttpController, MessageTools],
  })
  class McpNestAppModule {}

  const moduleRef = await Test.createTestingModule({ imports: [McpNestAppModule] }).compile();
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: capturingLogger })
      : moduleRef.createNestApplication({ logger: capturingLogger });
  strategy.setHttpAdapter(app.getHttpAdapter());
  app.connectMicroservice({ strategy });
  await app.startAllMicroservices();
  return app;
}

describe.each(PLATFORMS)('@rekog/mcp-nest behind the guard (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;
  let base: string;
  const readToken = () => ks.token({ aud: MCP, scope: 'read:messages' });
  const writeToken = () => ks.token({ aud: MCP, scope: 'read:messages write:messages' });

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await mcpNestApp(ks, platform);
    base = await listen(app);
  });

  afterAll(async () => {
    await app?.close();
    await ks.stop();
  });

  const connect = (token: string) => connectMcp(`${base}/mcp`, token);
  const textOf = mcpTextOf;

  const post = (body: unknown, token?: string) => postMcp(`${base}/mcp`, body, token);
  const call = (name: string, args: unknown = {}) => toolCall(name, args);

  it("answers a call without a token with 401 naming the endpoint's scope and its metadata", async () => {
    const res = await post(call('whoami'));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      new RegExp(`^Bearer realm="api", scope="read:messages", ${MCP_METADATA}, DPoP `),
    );
  });

  it("refuses a token for the API's audience with 401 (audience_mismatch)", async () => {
    const res = await post(call('whoami'), ks.token({ scope: 'read:messages write:messages' }));
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(
      /^Bearer realm="api", error="invalid_token"/,
    );
    expect(res.headers.get('www-authenticate')).toContain(MCP_METADATA);
    expect(((await res.json()) as { reason: string }).reason).toBe('audience_mismatch');
  });

  it("names the declared tool scope in the endpoint's metadata (scopes_supported)", async () => {
    const res = await fetch(`${base}/.well-known/oauth-protected-resource/mcp`);
    expect(res.status).toBe(200);
    const metadata = (await res.json()) as { resource: string; scopes_supported: string[] };
    expect(metadata.resource).toBe(MCP);
    expect(metadata.scopes_supported).toEqual(
      expect.arrayContaining(['read:messages', 'write:messages']),
    );
  });

  it('lists every tool to a read-only token, write_messages included', async () => {
    const client = await connect(readToken());
    const { tools } = await client.listTools();
    expect(tools.map((tool) => tool.name).sort()).toStrictEqual(['whoami', 'write_messages']);
    await client.close();
  });

  it('gives the tool the verified user (req.user)', async () => {
    const client = await connect(readToken());
    const result = await client.callTool({ name: 'whoami', arguments: {} });
    expect(JSON.parse(textOf(result))).toStrictEqual({ sub: 'auth0|user-1' });
    await client.close();
  });

  it('answers write_messages without write:messages with HTTP 403 naming every scope, before the tool runs', async () => {
    const res = await post(call('write_messages', { text: 'not stored' }), readToken());
    expect(res.status).toBe(403);
    expect(res.headers.get('www-authenticate')).toMatch(
      new RegExp(
        '^Bearer realm="api", error="insufficient_scope", ' +
          `scope="read:messages write:messages", error_description="[^"]+", ${MCP_METADATA}$`,
      ),
    );
    const client = await connect(readToken());
    await expect(
      client.callTool({ name: 'write_messages', arguments: { text: 'not stored' } }),
    ).rejects.toMatchObject({ code: 403 });
    await client.close();
    expect(stored.join('\n')).not.toContain('not stored');
  });

  it('runs write_messages for a token with write:messages, as the verified user', async () => {
    const client = await connect(writeToken());
    const result = await client.callTool({
      name: 'write_messages',
      arguments: { text: `hello from ${platform}` },
    });
    expect(textOf(result)).toBe('stored');
    expect(stored).toContain(`auth0|user-1: hello from ${platform}`);
    await client.close();
  });
});
