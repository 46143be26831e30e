// First: names the package to install when this entry's optional peer is missing.
// oxlint-disable-next-line import/no-unassigned-import
import '../peers/socket-io.peer';
import type { INestApplicationContext } from '@nestjs/common';
import { IoAdapter } from '@nestjs/platform-socket.io';
import type { AuthUser } from '../token/auth-user';
import type { AuthError } from '../errors/auth-error';
import { handshakeTokenSource, wsAuthErrorData } from '../contexts/ws.face';
import { HandshakeAuthenticator } from './handshake-authenticator';

/** The parts of socket.io's `Socket`, `Namespace` and `Server` the adapter uses. */
interface IoSocket {
  nsp: { name: string };
  handshake: { headers: { authorization?: string | string[] }; auth?: Record<string, unknown> };
  request?: { rawHeaders?: readonly string[] };
  user?: AuthUser;
  emit(event: string, data: unknown): unknown;
  once(event: 'disconnect', listener: () => void): unknown;
  disconnect(): unknown;
}
type Next = (error?: Error) => void;
interface IoNamespace {
  use(middleware: (socket: IoSocket, next: Next) => void): unknown;
  on(event: 'connection', listener: (socket: IoSocket) => void): unknown;
}
interface IoServer {
  sockets: IoNamespace;
  on(event: 'new_namespace', listener: (namespace: IoNamespace) => void): unknown;
}

/**
 * The socket.io adapter (`@nestjs/platform-socket.io`) with authentication at the handshake: every
 * namespace of every server it creates (gateways' namespaces, and those created later) runs a
 * middleware that verifies the access token before the socket connects. A refused handshake never
 * connects: the client gets `connect_error` whose `data` is `{ status, error, reason, message }`.
 * A connection ends at its token's expiry (plus the clock tolerance), after an `exception` event
 * naming `token_expired`. Gateways marked `@Public()` on the class stay open.
 *
 * Nest's guards run per message, never at connection time, hence an adapter: the one place every
 * socket.io server of the app is created.
 *
 * @example
 * const app = await NestFactory.create(AppModule);
 * app.useWebSocketAdapter(new AuthIoAdapter(app));
 */
export class AuthIoAdapter extends IoAdapter {
  protected readonly handshakes: HandshakeAuthenticator;
  private readonly servers = new WeakSet<object>();
  private readonly namespaces = new WeakSet<object>();
  /** Sockets whose handshake passed, until they connect (an aborted one is collected). */
  private readonly accepted = new WeakMap<IoSocket, { user: AuthUser; token: string }>();

  constructor(app: INestApplicationContext) {
    super(app);
    this.handshakes = new HandshakeAuthenticator(app);
  }

  override create(...args: Parameters<IoAdapter['create']>): ReturnType<IoAdapter['create']> {
    const created = super.create(...args);
    // A namespace knows its `server`; a server's main namespace is its `sockets`.
    const isServer = !('server' in created);
    const server = (isServer ? created : (created as { server: unknown }).server) as IoServer;
    if (!this.servers.has(server)) {
      this.servers.add(server);
      this.protect(server.sockets);
      server.on('new_namespace', (namespace) => this.protect(namespace));
    }
    if (!isServer) this.protect(created as unknown as IoNamespace);
    return created;
  }

  /** Authenticates every handshake to `namespace`, once. */
  private protect(namespace: IoNamespace): void {
    if (this.namespaces.has(namespace)) return;
    this.namespaces.add(namespace);
    namespace.use((socket, next) => void this.authenticate(socket, next));
    // Registered before Nest's own listener: the user is set before handleConnection runs.
    namespace.on('connection', (socket) => this.connected(socket));
  }

  private async authenticate(socket: IoSocket, next: Next): Promise<void> {
    try {
      const access = this.handshakes.access({ namespace: socket.nsp.name });
      const accepted = await this.handshakes.authenticate(
        () => handshakeTokenSource(socket),
        access,
      );
      if (accepted) this.accepted.set(socket, accepted);
      next();
    } catch (error) {
      const data = wsAuthErrorData(this.handshakes.refusalOf(error), this.handshakes.challenge);
      next(Object.assign(new Error(data.message), { data }));
    }
  }

  private connected(socket: IoSocket): void {
    const accepted = this.accepted.get(socket);
    if (!accepted) return;
    this.accepted.delete(socket);
    socket.user = accepted.user;
    const stop = this.handshakes.watchExpiry(accepted.user, accepted.token, (error) =>
      this.expire(socket, error),
    );
    socket.once('disconnect', stop);
  }

  /** Ends a connection whose token is no longer valid, saying why first. */
  protected expire(socket: IoSocket, error: AuthError): void {
    socket.emit('exception', wsAuthErrorData(error, this.handshakes.challenge));
    socket.disconnect();
  }
}
