import { spawn, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import type autocannon from 'autocannon';
import type { KeyServer } from '../test/support/key-server';

/** autocannon's requests: each with `Authorization: Bearer <token()>` when `token` is given. */
export function bearerRequests(token?: () => string): autocannon.Request[] {
  return [
    {
      setupRequest: (request) => {
        if (token) request.headers = { ...request.headers, authorization: `Bearer ${token()}` };
        return request;
      },
    },
  ];
}

/**
 * Starts the sample-like server of this library (bench/servers/ours.js) pinned to CPU 0, against
 * `ks`, and resolves once it listens on `port`.
 */
export async function startPinnedServer(
  ks: KeyServer,
  port: number,
  /** A command that runs node (valgrind and its options), and node's own flags. */
  launch: { wrapper?: string[]; nodeFlags?: string[] } = {},
): Promise<ChildProcess> {
  const child = spawn(
    'taskset',
    [
      '-c',
      '0',
      ...(launch.wrapper ?? []),
      process.execPath,
      ...(launch.nodeFlags ?? []),
      join(__dirname, 'servers', 'ours.js'),
    ],
    {
      env: {
        ...process.env,
        BENCH_ISSUER: ks.issuer,
        BENCH_AUDIENCE: ks.audience,
        BENCH_PORT: String(port),
      },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    },
  );
  await new Promise((resolve) => child.once('message', resolve));
  return child;
}
