import {
  Controller,
  Get,
  Header,
  HttpCode,
  NotFoundException,
  Options,
  Req,
  SetMetadata,
  VERSION_NEUTRAL,
} from '@nestjs/common';
import { Public } from '../decorators/public.decorator';
import {
  ProtectedResourceMetadata,
  type ProtectedResourceMetadataDocument,
} from './protected-resource-metadata';
import { PROTECTED_RESOURCE_WELL_KNOWN } from './resource-metadata-url';

/** Path segments a resource identifier may have: as many route parameters (no wildcard). */
const MAX_RESOURCE_SEGMENTS = 6;

/**
 * The routes of the protected resource metadata document: the root one and the path-suffixed ones
 * (RFC 9728 §3.1) for resource paths of up to 6 segments. Route parameters rather than a
 * wildcard, whose syntax Express 5 and Fastify do not share. Under `app.setGlobalPrefix()`, exclude
 * them so that the document stays at the root, where clients look for it.
 *
 * @example
 * app.setGlobalPrefix('api', { exclude: [...PROTECTED_RESOURCE_METADATA_ROUTES] });
 */
export const PROTECTED_RESOURCE_METADATA_ROUTES: readonly string[] = Array.from(
  { length: MAX_RESOURCE_SEGMENTS + 1 },
  (_, depth) =>
    [
      PROTECTED_RESOURCE_WELL_KNOWN.slice(1),
      ...Array.from({ length: depth }, (_segment, i) => `:s${i}`),
    ].join('/'),
);

interface RequestWithUrl {
  originalUrl?: string;
  url?: string;
}

/** `@ApiExcludeController()` of @nestjs/swagger (an optional peer), by its metadata key. */
const SWAGGER_EXCLUDE_CONTROLLER = 'swagger/apiExcludeController';

/**
 * Serves the RFC 9728 document: public, readable cross-origin, outside any version, and left out of
 * the app's OpenAPI document (it describes the API's own routes).
 */
@Public()
@SetMetadata(SWAGGER_EXCLUDE_CONTROLLER, [true])
@Controller({ version: VERSION_NEUTRAL })
export class ProtectedResourceController {
  constructor(private readonly metadata: ProtectedResourceMetadata) {}

  @Get([...PROTECTED_RESOURCE_METADATA_ROUTES])
  @Header('Access-Control-Allow-Origin', '*')
  document(@Req() request: RequestWithUrl): ProtectedResourceMetadataDocument {
    const path = (request.originalUrl ?? request.url ?? '').split('?')[0];
    const document = this.metadata.document();
    if (document && this.metadata.paths.includes(path)) return document;
    if (document && !path.startsWith(PROTECTED_RESOURCE_WELL_KNOWN)) {
      throw new NotFoundException(
        `The protected resource metadata is served at the root (${this.metadata.paths[0]}), ` +
          'where clients look for it, not under a global prefix: exclude ' +
          'PROTECTED_RESOURCE_METADATA_ROUTES from app.setGlobalPrefix().',
      );
    }
    throw new NotFoundException(
      document
        ? `No protected resource metadata here; this API's is at ${this.metadata.paths[0]}.`
        : 'This API publishes no protected resource metadata.',
    );
  }

  /** The preflight of a cross-origin fetch with headers (MCP clients send MCP-Protocol-Version). */
  @Options([...PROTECTED_RESOURCE_METADATA_ROUTES])
  @HttpCode(204)
  @Header('Access-Control-Allow-Origin', '*')
  @Header('Access-Control-Allow-Methods', 'GET')
  @Header('Access-Control-Allow-Headers', 'MCP-Protocol-Version, Content-Type')
  @Header('Access-Control-Max-Age', '86400')
  preflight(): void {}
}
