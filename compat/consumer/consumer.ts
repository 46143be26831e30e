// A NestJS app as a user writes it, compiled against the built declarations (dist/lib) with
// skipLibCheck off, once with NestJS 12's typings and once with NestJS 11's (`npm run
// typecheck:consumer`): every published .d.ts must be valid under both.
import { Controller, Get, Module, type INestApplication } from '@nestjs/common';
import {
  AuthModule,
  CurrentUser,
  InjectAuthOptions,
  Public,
  Scopes,
  WithUserinfo,
  type AccessTokenClaims,
  type AuthModuleOptions,
  type AuthOptionsFactory,
  type AuthUser,
  type ResolvedAuthOptions,
} from 'nest-oauth2-bearer';
import { AuthIoAdapter } from 'nest-oauth2-bearer/socket.io';
import { AuthWsAdapter } from 'nest-oauth2-bearer/ws';
import { TestIssuer, type MintAccessTokenOptions } from 'nest-oauth2-bearer/testing';
import { applyAuthToOpenApi } from 'nest-oauth2-bearer/swagger';
import { IdentityProviderHealthIndicator } from 'nest-oauth2-bearer/health';
import { DocumentBuilder, SwaggerModule, type OpenAPIObject } from '@nestjs/swagger';
import { HealthCheckService, type HealthCheckResult } from '@nestjs/terminus';

@Controller('api')
@Scopes('read:messages')
export class MessagesController {
  constructor(@InjectAuthOptions() readonly options: ResolvedAuthOptions) {}

  @Public()
  @Get('health')
  health(): string {
    return 'ok';
  }

  @Scopes.any('read:messages', 'admin')
  @WithUserinfo()
  @Get('me')
  me(@CurrentUser() user: AuthUser, @CurrentUser('email') email?: unknown): string {
    return `${user.sub} ${String(email)}`;
  }

  /** The application's own claim type: `sub` is a string, the roles claim keeps its type. */
  @Get('roles')
  roles(@CurrentUser() user: AuthUser<AppClaims>): { sub: string; roles: string[] } {
    return { sub: user.sub, roles: user.claims['https://example.com/roles'] ?? [] };
  }
}

interface AppClaims extends AccessTokenClaims {
  'https://example.com/roles'?: string[];
}

/** Options from a class, for `forRootAsync({ useClass })` and `{ useExisting }`. */
export class AuthConfig implements AuthOptionsFactory {
  createAuthOptions(): AuthModuleOptions {
    return { issuerUrl: 'https://issuer.example/', audience: 'api' };
  }
}

@Module({ imports: [AuthModule.forRootAsync({ useClass: AuthConfig })] })
export class AsyncAppModule {}

@Module({
  imports: [AuthModule.forRoot({ issuerUrl: 'https://issuer.example', audience: 'api' })],
  controllers: [MessagesController],
})
export class AppModule {}

/** The WebSocket adapters, from the package's subpaths (its exports map). */
export function useAdapter(app: INestApplication, transport: 'socket.io' | 'ws'): void {
  app.useWebSocketAdapter(transport === 'ws' ? new AuthWsAdapter(app) : new AuthIoAdapter(app));
}

/** The testing kit, from its own subpath: a module wired to a local issuer, and a token. */
export async function testingKit(options: MintAccessTokenOptions): Promise<string> {
  const issuer = await TestIssuer.start({ audience: 'api' });
  AuthModule.forRoot(issuer.moduleOptions({ strict: true }));
  const token = issuer.mintAccessToken(options);
  await issuer.stop();
  return token;
}

/** The OpenAPI document, from `nest-oauth2-bearer/swagger`. */
export function openApi(app: INestApplication): OpenAPIObject {
  const document = SwaggerModule.createDocument(app, new DocumentBuilder().build());
  return applyAuthToOpenApi(document, app, { scheme: 'openIdConnect' });
}

/** The readiness check, from `nest-oauth2-bearer/health`. */
@Controller('health')
export class HealthController {
  constructor(
    private readonly health: HealthCheckService,
    private readonly identityProvider: IdentityProviderHealthIndicator,
  ) {}

  @Public()
  @Get()
  check(): Promise<HealthCheckResult> {
    return this.health.check([() => this.identityProvider.isHealthy('identityProvider')]);
  }
}
