import { Logger, Module, type Provider } from '@nestjs/common';
import type { AuthModuleOptions } from './auth-options.interface';
import { RESOLVED_AUTH_OPTIONS } from './auth.constants';
import { AUTH_MODULE_OPTIONS, ConfigurableAuthModule } from './auth.module-definition';
import { AccessTokenGuard } from './guards/access-token.guard';
import { IssuerDiscovery } from './issuer/issuer-discovery';
import { JwksKeyStore } from './issuer/jwks-key-store';
import { resolveAuthOptions, type ResolvedAuthOptions } from './resolve-auth-options';
import { AccessTokenStrategy } from './strategies/access-token.strategy';

const MAX_DOCUMENT_BYTES = 512 * 1024;

const providers: Provider[] = [
  {
    provide: RESOLVED_AUTH_OPTIONS,
    inject: [AUTH_MODULE_OPTIONS],
    useFactory: (options: AuthModuleOptions) => resolveAuthOptions(options),
  },
  {
    provide: IssuerDiscovery,
    inject: [RESOLVED_AUTH_OPTIONS],
    useFactory: (options: ResolvedAuthOptions) =>
      new IssuerDiscovery({
        issuer: options.issuer,
        ...(options.jwksUri ? { jwksUri: options.jwksUri } : {}),
        limits: { timeoutMs: options.httpTimeoutMs, maxBytes: MAX_DOCUMENT_BYTES },
        maxAgeMs: 24 * 3600 * 1000,
      }),
  },
  {
    provide: JwksKeyStore,
    inject: [RESOLVED_AUTH_OPTIONS, IssuerDiscovery],
    useFactory: (options: ResolvedAuthOptions, discovery: IssuerDiscovery) =>
      new JwksKeyStore(
        discovery,
        {
          limits: { timeoutMs: options.httpTimeoutMs, maxBytes: MAX_DOCUMENT_BYTES },
          refetchBurst: 3,
          refetchCooldownMs: options.jwksCooldownMs,
          maxAgeMs: 10 * 60 * 1000,
          failureBackoffMs: 1000,
          maxKeys: 100,
        },
        new Logger('JwksKeyStore'),
      ),
  },
  AccessTokenStrategy,
  AccessTokenGuard,
];

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
 */
@Module({
  providers,
  exports: [RESOLVED_AUTH_OPTIONS, AccessTokenGuard, AccessTokenStrategy, JwksKeyStore],
})
export class AuthModule extends ConfigurableAuthModule {}
