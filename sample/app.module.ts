import { ApolloDriver, type ApolloDriverConfig } from '@nestjs/apollo';
import { CACHE_MANAGER, CacheModule } from '@nestjs/cache-manager';
import { Module, type DynamicModule } from '@nestjs/common';
import { ConfigModule, ConfigService } from '@nestjs/config';
import { GraphQLModule } from '@nestjs/graphql';
import { TerminusModule } from '@nestjs/terminus';
import KeyvRedis from '@keyv/redis';
import type { Cache } from 'cache-manager';
import { Keyv } from 'keyv';
import { AuthModule } from '../lib';
import { IdentityProviderHealthIndicator } from '../lib/health/identity-provider.health';
import { ApiController } from './api.controller';
import { sampleDpopOptions } from './dpop-config';
import { EventsGateway } from './events.gateway';
import { HealthController } from './health.controller';
import { McpController } from './mcp.controller';
import { sampleMcpResource } from './mcp-config';
import { sampleIssuerOptions } from './issuer-config';
import { sampleResourceOptions } from './resource-config';
import { MessagesResolver } from './messages.resolver';
import { SignInPageController } from './sign-in-page/sign-in-page.controller';

/**
 * The sample API. With REDIS_URL set, the results of userinfo calls for opaque tokens are shared
 * by every instance through Redis (@nestjs/cache-manager with @keyv/redis).
 */
@Module({})
export class AppModule {
  static register(redisUrl = process.env.REDIS_URL): DynamicModule {
    const sharedCache = redisUrl
      ? [
          CacheModule.register({
            isGlobal: true,
            stores: [
              new Keyv({
                // While Redis is away, commands fail at once instead of queueing without bound.
                store: new KeyvRedis(
                  { url: redisUrl, disableOfflineQueue: true, commandsQueueMaxLength: 1000 },
                  { throwOnConnectError: false },
                ),
              }),
            ],
          }),
        ]
      : [];
    return {
      module: AppModule,
      imports: [
        ConfigModule.forRoot({ isGlobal: true }),
        ...sharedCache,
        AuthModule.forRootAsync({
          imports: [ConfigModule],
          inject: [ConfigService, { token: CACHE_MANAGER, optional: true }],
          useFactory: (config: ConfigService, cache?: Cache) => ({
            // AUTH_ISSUER_URL (several separated by commas), AUTH_HS256_SECRET; see issuer-config.ts.
            ...sampleIssuerOptions((name) => config.get<string>(name)),
            // AUTH_AUDIENCE (several separated by commas), AUTH_RESOURCE_URL; see resource-config.ts.
            ...sampleResourceOptions((name) => config.get<string>(name)),
            // POST /mcp is a resource of its own: AUTH_PUBLIC_URL + /mcp; see mcp-config.ts.
            resources: {
              mcp: {
                resource: sampleMcpResource((name) => config.get<string>(name)),
                resourceName: 'nest-oauth2-bearer sample MCP server',
              },
            },
            // Opaque tokens (a client that asked for no audience) are checked with /userinfo, with
            // one issuer (sampleIssuerOptions).
            ...(cache ? { cache: { store: cache } } : {}),
            // DPoP (RFC 9449): AUTH_DPOP, AUTH_DPOP_NONCE; replays shared through Redis when set.
            dpop: sampleDpopOptions((name) => config.get<string>(name)),
          }),
        }),
        // POST /graphql on Express or Fastify (ApolloDriver follows the platform).
        GraphQLModule.forRoot<ApolloDriverConfig>({
          driver: ApolloDriver,
          autoSchemaFile: true,
          // Guards run on @ResolveField() methods too; AuthModule refuses to start without it.
          fieldResolverEnhancers: ['guards'],
        }),
        // GET /health: the identity provider's readiness (@nestjs/terminus).
        TerminusModule,
      ],
      controllers: [ApiController, HealthController, McpController, SignInPageController],
      providers: [MessagesResolver, EventsGateway, IdentityProviderHealthIndicator],
    };
  }
}
