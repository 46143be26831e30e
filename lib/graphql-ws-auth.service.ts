import { Injectable, Logger } from '@nestjs/common';
import { InjectAuthOptions } from './decorators/inject-auth-options.decorator';
import { AuthError } from './errors/auth-error';
import type { ResolvedAuthOptions } from './options/resolve-auth-options';
import { attachToken } from './token/attached-token';
import { extractBearerToken, missingTokenError } from './token/extract-token';
import { AccessTokenVerifier } from './verifier/access-token.verifier';
import {
  connectionParamsTokenSource,
  graphqlErrorExtensions,
  type GraphqlWsContext,
} from './contexts/graphql.face';

/** graphql-ws close codes of refused connections (4400-4499 are the protocol's client errors). */
export const GRAPHQL_WS_CLOSE_CODES = {
  /** Missing, malformed, invalid or expired token (401 and 400 over HTTP). */
  UNAUTHENTICATED: 4401,
  /** The token was refused for lack of a scope (403). */
  FORBIDDEN: 4403,
  /** The identity provider cannot be reached and no key is cached (503): retry later. */
  SERVICE_UNAVAILABLE: 4503,
} as const;

/** The longest close reason a WebSocket close frame carries, in bytes (RFC 6455 §5.5). */
const MAX_CLOSE_REASON_BYTES = 123;

/** The parts of a `ws` socket (graphql-ws `use/ws` puts it in `extra.socket`) this reads. */
interface ClosableSocket {
  close(code: number, reason: string): void;
  once(event: 'close', listener: () => void): unknown;
}

function socketOf(context: GraphqlWsContext): ClosableSocket | undefined {
  const socket = (context.extra as { socket?: Partial<ClosableSocket> } | undefined)?.socket;
  return typeof socket?.close === 'function' && typeof socket.once === 'function'
    ? (socket as ClosableSocket)
    : undefined;
}

/**
 * Authenticates graphql-ws connections at `connection_init`, with the token of
 * `connectionParams.authorization` (`Bearer <token>`). A refused connection is closed with
 * 4401 (unauthenticated) or 4503 (provider unavailable) and a JSON reason
 * `{"code","error","reason"}`; an accepted one carries its user, which `@CurrentUser()` reads in
 * subscription resolvers, and is closed with 4401 when its token expires. The guard still checks
 * the token and the scopes of every subscription.
 *
 * @example
 * GraphQLModule.forRootAsync<ApolloDriverConfig>({
 *   driver: ApolloDriver,
 *   inject: [GraphqlWsAuth],
 *   useFactory: (wsAuth: GraphqlWsAuth) => ({
 *     autoSchemaFile: true,
 *     subscriptions: { 'graphql-ws': { onConnect: wsAuth.onConnect } },
 *   }),
 * })
 */
@Injectable()
export class GraphqlWsAuth {
  private readonly logger = new Logger('GraphqlWsAuth');

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly verifier: AccessTokenVerifier,
  ) {}

  /**
   * graphql-ws's `onConnect`: `true` for a connection with a valid token; `false` (after closing
   * the socket with the refusal's code and reason) otherwise.
   */
  readonly onConnect = async (context: GraphqlWsContext): Promise<boolean> => {
    let token: string | undefined;
    try {
      const source = connectionParamsTokenSource(context);
      token = extractBearerToken(source, this.options);
      if (token === undefined) throw missingTokenError(source);
      const user = await this.verifier.verify(token);
      attachToken(context, token);
      (context as { user?: unknown }).user = user;
      this.closeOnExpiry(context, user.claims.exp);
      return true;
    } catch (error) {
      if (!(error instanceof AuthError)) throw error;
      this.refuse(context, error);
      return false;
    }
  };

  /** Closes the connection with the refusal's close code and JSON reason. */
  protected refuse(context: GraphqlWsContext, error: AuthError): void {
    const { code, error: errorCode, reason } = graphqlErrorExtensions(error, this.options);
    this.logger.debug(`graphql-ws connection refused: ${reason}`);
    let message = JSON.stringify({ code, error: errorCode, reason });
    if (Buffer.byteLength(message) > MAX_CLOSE_REASON_BYTES) message = JSON.stringify({ code });
    // graphql-ws then closes with 4403 "Forbidden", which a closed socket ignores.
    socketOf(context)?.close(GRAPHQL_WS_CLOSE_CODES[code], message);
  }

  /** A connection never outlives its token: it is closed when `exp` (plus tolerance) passes. */
  private closeOnExpiry(context: GraphqlWsContext, exp: unknown): void {
    const socket = socketOf(context);
    if (!socket || typeof exp !== 'number') return;
    const delayMs = (exp + this.options.clockToleranceSeconds) * 1000 - Date.now();
    // Timers hold at most 2^31-1 ms (about 24.8 days); a longer-lived token is checked again then.
    const timer = setTimeout(
      () => {
        if (Date.now() < (exp + this.options.clockToleranceSeconds) * 1000)
          return this.closeOnExpiry(context, exp);
        socket.close(
          GRAPHQL_WS_CLOSE_CODES.UNAUTHENTICATED,
          JSON.stringify({
            code: 'UNAUTHENTICATED',
            error: 'invalid_token',
            reason: 'token_expired',
          }),
        );
      },
      Math.min(Math.max(delayMs, 0), 2 ** 31 - 1),
    );
    timer.unref();
    socket.once('close', () => clearTimeout(timer));
  }
}
