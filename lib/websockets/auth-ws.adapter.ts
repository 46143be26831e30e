// First: names the package to install when this entry's optional peer is missing.
// oxlint-disable-next-line import/no-unassigned-import
import '../peers/ws.peer';
import type { IncomingMessage } from 'node:http';
import type { INestApplicationContext } from '@nestjs/common';
import { WsAdapter } from '@nestjs/platform-ws';
import type { AuthUser } from '../token/auth-user';
import type { AuthError } from '../errors/auth-error';
import { authErrorAnswer } from '../errors/www-authenticate';
import { rememberUpgrade, upgradeTokenSource, wsAuthErrorData } from '../contexts/ws.face';
import type { TokenSource } from '../token/extract-token';
import { websocketsMajor } from '../guards/nest11-gateway-guards';
import { HandshakeAuthenticator } from './handshake-authenticator';
import { sendExceptionsOverTheWire, type ExceptionEmitter } from './nest11-ws-exceptions';

/** The parts of a `ws` client the adapter uses. */
interface WsClient extends ExceptionEmitter {
  user?: AuthUser;
  close(code: number, reason: string): void;
  once(event: 'close', listener: () => void): unknown;
}
type VerifyCallback = (
  verified: boolean,
  code?: number,
  message?: string,
  headers?: Record<string, string>,
) => void;

const OPEN = 1;

/**
 * Close code of a connection ended by the library: 4000 plus the HTTP status of the refusal (4401
 * when the token expired), with the reason code (`token_expired`) as the close reason.
 */
export const WS_AUTH_CLOSE_CODE_BASE = 4000;

/**
 * The ws adapter (`@nestjs/platform-ws`) with authentication at the upgrade: the `Authorization`
 * header of the upgrade request is verified before the connection opens (`verifyClient`). A
 * refused upgrade gets the HTTP status, the `WWW-Authenticate` header and a JSON body
 * `{ status, error, reason, message }`, and never connects. A connection ends at its token's expiry
 * (plus the clock tolerance): an `exception` message naming `token_expired`, then close code 4401
 * with reason `token_expired`. Gateways marked `@Public()` on the class stay open.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new AuthWsAdapter(app));
 */
export class AuthWsAdapter extends WsAdapter {
  protected readonly handshakes: HandshakeAuthenticator;
  /** Upgrades that passed, until their connection opens (an aborted one is collected). */
  private readonly accepted = new WeakMap<
    IncomingMessage,
    { user: AuthUser; token: string; source: TokenSource }
  >();

  /** NestJS 11 "emits" gateway exceptions on a ws client, which never reaches the other end. */
  private readonly nest11 = (websocketsMajor() ?? 12) < 12;

  constructor(app: INestApplicationContext) {
    super(app);
    this.handshakes = new HandshakeAuthenticator(app);
  }

  override create(...[port, options]: Parameters<WsAdapter['create']>): unknown {
    if (options?.verifyClient) {
      throw new Error(
        'AuthWsAdapter verifies the upgrade itself: remove verifyClient from the gateway options.',
      );
    }
    const path = typeof options?.path === 'string' ? options.path : '/';
    const server = super.create(port, {
      ...options,
      verifyClient: (info: { req: IncomingMessage }, done: VerifyCallback) =>
        void this.verify(path, info.req, done),
    }) as { on(event: 'connection', listener: (c: WsClient, r: IncomingMessage) => void): void };
    // Registered before Nest's own listener: the user is set before handleConnection runs.
    server.on('connection', (client, request) => this.connected(path, client, request));
    return server;
  }

  private async verify(path: string, request: IncomingMessage, done: VerifyCallback) {
    try {
      const source = upgradeTokenSource(request);
      const accepted = await this.handshakes.authenticate(
        () => source,
        this.handshakes.access({ path }),
      );
      if (accepted) this.accepted.set(request, { ...accepted, source });
      done(true);
    } catch (error) {
      const refusal = this.handshakes.refusalOf(error);
      const { status, headers } = authErrorAnswer(refusal, this.handshakes.challenge);
      const body = JSON.stringify(wsAuthErrorData(refusal, this.handshakes.challenge));
      done(false, status, body, { ...headers, 'Content-Type': 'application/json' });
    }
  }

  private connected(path: string, client: WsClient, request: IncomingMessage): void {
    const accepted = this.accepted.get(request);
    if (!accepted) {
      if (this.handshakes.access({ path }) !== 'required') return;
      // A server passed in the gateway options is not ours to verify: fail closed.
      client.close(WS_AUTH_CLOSE_CODE_BASE + 401, 'missing_token');
      return;
    }
    this.accepted.delete(request);
    if (this.nest11) sendExceptionsOverTheWire(client);
    rememberUpgrade(client, accepted.source);
    client.user = accepted.user;
    const stop = this.handshakes.watchExpiry(accepted.user, accepted.token, (error) =>
      this.expire(client, error),
    );
    client.once('close', stop);
  }

  /** Ends a connection whose token is no longer valid, saying why first. */
  protected expire(client: WsClient, error: AuthError): void {
    if (client.readyState !== OPEN) return;
    client.send(
      JSON.stringify({
        event: 'exception',
        data: wsAuthErrorData(error, this.handshakes.challenge),
      }),
    );
    client.close(WS_AUTH_CLOSE_CODE_BASE + error.status, error.reason);
  }
}
