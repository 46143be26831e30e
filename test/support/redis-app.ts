import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Module, type INestApplication, type Type } from '@nestjs/common';
import { Test } from '@nestjs/testing';
import KeyvRedis from '@keyv/redis';
import type { Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { AuthModule, type AuthModuleOptions, type CacheOptions } from '../../lib';
import { createPlatformApp, type Platform } from './create-fixture-app';

/**
 * An API instance sharing one Redis, wired as a user would: `CacheModule` with `@keyv/redis`, and
 * `CACHE_MANAGER` as the shared store of the token caches.
 */
export async function redisBackedApp(
  redisUrl: string,
  options: AuthModuleOptions,
  controllers: Type[],
  platform: Platform,
  cache: Omit<CacheOptions, 'store'> = {},
): Promise<INestApplication> {
  @Module({
    imports: [
      CacheModule.register({
        isGlobal: true,
        stores: [new Keyv({ store: new KeyvRedis(redisUrl, { throwOnConnectError: false }) })],
      }),
      AuthModule.forRootAsync({
        inject: [CACHE_MANAGER],
        useFactory: (store: Cache) => ({ ...options, cache: { ...cache, store } }),
      }),
    ],
    controllers,
  })
  class RedisInstanceModule {}
  const moduleRef = await Test.createTestingModule({ imports: [RedisInstanceModule] }).compile();
  return createPlatformApp(moduleRef, platform);
}
