import 'reflect-metadata';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Controller, Get, Module, type DynamicModule, type LogLevel } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import KeyvRedis from '@keyv/redis';
import type { Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { AuthModule, Public, type AuthModuleOptions } from '../../lib';
import { benchEnv, reportMemoryOnRequest } from './report-memory';

/** This library: AuthModule with the global guard; opaque tokens through userinfo. */
@Controller()
class BenchController {
  @Public()
  @Get('public')
  open() {
    return { ok: true };
  }

  @Get('private')
  private() {
    return { ok: true };
  }
}

/**
 * AuthModule as the bench configures it. BENCH_DPOP=required: DPoP required, proofs' `htu` from
 * BENCH_PUBLIC_URL (the balancer's URL, the same for every instance). BENCH_REDIS_URL: the shared
 * store (DPoP replay records) in Redis, wired as sample/app.module.ts does (CacheModule over Keyv
 * and @keyv/redis, CACHE_MANAGER as `cache.store`), with BENCH_STORE_TIMEOUT_MS as
 * `cache.storeTimeoutMs` when set. BENCH_LOG: warnings and errors printed (else nothing).
 */
function authModule(issuer: string, audience: string): DynamicModule[] {
  const { BENCH_DPOP, BENCH_PUBLIC_URL, BENCH_REDIS_URL, BENCH_NO_CACHE, BENCH_STORE_TIMEOUT_MS } =
    process.env;
  const options: AuthModuleOptions = {
    issuerUrl: issuer,
    audience,
    opaqueTokens: 'userinfo',
    ...(BENCH_NO_CACHE ? { verifiedTokenCache: false } : {}),
    ...(BENCH_DPOP === 'required'
      ? {
          dpop: {
            mode: 'required',
            ...(BENCH_PUBLIC_URL ? { publicBaseUrl: BENCH_PUBLIC_URL } : {}),
          },
        }
      : {}),
  };
  if (!BENCH_REDIS_URL) return [AuthModule.forRoot(options)];
  return [
    CacheModule.register({
      isGlobal: true,
      stores: [
        new Keyv({
          store: new KeyvRedis(
            { url: BENCH_REDIS_URL, disableOfflineQueue: true, commandsQueueMaxLength: 1000 },
            { throwOnConnectError: false },
          ),
        }),
      ],
    }),
    AuthModule.forRootAsync({
      inject: [CACHE_MANAGER],
      useFactory: (store: Cache) => ({
        ...options,
        cache: {
          store,
          ...(BENCH_STORE_TIMEOUT_MS ? { storeTimeoutMs: Number(BENCH_STORE_TIMEOUT_MS) } : {}),
        },
      }),
    }),
  ];
}

async function main() {
  const { issuer, audience, port } = benchEnv();
  @Module({
    imports: authModule(issuer, audience),
    controllers: [BenchController],
  })
  class BenchModule {}
  const logger: LogLevel[] | false = process.env.BENCH_LOG ? ['warn', 'error'] : false;
  // BENCH_PLATFORM=fastify: the same app on Fastify.
  const app =
    process.env.BENCH_PLATFORM === 'fastify'
      ? await NestFactory.create(BenchModule, new FastifyAdapter(), { logger })
      : await NestFactory.create(BenchModule, { logger });
  await app.listen(port, '127.0.0.1');
  reportMemoryOnRequest();
  process.send?.('ready');
}

void main();
