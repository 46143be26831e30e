import type { AddressInfo } from 'node:net';
import WebSocket, { WebSocketServer } from 'ws';
import { sendExceptionsOverTheWire, type ExceptionEmitter } from './nest11-ws-exceptions';

/** A client whose `send` records frames and whose `emit` records local events. */
function fakeClient(readyState: number) {
  const sent: string[] = [];
  const local: [string, unknown[]][] = [];
  const client: ExceptionEmitter = {
    readyState,
    send: (data) => void sent.push(data),
    emit: (event, ...args) => (local.push([event, args]), true),
  };
  return { client, sent, local };
}

describe('sendExceptionsOverTheWire (ws clients on NestJS 11)', () => {
  it("sends emit('exception', payload) to the other end as { event, data }", async () => {
    const server = new WebSocketServer({ port: 0, host: '127.0.0.1' });
    await new Promise((resolve) => server.once('listening', resolve));
    const { port } = server.address() as AddressInfo;
    const accepted = new Promise<WebSocket>((resolve) => server.once('connection', resolve));
    const remote = new WebSocket(`ws://127.0.0.1:${port}`);
    try {
      const client = await accepted;
      await new Promise((resolve) => remote.once('open', resolve));
      sendExceptionsOverTheWire(client);
      const received = new Promise<unknown>((resolve) =>
        remote.once('message', (data: Buffer) => resolve(JSON.parse(data.toString()))),
      );
      const payload = { status: 403, error: 'insufficient_scope' };
      client.emit('other', { not: 'sent' });
      client.emit('exception', payload);
      // The first frame is the exception: the other event was never sent.
      expect(await received).toEqual({ event: 'exception', data: payload });
    } finally {
      remote.terminate();
      await new Promise((resolve) => server.close(resolve));
    }
  });

  it('still fires the local event, and returns what emit returned', () => {
    const { client, local } = fakeClient(WebSocket.OPEN);
    sendExceptionsOverTheWire(client);
    expect(client.emit('exception', { reason: 'x' })).toBe(true);
    expect(client.emit('message', 'a', 'b')).toBe(true);
    expect(local).toEqual([
      ['exception', [{ reason: 'x' }]],
      ['message', ['a', 'b']],
    ]);
  });

  it('sends nothing for other events', () => {
    const { client, sent } = fakeClient(WebSocket.OPEN);
    sendExceptionsOverTheWire(client);
    client.emit('close', 1000);
    client.emit('error', new Error('boom'));
    expect(sent).toEqual([]);
  });

  it.each([
    ['connecting', WebSocket.CONNECTING],
    ['closing', WebSocket.CLOSING],
    ['closed', WebSocket.CLOSED],
  ])('sends nothing on a %s socket', (_state, readyState) => {
    const { client, sent, local } = fakeClient(readyState);
    sendExceptionsOverTheWire(client);
    client.emit('exception', { reason: 'token_expired' });
    expect(sent).toEqual([]);
    expect(local).toHaveLength(1);
  });
});
