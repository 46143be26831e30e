import { Module, type INestApplication } from '@nestjs/common';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { Test, type TestingModule } from '@nestjs/testing';
import { AuthModule, type AuthModuleOptions } from '../../lib';
import { capturingLogger } from './log-capture';
import { AdminController, FixtureController, GuardedController } from './fixture.controllers';

export type Registration = 'forRoot' | 'forRootAsync';
type CorsOptions = Parameters<INestApplication['enableCors']>[0];
/** The TLS options the fixtures use: a server certificate, and client certificates to request. */
interface HttpsOptions {
  key: string;
  cert: string;
  ca?: string | string[];
  requestCert?: boolean;
  rejectUnauthorized?: boolean;
}

/** The HTTP platforms every end-to-end suite runs on (`describe.each(PLATFORMS)`). */
export type Platform = 'express' | 'fastify';
export const PLATFORMS: readonly Platform[] = ['express', 'fastify'];

const registerNothing = Object.assign(() => undefined, { each: () => () => undefined });

/**
 * `it` (or `describe`) on Express, and nothing at all on Fastify: for the slow tests of suites whose
 * subject is not HTTP (caches, upstream calls, timing), so that Fastify runs only their
 * platform-sensitive tests (answers, headers) and CI time stays reasonable.
 *
 * @example
 * const itOnExpress = onExpressOnly(platform, it);
 */
export function onExpressOnly<T>(platform: Platform, register: T): T {
  return platform === 'express' ? register : (registerNothing as T);
}

export interface FixtureOptions {
  registration?: Registration;
  globalGuard?: boolean;
  /** Ignore VERIFIED_TOKEN_CACHE=off: for the tests of the cache itself. */
  keepVerifiedTokenCache?: boolean;
  /** @default 'express' */
  platform?: Platform;
  /** `app.enableCors(cors)` before the app starts, as the sample does. */
  cors?: CorsOptions;
  /** Serve HTTPS with these TLS options (Express's `httpsOptions`, Fastify's `https`). */
  https?: HttpsOptions;
}

/**
 * `VERIFIED_TOKEN_CACHE=off` runs every end-to-end test with the verified-token cache off: the
 * proof that it changes no answer (`npm test` runs the suite both ways).
 */
const cacheOff = process.env.VERIFIED_TOKEN_CACHE === 'off';

/** A small app with every kind of route, registered synchronously or asynchronously. */
export async function createFixtureApp(
  options: AuthModuleOptions,
  {
    registration = 'forRoot',
    globalGuard = true,
    keepVerifiedTokenCache = false,
    platform = 'express',
    cors,
    https,
  }: FixtureOptions = {},
): Promise<INestApplication> {
  if (cacheOff && !keepVerifiedTokenCache) options = { ...options, verifiedTokenCache: false };
  const auth =
    registration === 'forRoot'
      ? AuthModule.forRoot({ ...options, globalGuard })
      : AuthModule.forRootAsync({ useFactory: async () => options, globalGuard });

  @Module({ imports: [auth], controllers: [FixtureController, AdminController, GuardedController] })
  class FixtureModule {}

  const moduleRef = await Test.createTestingModule({ imports: [FixtureModule] }).compile();
  return createPlatformApp(moduleRef, platform, cors, https);
}

/**
 * An initialised app of `moduleRef` on `platform`, ready for supertest (`app.getHttpServer()`) or
 * `app.listen(0)`: a Fastify app is also made `ready()`, or it answers nothing to supertest.
 */
export async function createPlatformApp(
  moduleRef: TestingModule,
  platform: Platform = 'express',
  cors?: CorsOptions,
  https?: HttpsOptions,
): Promise<INestApplication> {
  const app =
    platform === 'fastify'
      ? moduleRef.createNestApplication(new FastifyAdapter(https ? { https } : {}), {
          logger: capturingLogger,
        })
      : moduleRef.createNestApplication({
          logger: capturingLogger,
          ...(https ? { httpsOptions: https } : {}),
        });
  if (cors) app.enableCors(cors);
  await app.init();
  if (platform === 'fastify') {
    const fastify = app.getHttpAdapter().getInstance() as { ready(): PromiseLike<unknown> };
    await fastify.ready();
  }
  return app;
}
