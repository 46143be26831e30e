import { connect } from 'node:net';
import type { INestApplication } from '@nestjs/common';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';
import { listenOnFreePort } from '../support/listen';

interface RawAnswer {
  status: number;
  head: string;
  body: string;
}

/** Sends the request line and headers over a raw socket; the server closes it after answering. */
function rawRequest(port: number, lines: string[]): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    let text = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk) => (text += chunk));
    socket.on('error', reject);
    socket.on('end', () => {
      const [head, body = ''] = text.split('\r\n\r\n');
      resolve({ status: Number(/^HTTP\/1\.1 (\d{3})/.exec(head)?.[1]), head, body });
    });
    // write, not end: a half-closed socket may be closed before a slower answer is sent.
    socket.write([...lines, 'Host: 127.0.0.1', 'Connection: close', '', ''].join('\r\n'));
  });
}

/**
 * Requests no HTTP client library sends: Node keeps only the first of repeated `Authorization`
 * headers in `req.headers`, so these go over a raw socket to see what the server really gets.
 */
describe.each(PLATFORMS)('requests over a raw socket (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication;
  let port: number;

  beforeAll(async () => {
    ks = await KeyServer.start();
    app = await createFixtureApp({ issuerUrl: ks.issuer, audience: ks.audience }, { platform });
    port = await listenOnFreePort(app);
  });

  afterAll(async () => {
    await app.close();
    await ks.stop();
  });

  it('accepts one Authorization header', async () => {
    const answer = await rawRequest(port, [
      'GET /private HTTP/1.1',
      `Authorization: Bearer ${ks.token()}`,
    ]);
    expect([answer.status, JSON.parse(answer.body)]).toEqual([200, { sub: 'auth0|user-1' }]);
  });

  it.each([
    ['two valid tokens', () => [`Bearer ${ks.token()}`, `Bearer ${ks.token({ sub: 'other' })}`]],
    ['a valid token, then a forged one', () => [`Bearer ${ks.token()}`, 'Bearer a.b.c']],
    ['a valid token, then another scheme', () => [`Bearer ${ks.token()}`, 'Basic dXNlcjpwYXNz']],
    ['another scheme, then a valid token', () => ['Basic dXNlcjpwYXNz', `Bearer ${ks.token()}`]],
    ['the same valid token twice', () => Array(2).fill(`Bearer ${ks.token()}`)],
  ])('refuses two Authorization headers (%s) with 400 invalid_request', async (_, values) => {
    const headers = values().map(
      (value, i) => `${i === 0 ? 'Authorization' : 'authorization'}: ${value}`,
    );
    const answer = await rawRequest(port, ['GET /private HTTP/1.1', ...headers]);
    expect(answer.status).toBe(400);
    expect(answer.head).toMatch(/^www-authenticate: Bearer realm="api", error="invalid_request"/im);
    expect(JSON.parse(answer.body)).toMatchObject({
      error: 'invalid_request',
      reason: 'multiple_token_methods',
    });
  });

  it('still lets a @Public() route answer, whatever the headers', async () => {
    const answer = await rawRequest(port, [
      'GET /public HTTP/1.1',
      'Authorization: Bearer a',
      'Authorization: Bearer b',
    ]);
    expect(answer.status).toBe(200);
  });
});
