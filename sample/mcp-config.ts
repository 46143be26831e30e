/**
 * The MCP endpoint's resource identifier (RFC 8707, RFC 9728): the URL clients call it at,
 * `AUTH_PUBLIC_URL` (default `http://localhost:PORT`) followed by `/mcp`, whichever the issuer is.
 * Tokens for it are accepted at `/mcp` only, and the API's tokens never there.
 */
export function sampleMcpResource(read: (name: string) => string | undefined): string {
  const publicUrl = read('AUTH_PUBLIC_URL') || `http://localhost:${read('PORT') || 3000}`;
  return `${publicUrl.replace(/\/+$/, '')}/mcp`;
}
