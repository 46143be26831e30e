import type { ExecutionContext } from '@nestjs/common';
import type { AuthUser } from '../token/auth-user';
import type { GuardResponse } from '../errors/auth-http-exception';
import type { TokenSource } from '../token/extract-token';

/** The parts of an HTTP request (Express or Fastify) the guard reads and writes. */
export interface GuardRequest {
  headers: { authorization?: string; [name: string]: string | string[] | undefined };
  /** Node's raw header list (Express), where a repeated `Authorization` header shows. */
  rawHeaders?: readonly string[];
  /** Node's request under Fastify's, with its raw header list. */
  raw?: { rawHeaders?: readonly string[] };
  query?: Record<string, unknown>;
  user?: AuthUser;
}

export type { GuardResponse };

/** The HTTP request of a context. */
export function httpRequest(context: ExecutionContext): GuardRequest {
  return context.switchToHttp().getRequest<GuardRequest>();
}

/** Where an HTTP request carries its token: the `Authorization` header(s), maybe the query. */
export function httpTokenSource(request: GuardRequest, allowQueryToken: boolean): TokenSource {
  const authorization = request.headers.authorization;
  return {
    authorization,
    // Node keeps only the first of repeated Authorization headers: count them in the raw list.
    authorizationHeaders:
      authorization === undefined
        ? 0
        : countHeaders(request.rawHeaders ?? request.raw?.rawHeaders, 'authorization'),
    // Express parses the query string on every read of `request.query`: read it only when asked.
    queryToken: allowQueryToken ? request.query?.access_token : undefined,
  };
}

/** How many headers named `name` (lower case) a raw header list holds; 1 when it is unknown. */
export function countHeaders(rawHeaders: readonly string[] | undefined, name: string): number {
  if (!rawHeaders) return 1;
  let count = 0;
  for (let i = 0; i < rawHeaders.length; i += 2) {
    const header = rawHeaders[i];
    if (header.length === name.length && header.toLowerCase() === name) count++;
  }
  return count;
}
