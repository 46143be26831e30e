import type { ExecutionContext } from '@nestjs/common';
import type { AuthUser } from '../token/auth-user';
import type { AuthError } from '../errors/auth-error';
import type { ChallengeOptions } from '../errors/www-authenticate';
import type { RpcAuthorization } from '../token/rpc-authorization';
import type { TokenSource } from '../token/extract-token';

/** What the faces need of the options: where a call may carry its token, and how challenges read. */
export interface FaceOptions extends ChallengeOptions {
  /** Accept `?access_token=` on HTTP (GraphQL over HTTP included). */
  allowQueryToken: boolean;
  /** Where RPC messages carry their credentials. */
  rpcAuthorization: RpcAuthorization;
}

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
  tokenSource(carrier: UserCarrier, context: ExecutionContext, options: FaceOptions): TokenSource;
  /** What the guard throws for a refusal in this context (an error the transport understands). */
  refusal(error: AuthError, context: ExecutionContext, options: FaceOptions): unknown;
  /** The response the refusal's headers are written to, where the context has one. */
  response?(context: ExecutionContext): object | undefined;
}
