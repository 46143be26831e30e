import { Client } from '@modelcontextprotocol/sdk/client/index.js';
import { StreamableHTTPClientTransport } from '@modelcontextprotocol/sdk/client/streamableHttp.js';

/** The official MCP client, connected to `url` with a bearer token. */
export async function connectMcp(url: string, token: string): Promise<Client> {
  const client = new Client({ name: 'test-client', version: '1.0.0' });
  const transport = new StreamableHTTPClientTransport(new URL(url), {
    requestInit: { headers: { Authorization: `Bearer ${token}` } },
  });
  await client.connect(transport);
  return client;
}

/** The text of a tool result's first content. */
export const mcpTextOf = (result: unknown) =>
  (result as { content: Array<{ type: string; text: string }> }).content[0].text;

/** A raw JSON-RPC POST to `url`, as an MCP client sends it (a string body is sent as is). */
export function postMcp(url: string, body: unknown, token?: string, contentType?: string) {
  return fetch(url, {
    method: 'POST',
    headers: {
      accept: 'application/json, text/event-stream',
      'content-type': contentType ?? 'application/json',
      ...(token === undefined ? {} : { authorization: `Bearer ${token}` }),
    },
    body: typeof body === 'string' ? body : JSON.stringify(body),
  });
}

/** A JSON-RPC `tools/call` of `name`. */
export const toolCall = (name: string, args: unknown = {}, id = 1) => ({
  jsonrpc: '2.0',
  id,
  method: 'tools/call',
  params: { name, arguments: args },
});
