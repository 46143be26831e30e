import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { fetchJson, RemoteFetchError } from './fetch-json';

/** A real local server whose answer each test sets. */
describe('fetchJson', () => {
  let server: Server;
  let url: string;
  let answer: (request: IncomingMessage, response: ServerResponse) => void;
  const limits = { timeoutMs: 2000, maxBytes: 1024 };

  beforeAll(async () => {
    server = createServer((request, response) => answer(request, response));
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/doc`;
  });

  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  const failureOf = (promise: Promise<unknown>) =>
    promise.then(
      () => 'resolved',
      (error: RemoteFetchError) => error.failure,
    );

  it('reads a JSON document', async () => {
    answer = (_, response) => response.end('{"issuer":"x"}');
    await expect(fetchJson(url, limits)).resolves.toEqual({ issuer: 'x' });
  });

  it('refuses a body whose declared Content-Length is over the cap, before reading it', async () => {
    let bodyWritten = false;
    answer = (_, response) => {
      response.writeHead(200, { 'content-length': String(limits.maxBytes + 1) });
      // Only the headers: a client that waited for the body would time out instead.
      response.flushHeaders();
      setTimeout(() => {
        bodyWritten = true;
        response.end('x'.repeat(limits.maxBytes + 1));
      }, 1000).unref();
    };
    await expect(failureOf(fetchJson(url, limits))).resolves.toBe('too_large');
    expect(bodyWritten).toBe(false);
  });

  it('refuses a body that is not UTF-8 (RFC 8259 §8.1), rather than read it with U+FFFD', async () => {
    const overlong = Buffer.from([0xc0, 0xaf]);
    answer = (_, response) =>
      response.end(Buffer.concat([Buffer.from('{"sub":"a'), overlong, Buffer.from('"}')]));
    await expect(failureOf(fetchJson(url, limits))).resolves.toBe('invalid_encoding');
    // Split across chunks, a valid character is kept whole.
    answer = (_, response) => {
      const bytes = Buffer.from('{"sub":"Zoë 🙂"}');
      response.write(bytes.subarray(0, 12));
      setTimeout(() => response.end(bytes.subarray(12)), 20).unref();
    };
    await expect(fetchJson(url, limits)).resolves.toEqual({ sub: 'Zoë 🙂' });
  });

  it('takes an answer without a body (204) as invalid JSON', async () => {
    answer = (_, response) => {
      response.writeHead(204);
      response.end();
    };
    await expect(failureOf(fetchJson(url, limits))).resolves.toBe('invalid_json');
  });

  it('reports a connection cut in the middle of the body as a network failure', async () => {
    answer = (_, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"issuer":');
      setTimeout(() => response.socket?.destroy(), 20).unref();
    };
    const error = await fetchJson(url, limits).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteFetchError);
    expect((error as RemoteFetchError).failure).toBe('network');
  });
});
