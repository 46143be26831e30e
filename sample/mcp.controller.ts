import type { IncomingMessage, ServerResponse } from 'node:http';
import { All, Controller, Req, Res } from '@nestjs/common';
import { McpServer } from '@modelcontextprotocol/sdk/server/mcp.js';
import { StreamableHTTPServerTransport } from '@modelcontextprotocol/sdk/server/streamableHttp.js';
import { z } from 'zod';
import { McpEndpoint, McpScopes, ProtectedResource, Scopes, mcpUser } from '../lib';

/** The messages `write_messages` stores, in memory: at most this many, the oldest dropped first. */
const MAX_MESSAGES = 100;
const MAX_MESSAGE_LENGTH = 1000;

/**
 * `POST /mcp`: an MCP server (the official SDK, Streamable HTTP, stateless) whose resource is its
 * own URL (`resources.mcp`): tokens for the API are refused here, and tokens for it everywhere
 * else. Every request needs `read:messages`; `write_messages` also needs `write:messages`, which
 * the guard checks before the SDK runs it (HTTP 403 with `scope="read:messages write:messages"`,
 * which an MCP client re-authorizes with).
 */
@ProtectedResource('mcp')
@Scopes('read:messages')
@Controller('mcp')
export class McpController {
  private readonly messages: string[] = [];

  constructor(private readonly mcpScopes: McpScopes) {
    // Declares every operation's scopes at startup, before the first request.
    this.server();
  }

  private server(): McpServer {
    const server = new McpServer({ name: 'nest-oauth2-bearer-sample', version: '1.0.0' });
    server.registerTool(
      'whoami',
      { description: 'Who the access token says you are.' },
      (extra) => ({
        content: [{ type: 'text', text: JSON.stringify({ sub: mcpUser(extra).sub }) }],
      }),
    );
    server.registerTool(
      'read_messages',
      { description: 'The stored messages, one per line.' },
      () => ({ content: [{ type: 'text', text: this.messages.join('\n') }] }),
    );
    this.mcpScopes.withScopes(server, 'write:messages').registerTool(
      'write_messages',
      {
        description: 'Stores a message (needs write:messages).',
        inputSchema: { text: z.string().min(1).max(MAX_MESSAGE_LENGTH) },
      },
      ({ text }) => {
        this.messages.push(text);
        if (this.messages.length > MAX_MESSAGES) this.messages.shift();
        return { content: [{ type: 'text', text: `Stored: ${text}` }] };
      },
    );
    return server;
  }

  @All()
  @McpEndpoint()
  async handle(
    @Req() req: { raw?: IncomingMessage; body?: unknown },
    @Res() res: { raw?: ServerResponse; hijack?: () => void },
  ): Promise<void> {
    res.hijack?.(); // Fastify: the SDK writes the answer on res.raw
    const server = this.server(); // stateless: a server and a transport per request
    const transport = new StreamableHTTPServerTransport({ sessionIdGenerator: undefined });
    await server.connect(transport);
    const rawRes = (res.raw ?? res) as ServerResponse;
    rawRes.on('close', () => {
      void transport.close();
      void server.close();
    });
    await transport.handleRequest((req.raw ?? req) as IncomingMessage, rawRes, req.body);
  }
}
