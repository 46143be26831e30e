import type { AuthUser } from '../token/auth-user';

/**
 * What the guard sets as `request.auth` at an MCP endpoint: the MCP SDK's `AuthInfo`, which its
 * Streamable HTTP transport passes to every handler as `extra.authInfo`. Typed here without the
 * SDK, which is not a dependency.
 */
export interface McpAuthInfo {
  /**
   * Not the token: its hash (`AuthUser.tokenHash`). The SDK never reads it, and MCP forbids a
   * server to pass its token on (MCP authorization, "Token Passthrough").
   */
  token: string;
  /** `client_id` (RFC 9068), else `azp`, else empty. */
  clientId: string;
  /** The scopes the token grants. */
  scopes: string[];
  /** `exp`, in seconds since the epoch, when the token has one. */
  expiresAt?: number;
  /** `user`: the verified caller, as `@CurrentUser()` gives it; read it with `mcpUser(extra)`. */
  extra: { user: AuthUser };
}

/** The `AuthInfo` of a verified caller. */
export function mcpAuthInfo(user: AuthUser): McpAuthInfo {
  const { client_id: clientId, azp, exp } = user.claims;
  const info: McpAuthInfo = {
    token: user.tokenHash,
    clientId: clientId ?? azp ?? '',
    scopes: [...user.scopes],
    extra: { user },
  };
  if (typeof exp === 'number') info.expiresAt = exp;
  return info;
}

/**
 * The caller of an MCP tool, resource or prompt handler, from the SDK's `extra` (its
 * `authInfo`, set by the guard): `@CurrentUser()` for MCP handlers. Throws when the request did
 * not pass through the guard at an `@McpEndpoint()` route.
 *
 * @example
 * server.registerTool('whoami', {}, (extra) => ({
 *   content: [{ type: 'text', text: mcpUser(extra).sub }],
 * }));
 */
export function mcpUser(extra: { authInfo?: { extra?: Record<string, unknown> } }): AuthUser {
  const user = extra.authInfo?.extra?.user;
  if (typeof user !== 'object' || user === null || typeof (user as AuthUser).sub !== 'string') {
    throw new Error(
      'mcpUser: the request carries no verified user: mark the route that hands it to the MCP ' +
        'transport @McpEndpoint(), and keep AccessTokenGuard on it.',
    );
  }
  return user as AuthUser;
}
