import { All, Controller, Module, Req, Res, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test } from '@nestjs/testing';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { z } from 'zod';
import { AuthModule, McpEndpoint, McpScopes, mcpUser, Scopes } from '../../lib';
import { PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';
import { listen } from '../support/listen';
import { connectMcp, mcpTextOf, postMcp, toolCall } from '../support/mcp-requests';
import { capturingLogger } from '../support/log-capture';

/** What the tools saw of `extra.authInfo`, for the test to read. */
const seen: { authInfo?: unknown } = {};

/** An MCP server per request (stateless Streamable HTTP), mounted in a controller. */
const MFA = 'http://schemas.openid.net/pape/policies/2007/06/multi-factor';

@Controller('mcp')
@Scopes('read:messages')
class McpController {
  private readonly messages: string[] = [];

  constructor(private readonly mcpScopes: McpScopes) {
    // Built once at startup, so that the guard knows every operation's scopes before a request.
    this.server();
  }

  private server(): McpServer {
    const server = new McpServer({ name: 'messages', version: '1.0.0' });
    const read = this.mcpScopes.withScopes(server);
    const write = this.mcpScopes.withScopes(server, 'write:messages');
    read.registerTool('whoami', { description: 'The caller' }, (extra) => {
      seen.authInfo = extra.authInfo;
      const text = JSON.stringify({ sub: mcpUser(extra).sub });
      return { content: [{ type: 'text', text }] };
    });
    read.registerTool('read_messages', { description: 'The stored messages' }, () => ({
      content: [{ type: 'text', text: this.messages.join('\n') }],
    }));
    write.registerTool(
      'write_messages',
      { description: 'Stores a message', inputSchema: { text: z.string() } },
      ({ text }) => {
        this.messages.push(text);
        return { content: [{ type: 'text', text: 'stored' }] };
      },
    );
    write.registerPrompt('compose', { description: 'Write a message' }, () => ({
      messages: [{ role: 'user', content: { type: 'text', text: 'Write.' } }],
    }));
    // Step-up (RFC 9470) for one tool: a multi-factor sign-in at most 300 s old.
    this.mcpScopes
      .withStepUp(server, { acr: MFA, maxAge: 300 }, 'write:messages')
      .registerTool('purge_messages', { description: 'Deletes every message' }, () => {
        this.messages.length = 0;
        return { content: [{ type: 'text', text: 'purged' }] };
      });
    this.mcpScopes
      .withScopes(server, 'archive:read')
      .registerResource('archive', 'messages://archive', {}, (uri) => ({
        contents: [{ uri: uri.href, text: 'old' }],
      }));
    return server;
  }

  @All()
  @McpEndpoint()
  async handle(
    @Req() req: { raw?: IncomingMessage; body?: unknown },
    @Res() res: { raw?: ServerResponse; hijack?: () => void },
  ): Promise<void> {
    res.hijack?.(); // Fastify: the SDK writes the answer.
    const server = this.server();
    const transport = new StreamableHTTPServerTransport({
      sessionIdGenerator: undefined,
      enableJsonResponse: true,
    });
    const rawRes = (res.raw ?? res) as ServerResponse;
    rawRes.on('close', () => void transport.close().then(() => server.close()));
    await server.connect(transport);
    await transport.handleRequest((req.raw ?? req) as IncomingMessage, rawRes, req.body);
  }
}

describe.each(PLATFORMS)('an MCP endpoint with scopes per operation (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;
  let base: string;
  const readToken = () => ks.token({ scope: 'read:messages' });
  const writeToken = () => ks.token({ scope: 'read:messages write:messages' });

  beforeAll(async () => {
    ks = await KeyServer.start();
    @Module({
      imports: [
        AuthModule.forRoot({ issuerUrl: ks.issuer, audience: ks.audience, allowQueryToken: true }),
      ],
      controllers: [McpController],
    })
    class McpAppModule {}
    const moduleRef = await Test.createTestingModule({ imports: [McpAppModule] }).compile();
    app =
      platform === 'fastify'
        ? moduleRef.createNestApplication(new FastifyAdapter(), { logger: capturingLogger })
        : moduleRef.createNestApplication({ logger: capturingLogger });
    base = await listen(app);
  });

  afterAll(async () => {
    await app?.close();
    await ks.stop();
  });

  const connect = (token: string) => connectMcp(`${base}/mcp`, token);
  const textOf = mcpTextOf;

  const post = (body: unknown, token?: string, path = '/mcp', contentType?: string) =>
    postMcp(`${base}${path}`, body, token, contentType);
  const call = toolCall;

  /** The Bearer challenge of a 403 that names `scope`. */
  const forbidden = (scope: string) =>
    new RegExp(
      `^Bearer realm="api", error="insufficient_scope", scope="${scope}", ` +
        `error_description="[^"]+", ${ks.resourceMetadata}$`,
    );

  describe('with the official MCP client', () => {
    it('lists every tool to a read-only token, those it cannot call included', async () => {
      const client = await connect(readToken());
      const { tools } = await client.listTools();
      expect(tools.map((tool) => tool.name).sort()).toStrictEqual([
        'purge_messages',
        'read_messages',
        'whoami',
        'write_messages',
      ]);
      const { prompts } = await client.listPrompts();
      expect(prompts.map((prompt) => prompt.name)).toStrictEqual(['compose']);
      await client.close();
    });

    it('gives the tool the user the guard verified, and no token', async () => {
      const token = readToken();
      const client = await connect(token);
      const result = await client.callTool({ name: 'whoami', arguments: {} });
      expect(JSON.parse(textOf(result))).toStrictEqual({ sub: 'auth0|user-1' });
      const authInfo = seen.authInfo as Record<string, unknown>;
      expect(authInfo).toMatchObject({ scopes: ['read:messages'], clientId: '' });
      expect(authInfo.token).not.toBe(token);
      expect(JSON.stringify(authInfo)).not.toContain(token);
      await client.close();
    });

    it('answers write_messages without write:messages with an HTTP 403, before the tool runs', async () => {
      const client = await connect(readToken());
      await expect(
        client.callTool({ name: 'write_messages', arguments: { text: 'not stored' } }),
      ).rejects.toMatchObject({ code: 403 });
      await client.close();
      const reader = await connect(writeToken());
      expect(textOf(await reader.callTool({ name: 'read_messages', arguments: {} }))).not.toContain(
        'not stored',
      );
      await reader.close();
    });

    it('runs write_messages for a token with write:messages, and read_messages returns its text', async () => {
      const client = await connect(writeToken());
      const written = await client.callTool({
        name: 'write_messages',
        arguments: { text: `hello from ${platform}` },
      });
      expect(textOf(written)).toBe('stored');
      const read = await client.callTool({ name: 'read_messages', arguments: {} });
      expect(textOf(read)).toContain(`hello from ${platform}`);
      await client.close();
    });
  });

  describe('with raw requests', () => {
    it("answers a call without a token with 401 naming the endpoint's scope and the metadata", async () => {
      const res = await post(call('whoami'));
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toBe(
        `Bearer realm="api", scope="read:messages", ${ks.resourceMetadata}, ` +
          `DPoP realm="api", scope="read:messages", ${ks.resourceMetadata}, ` +
          'algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"',
      );
    });

    it('answers write_messages with a read-only token with 403 naming every scope it needs', async () => {
      const res = await post(call('write_messages', { text: 'x' }), readToken());
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toContain(
        'error_description="The MCP tool write_messages requires the scope write:messages.',
      );
      expect(res.headers.get('www-authenticate')).toMatch(
        forbidden('read:messages write:messages'),
      );
    });

    it.each([
      ['prompts/get', { name: 'compose' }, 'read:messages write:messages'],
      ['resources/read', { uri: 'messages://archive' }, 'read:messages archive:read'],
    ])('answers %s of an operation that needs more with 403', async (method, params, scope) => {
      const res = await post({ jsonrpc: '2.0', id: 1, method, params }, readToken());
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toMatch(forbidden(scope));
    });

    it('asks a tool declared withStepUp for a strong, recent sign-in: 401 with acr_values and max_age', async () => {
      const now = Math.floor(Date.now() / 1000);
      const scope = 'read:messages write:messages';
      const weak = await post(call('purge_messages'), ks.token({ scope, auth_time: now }));
      expect(weak.status).toBe(401);
      expect(weak.headers.get('www-authenticate')).toMatch(
        new RegExp(
          '^Bearer realm="api", error="insufficient_user_authentication", ' +
            `scope="read:messages", acr_values="${MFA.replace(/[./]/g, '\\$&')}", ` +
            'max_age="300", error_description="The token has no acr claim[^"]*", ' +
            `${ks.resourceMetadata}$`,
        ),
      );
      expect(((await weak.json()) as { reason: string }).reason).toBe('acr_missing');
      const old = await post(
        call('purge_messages'),
        ks.token({ scope, acr: MFA, auth_time: now - 900 }),
      );
      expect([old.status, ((await old.json()) as { reason: string }).reason]).toEqual([
        401,
        'authentication_too_old',
      ]);
      // The scope is checked first; other tools ask nothing of the sign-in.
      const readOnly = await post(
        call('purge_messages'),
        ks.token({ scope: 'read:messages', acr: MFA, auth_time: now }),
      );
      expect(readOnly.status).toBe(403);
      expect((await post(call('whoami'), readToken())).status).toBe(200);
      const strong = await post(
        call('purge_messages'),
        ks.token({ scope, acr: MFA, auth_time: now }),
      );
      expect(strong.status).toBe(200);
      expect(JSON.stringify(await strong.json())).toContain('purged');
    });

    it('checks every member of a batch', async () => {
      const batch = [call('whoami', {}, 1), call('write_messages', { text: 'batched' }, 2)];
      const res = await post(batch, readToken());
      expect(res.status).toBe(403);
      expect(res.headers.get('www-authenticate')).toMatch(
        forbidden('read:messages write:messages'),
      );
      const reader = await connect(writeToken());
      expect(textOf(await reader.callTool({ name: 'read_messages', arguments: {} }))).not.toContain(
        'batched',
      );
      await reader.close();
    });

    it.each([
      ['malformed JSON', '{"jsonrpc": "2.0", "id": 1, "method": "tools/call", ', undefined],
      ['a JSON string', '"tools/call"', undefined],
      ['a body that is not JSON', 'tools/call write_messages', 'text/plain'],
    ])('answers %s with a 4xx', async (_, body, contentType) => {
      const res = await post(body, writeToken(), '/mcp', contentType);
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    });

    it.each([
      ['tools/call without a name', { jsonrpc: '2.0', id: 1, method: 'tools/call', params: {} }],
      [
        'tools/call with a name that is not text',
        { jsonrpc: '2.0', id: 1, method: 'tools/call', params: { name: ['write_messages'] } },
      ],
      ['an unknown tool', call('delete_everything')],
      ['an unknown resource', { jsonrpc: '2.0', id: 1, method: 'resources/read', params: {} }],
    ])('answers %s with a JSON-RPC error or a 4xx, never a 5xx', async (_, body) => {
      const res = await post(body, readToken());
      expect(res.status).toBeLessThan(500);
      if (res.status === 200) {
        const answer = (await res.json()) as { error?: unknown; result?: { isError?: boolean } };
        expect(answer.error ?? answer.result?.isError).toBeTruthy();
      }
    });

    it('never accepts a token in the query string, even with allowQueryToken', async () => {
      const res = await post(call('whoami'), undefined, `/mcp?access_token=${writeToken()}`);
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toContain('scope="read:messages"');
    });
  });
});
