/** `WebSocket.OPEN`: the socket can send. */
const OPEN = 1;

/** The parts of a `ws` client that emitting an exception uses. */
export interface ExceptionEmitter {
  readyState: number;
  emit(event: string, ...args: unknown[]): boolean;
  send(data: string): void;
}

/**
 * NestJS 11's exception filter for gateways calls `client.emit('exception', payload)`, which on a
 * `ws` client only fires a local event: a refused message (`insufficient_scope`) would never reach
 * the caller. NestJS 12 sends `{ event: 'exception', data }` instead; this gives ws clients on
 * NestJS 11 the same message. Only the `exception` event is touched.
 */
export function sendExceptionsOverTheWire(client: ExceptionEmitter): void {
  const emit = client.emit.bind(client);
  client.emit = (event: string, ...args: unknown[]) => {
    if (event === 'exception' && client.readyState === OPEN)
      client.send(JSON.stringify({ event, data: args[0] }));
    return emit(event, ...args);
  };
}
