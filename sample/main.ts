import 'reflect-metadata';
import { Logger, type INestApplication } from '@nestjs/common';
import { NestFactory } from '@nestjs/core';
import { FastifyAdapter } from '@nestjs/platform-fastify';
import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { applyAuthToOpenApi } from '../lib/openapi/auth-openapi';
import { AuthIoAdapter } from '../lib/websockets/auth-io.adapter';
import { AppModule } from './app.module';
import { sampleMcpResource } from './mcp-config';
import {
  OPAQUE_TOKEN_PATH,
  startDevIdentityProvider,
  type DevIdentityProvider,
} from './dev-identity-provider';

/** The API identifier the embedded development identity provider issues tokens for. */
const DEV_AUDIENCE = 'https://api.example.com';

/** The HTTP platforms the sample runs on: the same module on either. */
const PLATFORMS = ['express', 'fastify'] as const;
export type SamplePlatform = (typeof PLATFORMS)[number];

/** `SAMPLE_PLATFORM`: `express` (the default) or `fastify`; any other value stops the sample. */
export function samplePlatform(value = process.env.SAMPLE_PLATFORM): SamplePlatform {
  if (value === undefined || value === '') return 'express';
  if ((PLATFORMS as readonly string[]).includes(value)) return value as SamplePlatform;
  throw new Error(`SAMPLE_PLATFORM is "${value}": set it to "express" (the default) or "fastify".`);
}

/** Creates the sample application: CORS for browser clients, with Authorization allowed. */
export async function createSampleApp(
  platform: SamplePlatform = samplePlatform(),
): Promise<INestApplication> {
  const app =
    platform === 'fastify'
      ? await NestFactory.create(AppModule.register(), new FastifyAdapter())
      : await NestFactory.create(AppModule.register());
  // socket.io gateways (namespace /events) authenticate the handshake, on Express and Fastify.
  app.useWebSocketAdapter(new AuthIoAdapter(app));
  const origins = process.env.CORS_ORIGINS?.split(',').map((origin) => origin.trim());
  // Lists as strings and methods named: Express's and Fastify's CORS plugins would otherwise send
  // different values (their array separators and default methods differ).
  app.enableCors({
    origin: origins && origins.length > 0 ? origins : '*',
    methods: 'GET, HEAD, POST',
    allowedHeaders: 'Authorization, Content-Type, DPoP',
    exposedHeaders: 'WWW-Authenticate, Retry-After, DPoP-Nonce',
  });
  // Swagger UI at /docs and the document at /docs-json: each route's token requirement, scopes and
  // refusals come from its decorators.
  const config = new DocumentBuilder().setTitle('nest-oauth2-bearer sample').build();
  const document = applyAuthToOpenApi(SwaggerModule.createDocument(app, config), app);
  SwaggerModule.setup('docs', app, document, { jsonDocumentUrl: 'docs-json' });
  return app;
}

