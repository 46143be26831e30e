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

/** The well-known path without its leading slash, as route paths and exclusions are written. */
const WELL_KNOWN_ROUTE = PROTECTED_RESOURCE_WELL_KNOWN.slice(1);

/**
 * The route of the document on each router: the well-known path and every path below it (RFC 9728
 * §3.1 suffixes the resource's path, of any depth), as one route per method. The routers share no
 * wildcard syntax: path-to-regexp 8 (Express 5) wants a named one, find-my-way (Fastify) a bare `*`
 * as the last character, which also matches the well-known path itself.
 */
const ROUTE_OF_ROUTER = {
  'path-to-regexp': `${WELL_KNOWN_ROUTE}{/*path}`,
  'find-my-way': `${WELL_KNOWN_ROUTE}*`,
} as const;

/**
 * The routes of the protected resource metadata document, as a global prefix exclusion (compiled by
 * Nest with path-to-regexp, and matched against the route path of either router). Under
 * `app.setGlobalPrefix()`, exclude them so that the document stays at the root, where clients look
 * for it.
 *
 * @example
 * app.setGlobalPrefix('api', { exclude: [...PROTECTED_RESOURCE_METADATA_ROUTES] });
 */
export const PROTECTED_RESOURCE_METADATA_ROUTES: readonly string[] = [
  `${WELL_KNOWN_ROUTE}{*route}`,
];

/** Nest's `PATH_METADATA` (`@nestjs/common/constants`, not an entry point of every Nest major). */
const PATH_METADATA = 'path';

/**
 * Gives the controller's two handlers the route of the app's router: `getType()` of the HTTP
 * adapter, `'fastify'` for find-my-way, path-to-regexp (Nest's own syntax) for any other. Called
 * while the app registers its middleware, just before its routes.
 */
export function routeProtectedResourceMetadataFor(adapterType: string | undefined): void {
  const route = ROUTE_OF_ROUTER[adapterType === 'fastify' ? 'find-my-way' : 'path-to-regexp'];
  const { prototype } = ProtectedResourceController;
  for (const handler of [prototype.document, prototype.preflight]) {
    Reflect.defineMetadata(PATH_METADATA, route, handler);
  }
}

/** Whether `path` is the well-known path or one below it (find-my-way's `*` also matches `-x`). */
function isMetadataPath(path: string): boolean {
  const at = path.indexOf(PROTECTED_RESOURCE_WELL_KNOWN);
  if (at === -1) return false;
  const rest = path.slice(at + PROTECTED_RESOURCE_WELL_KNOWN.length);
  return rest === '' || rest.startsWith('/');
}

/** The request's path, without the query. */
const pathOf = (request: RequestWithUrl) =>
  (request.originalUrl ?? request.url ?? '').split('?')[0];

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

  @Get(ROUTE_OF_ROUTER['path-to-regexp'])
  @Header('Access-Control-Allow-Origin', '*')
  document(@Req() request: RequestWithUrl): ProtectedResourceMetadataDocument {
    const path = pathOf(request);
    const document = this.metadata.documentAt(path);
    if (document) return document;
    const home = this.metadata.paths[0];
    if (home !== undefined && !path.startsWith(PROTECTED_RESOURCE_WELL_KNOWN)) {
      throw new NotFoundException(
        `The protected resource metadata is served at the root (${home}), ` +
          'where clients look for it, not under a global prefix: exclude ' +
          'PROTECTED_RESOURCE_METADATA_ROUTES from app.setGlobalPrefix().',
      );
    }
    throw new NotFoundException(
      home !== undefined
        ? `No protected resource metadata here; this API's is at ${this.metadata.paths.join(', ')}.`
        : 'This API publishes no protected resource metadata.',
    );
  }

  /** The preflight of a cross-origin fetch with headers (MCP clients send MCP-Protocol-Version). */
  @Options(ROUTE_OF_ROUTER['path-to-regexp'])
  @HttpCode(204)
  @Header('Access-Control-Allow-Origin', '*')
  @Header('Access-Control-Allow-Methods', 'GET')
  @Header('Access-Control-Allow-Headers', 'MCP-Protocol-Version, Content-Type')
  @Header('Access-Control-Max-Age', '86400')
  preflight(@Req() request: RequestWithUrl): void {
    if (!isMetadataPath(pathOf(request))) throw new NotFoundException();
  }
}
