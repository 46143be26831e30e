import type { ExecutionContext } from '@nestjs/common';
import type { AuthUser } from '../token/auth-user';
import type { ContextFace, UserCarrier } from './context-face';
import { graphqlFace } from './graphql.face';
import { rpcFace } from './rpc.face';
import { wsFace } from './ws.face';

/**
 * Every execution context the library authenticates besides HTTP (the guard's own), by
 * `context.getType()`. A context not listed here is refused by the guard, never let through.
 * Each face loads its transport's package on its first refusal only.
 */
const CONTEXT_FACES: Readonly<Record<string, ContextFace>> = {
  // Resolvers of @nestjs/graphql (Apollo, Express or Fastify).
  graphql: graphqlFace,
  // Handlers of @nestjs/microservices.
  rpc: rpcFace,
  // Gateways of @nestjs/websockets (socket.io and ws).
  ws: wsFace,
};

/** The face of a context type, or `undefined` when the library cannot authenticate it. */
export function contextFace(type: string): ContextFace | undefined {
  return Object.hasOwn(CONTEXT_FACES, type) ? CONTEXT_FACES[type] : undefined;
}

/** The user the guard set for this call, in any context it has a face for. */
export function currentUser(context: ExecutionContext): AuthUser | undefined {
  const type = context.getType();
  if (type === 'http') return context.switchToHttp().getRequest<UserCarrier>().user;
  return contextFace(type)?.carrier(context).user;
}
