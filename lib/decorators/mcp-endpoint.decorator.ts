import { SetMetadata } from '@nestjs/common';
import { MCP_ENDPOINT_KEY } from '../auth.constants';

/**
 * Marks the route that hands requests to an MCP transport (the SDK's
 * `StreamableHTTPServerTransport`). There the guard reads the JSON-RPC body and requires, beside
 * the route's `@Scopes()`, the scopes declared with `McpScopes` for each tool called
 * (`tools/call`), resource read (`resources/read`) and prompt got (`prompts/get`): a token without
 * them gets HTTP 403 `insufficient_scope` before the SDK runs anything. It sets `request.auth` as
 * the SDK reads it (`extra.authInfo`; `mcpUser(extra)` gives the user), and never accepts a token
 * in the query string, whatever `allowQueryToken` says (MCP forbids it). On a class it marks each
 * of its routes: an `@rekog/mcp-nest` controller (`extends McpHttpControllerFor(transport)`).
 *
 * @example
 * @Scopes('read:messages') @Controller('mcp') class McpController {
 *   @All() @McpEndpoint() handle(@Req() req, @Res() res) {}
 * }
 */
export const McpEndpoint = () => SetMetadata(MCP_ENDPOINT_KEY, true);