async function bootstrap(): Promise<void> {
  const logger = new Logger('Sample');
  const port = Number(process.env.PORT ?? 3000);
  // Checked before anything starts: a typo must not silently run the other platform.
  const platform = samplePlatform();
  let devIdentityProvider: DevIdentityProvider | undefined;
  if (!process.env.AUTH_ISSUER_URL) {
    process.env.AUTH_AUDIENCE ||= DEV_AUDIENCE;
    // RFC 9728: the resource is the URL this process serves, so that challenges' resource_metadata
    // names a document it serves (the API identifier https://api.example.com is served by nobody).
    const publicUrl = process.env.AUTH_PUBLIC_URL || `http://localhost:${port}`;
    process.env.AUTH_RESOURCE_URL ||= publicUrl;
    devIdentityProvider = await startDevIdentityProvider({
      audience: process.env.AUTH_AUDIENCE,
      port: Number(process.env.DEV_IDP_PORT ?? 0),
      // The sign-in page at / is a registered Single Page Application of the embedded provider.
      spaOrigins: [`http://localhost:${port}`, `http://127.0.0.1:${port}`],
      // MCP clients register themselves and get tokens for POST /mcp (its URL is its resource).
      mcp: {
        resource: sampleMcpResource((name) => process.env[name]),
        scopes: ['read:messages', 'write:messages'],
      },
    });
    process.env.AUTH_ISSUER_URL = devIdentityProvider.issuer;
    process.env.AUTH_SPA_CLIENT_ID = devIdentityProvider.spaClientId;
  } else if (!process.env.AUTH_AUDIENCE) {
    throw new Error(
      'AUTH_AUDIENCE is not set: set it to your API identifier (Auth0: APIs > your API > Identifier).',
    );
  }

  const app = await createSampleApp(platform);
  await app.listen(port);
  const url = `http://localhost:${port}`;
  logger.log(
    `API listening on ${url} on ${platform} (issuer ${process.env.AUTH_ISSUER_URL}, audience ${process.env.AUTH_AUDIENCE})`,
  );
  logger.log(
    process.env.AUTH_SPA_CLIENT_ID
      ? `Sign-in page: ${url}/`
      : `Sign-in page: ${url}/ needs AUTH_SPA_CLIENT_ID (Auth0: your Single Page Application's Client ID)`,
  );

  if (devIdentityProvider) {
    const idp = devIdentityProvider;
    const token = await idp.getAccessToken();
    const opaqueToken = await idp.getOpaqueToken();
    const tokenCommand =
      `curl -s -X POST ${idp.domain}/oauth/token -d grant_type=client_credentials -d client_id=${idp.clientId} ` +
      `-d client_secret=${idp.clientSecret} -d resource=${process.env.AUTH_AUDIENCE} -d scope=read:messages`;
    console.log(
      [
        '',
        '==================================================================================',
        ' DEVELOPMENT ONLY: an embedded identity provider (oidc-provider) is running at',
        ` ${idp.issuer}. Set AUTH_ISSUER_URL and AUTH_AUDIENCE to use a real one (Auth0).`,
        '==================================================================================',
        `Sign in from a browser and see which token goes where: ${url}/`,
        '(any email address and any password at the embedded provider)',
        '',
        'Call the API with this access token (valid for one hour):',
        '',
        `export TOKEN=${token}`,
        `curl -H "Authorization: Bearer $TOKEN" ${url}/api/private`,
        `curl -H "Authorization: Bearer $TOKEN" ${url}/api/private-scoped`,
        `curl -H "Authorization: Bearer $TOKEN" ${url}/api/me`,
        `curl ${url}/api/public`,
        '',
        'A new token:',
        tokenCommand,
        '',
        'An opaque access token, as Auth0 issues when the client asks for no audience. It is checked',
        "with the provider's /userinfo (cached per token), carries no scopes (private-scoped answers",
        '403) and /api/me shows its profile:',
        '',
        `export OPAQUE_TOKEN=${opaqueToken}`,
        `curl -H "Authorization: Bearer $OPAQUE_TOKEN" ${url}/api/me`,
        `A new one: curl -s -X POST "${idp.domain}${OPAQUE_TOKEN_PATH}?client_secret=${idp.clientSecret}"`,
        '',
        process.env.REDIS_URL
          ? `Shared cache: ${process.env.REDIS_URL}`
          : 'Set REDIS_URL=redis://127.0.0.1:6379 to share the userinfo cache between instances.',
        '',
      ].join('\n'),
    );
  }

  const shutdown = async () => {
    await app.close();
    await devIdentityProvider?.close();
    process.exit(0);
  };
  process.once('SIGINT', () => void shutdown());
  process.once('SIGTERM', () => void shutdown());
}

if (require.main === module) {
  bootstrap().catch((error: unknown) => {
    console.error(error instanceof Error ? error.message : error);
    process.exit(1);
  });
}
