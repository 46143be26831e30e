import type { AddressInfo } from 'node:net';
import type { INestApplication } from '@nestjs/common';

/** Starts `app` on a free port of 127.0.0.1 and gives that port. */
export async function listenOnFreePort(app: INestApplication): Promise<number> {
  await app.listen(0, '127.0.0.1');
  return (app.getHttpServer().address() as AddressInfo).port;
}

/**
 * Starts `app` on a free port of 127.0.0.1 and gives its base URL, `http://127.0.0.1:<port>`
 * (`https` for an app served over TLS).
 */
export async function listen(app: INestApplication, scheme: 'http' | 'https' = 'http') {
  return `${scheme}://127.0.0.1:${await listenOnFreePort(app)}`;
}
