import type { ExecutionContext } from '@nestjs/common';
import type { AuthUser } from '../token/auth-user';
import type { AuthError } from '../errors/auth-error';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options';
import type { TokenSource } from '../token/extract-token';

/** The object a call's user is set on (`user`), and its token kept beside (a WeakMap). */
export interface UserCarrier {
  user?: AuthUser;
}

/**
 * How the guard meets one kind of execution context (`context.getType()`): where the call's token
 * is, where its user goes, and how a refusal is raised there. Every face calls the same verifier
 * and gives the same answers; only the transport differs.
 */
export interface ContextFace {
  /** The object the user is set on: the HTTP request, GraphQL's request, the socket, ... */
  carrier(context: ExecutionContext): UserCarrier;
  /** Where the call carries its token, as `extractBearerToken` reads it. */
  tokenSource(
    carrier: UserCarrier,
    context: ExecutionContext,
    options: ResolvedAuthOptions,
  ): TokenSource;
  /** What the guard throws for a refusal in this context (an error the transport understands). */
  refusal(error: AuthError, context: ExecutionContext, options: ResolvedAuthOptions): unknown;
  /** The response the refusal's headers are written to, where the context has one. */
  response?(context: ExecutionContext): object | undefined;
}

/** The faces of the contexts the library supports, by `context.getType()`; HTTP is the guard's. */
const FACES = new Map<string, ContextFace>();

/** Registers the face of one context type (done by each face's module, at import). */
export function registerContextFace(type: string, face: ContextFace): void {
  FACES.set(type, face);
}

/** The face of a context type, or `undefined` when the library cannot authenticate it. */
export function contextFace(type: string): ContextFace | undefined {
  return FACES.get(type);
}

/** The user the guard set for this call, in any context it has a face for. */
export function currentUser(context: ExecutionContext): AuthUser | undefined {
  const type = context.getType();
  if (type === 'http') return context.switchToHttp().getRequest<UserCarrier>().user;
  return FACES.get(type)?.carrier(context).user;
}
