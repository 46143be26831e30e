/**
 * `node dist/bench/guard-cost.js`: CPU µs of the whole guard (`AccessTokenGuard.canActivate`, as
 * Nest calls it for an HTTP request) for one repeated, cached token, in process, and of the
 * verifier's part alone (`AccessTokenVerifier.verify`); five passes of N calls each (N from the
 * environment, 100000), printed per pass; BATCH calls (32) in flight together, as the requests of one
 * turn of a saturated server (BATCH=1: one at a time, each paying the turn's hop). Pin it (`taskset -c 1`) for steadier figures.
 */
import 'reflect-metadata';
import { Controller, Get, Module } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { ExecutionContextHost } from '@nestjs/core/helpers/execution-context-host';
import { AccessTokenGuard, AccessTokenVerifier, AuthModule } from '../lib';
import { KeyServer } from '../test/support/key-server';

@Controller()
class GuardedController {
  @Get('private')
  private() {
    return { ok: true };
  }
}

/** Calls in flight together, as the requests of one event-loop turn of a saturated server (BATCH, 32). */
const BATCH = Number(process.env.BATCH ?? 32);

async function perCall(n: number, call: () => Promise<unknown>): Promise<string> {
  const passes: string[] = [];
  const batch = new Array<Promise<unknown>>(BATCH);
  for (let pass = 0; pass < 5; pass++) {
    const before = process.cpuUsage();
    let calls = 0;
    for (; calls < n; calls += BATCH) {
      for (let j = 0; j < BATCH; j++) batch[j] = call();
      await Promise.all(batch);
    }
    const used = process.cpuUsage(before);
    passes.push(((used.user + used.system) / calls).toFixed(2));
  }
  return passes.join(' ');
}

async function main() {
  const ks = await KeyServer.start();
  @Module({
    imports: [AuthModule.forRoot({ issuerUrl: ks.issuer, audience: ks.audience })],
    controllers: [GuardedController],
  })
  class GuardCostModule {}
  const app = await NestFactory.create(GuardCostModule, { logger: false });
  await app.init();
  const guard = app.get(AccessTokenGuard);
  const verifier = app.get(AccessTokenVerifier);
  const token = ks.token({ permissions: ['read:messages'], email: 'someone@example.com' });
  const authorization = `Bearer ${token}`;
  const handler = GuardedController.prototype.private;
  // A request as Express hands it to the guard: a new one each call, as on a server.
  const context = () =>
    new ExecutionContextHost(
      [
        {
          method: 'GET',
          url: '/private',
          originalUrl: '/private',
          headers: { host: '127.0.0.1:3000', authorization },
          rawHeaders: ['Host', '127.0.0.1:3000', 'Authorization', authorization],
          socket: {},
        },
        { setHeader() {}, header() {} },
        () => undefined,
      ],
      GuardedController,
      handler,
    );
  // Twice first: the cache keeps a token from its second use on.
  for (let i = 0; i < 3; i++) await guard.canActivate(context());
  const n = Number(process.env.N ?? 100_000);
  console.log(
    `guard, cached token, µs per call: ${await perCall(n, () => guard.canActivate(context()))}`,
  );
  console.log(
    `verifier alone, cached token, µs per call: ${await perCall(n, () => verifier.verify(token))}`,
  );
  await app.close();
  await ks.stop();
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
