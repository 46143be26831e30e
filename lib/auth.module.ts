import { Module, type NestModule } from '@nestjs/common';
import { HttpAdapterHost } from '@nestjs/core';
import { RESOLVED_AUTH_OPTIONS } from './auth.constants';
import { ConfigurableAuthModule } from './auth.module-definition';
import { AUTH_PROVIDERS } from './auth.providers';
import { GraphqlWsAuth } from './graphql-ws-auth.service';
import { AccessTokenGuard } from './guards/access-token.guard';
import { McpScopes } from './mcp/mcp-scopes';
import { TrustedIssuers } from './issuer/trusted-issuers';
import {
  ProtectedResourceController,
  routeProtectedResourceMetadataFor,
} from './resource-metadata/protected-resource.controller';
import { AccessTokenStrategy } from './strategies/access-token.strategy';
import { UserinfoService } from './userinfo.service';
import { AccessTokenVerifier } from './verifier/access-token.verifier';

/**
 * Accepts OAuth 2.0 JWT access tokens meant for this API. Registers the Passport strategy, the
 * key store and, unless `globalGuard: false`, the guard as `APP_GUARD`.
 *
 * @example
 * AuthModule.forRoot({ issuerUrl: 'https://tenant.auth0.com/', audience: 'https://api.example.com' })
 * AuthModule.forRootAsync({
 *   imports: [ConfigModule], inject: [ConfigService],
 *   useFactory: (config: ConfigService) => ({ issuerUrl: config.getOrThrow('AUTH_ISSUER_URL'), audience: config.getOrThrow('AUTH_AUDIENCE') }),
 * })
 * AuthModule.forRootAsync({ imports: [ConfigModule], useClass: AuthConfig }) // an AuthOptionsFactory
 */
@Module({
  providers: AUTH_PROVIDERS,
  // GET /.well-known/oauth-protected-resource (RFC 9728); 404 when protectedResource is off.
  controllers: [ProtectedResourceController],
  // What other modules may inject: the public classes of lib/index.ts, the options (without
  // secrets) behind @InjectAuthOptions(), and the trusted issuers (their key stores) for the health
  // indicator of nest-oauth2-bearer/health (provided in the application's module). Discovery, the opaque-token
  // verifier and the caches stay internal.
  exports: [
    RESOLVED_AUTH_OPTIONS,
    AccessTokenGuard,
    AccessTokenStrategy,
    AccessTokenVerifier,
    McpScopes,
    GraphqlWsAuth,
    UserinfoService,
    TrustedIssuers,
  ],
})
export class AuthModule extends ConfigurableAuthModule implements NestModule {
  constructor(private readonly adapterHost: HttpAdapterHost) {
    super();
  }

  /** Nest calls it with the HTTP adapter known, just before it registers the routes. */
  configure(): void {
    routeProtectedResourceMetadataFor(this.adapterHost.httpAdapter?.getType());
  }
}
