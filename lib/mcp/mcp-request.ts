// No library reads an MCP request's operations without the SDK, which is not a dependency: a few
// JSON-RPC fields (MCP 2025-06-18 schema) read here, each checked by type before use.
import { InvalidRequestError } from '../errors/auth-error';

/** An operation a JSON-RPC message asks to run: a tool, a resource (by URI) or a prompt. */
export type McpOperation =
  | { kind: 'tool'; name: string }
  | { kind: 'resource'; uri: string }
  | { kind: 'prompt'; name: string };

/** What an MCP endpoint's request carries, as Express and Fastify give it (body parsed by Nest). */
export interface McpHttpRequest {
  method?: string;
  body?: unknown;
}

/**
 * The operations a request to an MCP endpoint asks to run: `tools/call` by `params.name`,
 * `resources/read` by `params.uri`, `prompts/get` by `params.name`, in every member of a batch.
 * A member of another shape names no operation: the SDK answers it with a JSON-RPC error, and
 * runs nothing. A POST whose body Nest did not parse as a JSON object or array is refused (400):
 * the SDK would read the body itself, and run what the guard had not seen.
 */
export function mcpOperations(request: McpHttpRequest): McpOperation[] {
  const body = request.body;
  if (request.method?.toUpperCase() !== 'POST') return [];
  if (typeof body !== 'object' || body === null) {
    throw new InvalidRequestError(
      'malformed_mcp_request',
      'The MCP endpoint takes a JSON-RPC message as a JSON object (Content-Type: application/json).',
    );
  }
  const messages: unknown[] = Array.isArray(body) ? body : [body];
  const operations: McpOperation[] = [];
  for (const message of messages) {
    const operation = operationOf(message);
    if (operation) operations.push(operation);
  }
  return operations;
}

function operationOf(message: unknown): McpOperation | undefined {
  if (typeof message !== 'object' || message === null) return undefined;
  const { method, params } = message as { method?: unknown; params?: unknown };
  if (typeof params !== 'object' || params === null) return undefined;
  const { name, uri } = params as { name?: unknown; uri?: unknown };
  if (method === 'tools/call' && typeof name === 'string') return { kind: 'tool', name };
  if (method === 'prompts/get' && typeof name === 'string') return { kind: 'prompt', name };
  if (method === 'resources/read' && typeof uri === 'string') return { kind: 'resource', uri };
  return undefined;
}
