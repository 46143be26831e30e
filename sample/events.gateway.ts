import { SubscribeMessage, WebSocketGateway } from '@nestjs/websockets';
import { CurrentUser, Scopes, type AuthUser } from '../lib';

/**
 * socket.io gateway on namespace `/events` of the API's port. The handshake is authenticated by
 * `AuthIoAdapter` (see main.ts): a client without a valid token never connects.
 */
@WebSocketGateway({ namespace: '/events' })
export class EventsGateway {
  /** Any valid token: acknowledges `{ sub }`. */
  @SubscribeMessage('whoami')
  whoami(@CurrentUser() user: AuthUser): { sub: string | undefined } {
    return { sub: user.sub };
  }

  /** Needs `read:messages`: acknowledges `{ ok: true }`, or an `exception` naming insufficient_scope. */
  @Scopes('read:messages')
  @SubscribeMessage('scoped')
  scoped(): { ok: true } {
    return { ok: true };
  }
}
