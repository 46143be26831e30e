import { isIP, type AddressInfo } from 'node:net';
import {
  Injectable,
  Logger,
  Optional,
  type OnApplicationBootstrap,
  type OnModuleInit,
} from '@nestjs/common';
import { HttpAdapterHost, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { MCP_ENDPOINT_KEY, PROTECTED_RESOURCE_KEY, SCOPES_KEY } from '../auth.constants';
import { AuthOptionsError } from '../errors/auth-options-error';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options';
import type { ScopeRequirement } from '../token/scopes';
import { McpScopes } from '../mcp/mcp-scopes';

/** The RFC 9728 §2 document the library serves. */
export interface ProtectedResourceMetadataDocument {
  resource: string;
  authorization_servers: string[];
  /**
   * Every scope of the `@Scopes()` and `@Scopes.any()` of the resource's routes (the API's: those
   * without `@ProtectedResource()`), sorted; absent when there is none.
   */
  scopes_supported?: string[];
  bearer_methods_supported: ('header' | 'query')[];
  /** RFC 9728 §2 (RFC 9449): the proof algorithms, unless DPoP is disabled. */
  dpop_signing_alg_values_supported?: string[];
  /** RFC 9728 §2: true when DPoP is required (absent means false). */
  dpop_bound_access_tokens_required?: boolean;
  /** RFC 9728 §2 (RFC 8705): true unless `mtls.mode` is `disabled` (absent means false). */
  tls_client_certificate_bound_access_tokens?: boolean;
  resource_name?: string;
  resource_documentation?: string;
}

/**
 * The protected resource metadata documents of the app, the API's and those of its `resources`,
 * built once from the options and the scopes the app's decorators require (read from every
 * controller and provider: routes, resolvers and gateways), each resource's from its own routes.
 */
@Injectable()
export class ProtectedResourceMetadata implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('ProtectedResourceMetadata');
  /** The documents by resource name (`''`: the API's), built on first request. */
  private readonly built = new Map<string, ProtectedResourceMetadataDocument>();
  private scanned?: RouteScan;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly modules: ModulesContainer,
    private readonly adapterHost: HttpAdapterHost,
    @Optional() private readonly mcpScopes?: McpScopes,
  ) {}

  /**
   * Stops the app when a `@ProtectedResource()` names no resource of `resources`; says once at
   * startup why there is no document, or checks that its resource is an audience.
   */
  onModuleInit(): void {
    const resources = this.options.resources ?? {};
    for (const { name, where } of this.scan().named) {
      if (Object.hasOwn(resources, name)) continue;
      const declared = Object.keys(resources);
      throw new AuthOptionsError(
        'resources',
        `@ProtectedResource('${name}') on ${where} names no resource of AuthModule's resources ` +
          `(${declared.length ? declared.join(', ') : 'none declared'}): declare it, ` +
          `resources: { ${name}: { resource: 'https://host/path' } }, or fix the name`,
      );
    }
    const metadata = this.options.protectedResource;
    if (!metadata.enabled) {
      const message = `No protected resource metadata (RFC 9728): ${metadata.why}.`;
      if (metadata.asked) this.logger.warn(message);
      else this.logger.debug(message);
      return;
    }
    if (!this.options.audiences.includes(metadata.resource)) {
      this.logger.warn(
        `protectedResource.resource ${metadata.resource} is not one of the audiences: tokens ` +
          'issued for it (aud = the resource, as MCP clients request them) are refused. Add it to audience.',
      );
    }
  }

  /**
   * Says once where clients fetch the document: its absolute URL. When the app listens at another
   * host or port than that URL's (a proxy in front, or a resource option naming another address),
   * the line names both; an app that starts listening after this hook (`app.listen()`) gets that
   * line then, next to the first.
   */
  onApplicationBootstrap(): void {
    for (const [name, { metadataUrl }] of Object.entries(this.options.resources ?? {}))
      this.logger.log(
        `Protected resource metadata (RFC 9728) of resources.${name} at ${metadataUrl}`,
      );
    const metadata = this.options.protectedResource;
    if (!metadata.enabled) return;
    const url = metadata.metadataUrl;
    const server = this.adapterHost.httpAdapter?.getHttpServer?.() as ListeningServer | undefined;
    const elsewhere = () => listensElsewhere(url, server?.address());
    const sayElsewhere = (address: string) =>
      this.logger.log(
        `Protected resource metadata (RFC 9728) at ${url} (the resource identifier's host; ` +
          `this app listens on ${address}: set protectedResource.resource to the URL clients use ` +
          'if they reach the app elsewhere)',
      );
    const now = server?.listening ? elsewhere() : undefined;
    if (now) return sayElsewhere(now);
    this.logger.log(`Protected resource metadata (RFC 9728) at ${url}`);
    if (server && !server.listening && typeof server.once === 'function') {
      server.once('listening', () => {
        const address = elsewhere();
        if (address) sayElsewhere(address);
      });
    }
  }

  /** The local paths documents are served at, the API's first (none when there is none). */
  get paths(): readonly string[] {
    const metadata = this.options.protectedResource;
    return [
      ...(metadata.enabled ? metadata.paths : []),
      ...Object.values(this.options.resources ?? {}).flatMap((resource) => resource.paths),
    ];
  }

  /** The document served at `path`, or undefined when none is. */
  documentAt(path: string): ProtectedResourceMetadataDocument | undefined {
    const metadata = this.options.protectedResource;
    if (metadata.enabled && metadata.paths.includes(path)) return this.document('', metadata);
    for (const [name, resource] of Object.entries(this.options.resources ?? {}))
      if (resource.paths.includes(path)) return this.document(name, resource);
    return undefined;
  }

  /** The document of the resource `name` (`''`: the API), built once. */
  private document(name: string, resource: DescribedResource): ProtectedResourceMetadataDocument {
    const built = this.built.get(name);
    if (built) return built;
    const scan = this.scan();
    // An MCP endpoint's operations need the scopes declared with McpScopes too (complete once the
    // app has started, before the first request builds this document).
    const operations = scan.mcp.has(name) ? (this.mcpScopes?.declaredScopes() ?? []) : [];
    const scopes = [...new Set([...(scan.scopes.get(name) ?? []), ...operations])].sort();
    const { dpop } = this.options;
    const document: ProtectedResourceMetadataDocument = {
      resource: resource.resource,
      // Every trusted issuer: a client may get its token from any of them.
      authorization_servers: [...this.options.issuers],
      ...(scopes.length > 0 ? { scopes_supported: scopes } : {}),
      bearer_methods_supported: this.options.allowQueryToken ? ['header', 'query'] : ['header'],
      ...(dpop.mode !== 'disabled'
        ? { dpop_signing_alg_values_supported: [...dpop.algorithms] }
        : {}),
      ...(dpop.mode === 'required' ? { dpop_bound_access_tokens_required: true } : {}),
      // Certificate-bound tokens are checked against the client certificate, not refused.
      ...(this.options.mtls.mode !== 'disabled'
        ? { tls_client_certificate_bound_access_tokens: true }
        : {}),
      ...(resource.resourceName !== undefined ? { resource_name: resource.resourceName } : {}),
      ...(resource.resourceDocumentation !== undefined
        ? { resource_documentation: resource.resourceDocumentation }
        : {}),
    };
    this.built.set(name, document);
    return document;
  }

  private scan(): RouteScan {
    return (this.scanned ??= scanRoutes(this.modules));
  }
}

/** What a document says of its resource. */
interface DescribedResource {
  resource: string;
  resourceName?: string;
  resourceDocumentation?: string;
}

/** What the app's decorators say, read once. */
interface RouteScan {
  /** The scopes of each resource's routes, sorted, by resource name (`''`: the API). */
  scopes: Map<string, string[]>;
  /** Every `@ProtectedResource()`, with where it is (`Class` or `Class.method`). */
  named: { name: string; where: string }[];
  /** The resources (`''`: the API) with an `@McpEndpoint()` route. */
  mcp: Set<string>;
}

/**
 * The `@Scopes()` and `@Scopes.any()` of the app, on classes and on their methods, by the resource
 * their routes belong to (`@ProtectedResource()` of the method, else of its class, else the API):
 * the decorators the guard enforces, read where Nest registered them. A class's scopes count for
 * the resource of each of its methods.
 */
export function scanRoutes(modules: ModulesContainer): RouteScan {
  const scanner = new MetadataScanner();
  const found = new Map<string, Set<string>>();
  const named: RouteScan['named'] = [];
  const mcp = new Set<string>();
  const add = (resource: string, requirements: ScopeRequirement[]) => {
    let scopes = found.get(resource);
    if (!scopes) found.set(resource, (scopes = new Set()));
    for (const { scopes: listed } of requirements) for (const scope of listed) scopes.add(scope);
  };
  const read = (target: unknown, where: string) => {
    const scopes = (Reflect.getMetadata(SCOPES_KEY, target as object) ?? []) as ScopeRequirement[];
    const resource = Reflect.getMetadata(PROTECTED_RESOURCE_KEY, target as object) as
      string | undefined;
    if (resource !== undefined) named.push({ name: resource, where });
    return { scopes, resource };
  };
  const seen = new Set<unknown>();
  for (const module of modules.values()) {
    for (const wrapper of [...module.controllers.values(), ...module.providers.values()]) {
      const type = wrapper.metatype;
      if (typeof type !== 'function' || !type.prototype || seen.has(type)) continue;
      seen.add(type);
      const ofClass = read(type, type.name);
      const prototype = type.prototype as Record<string, unknown>;
      const methods = scanner.getAllMethodNames(prototype);
      if (methods.length === 0) add(ofClass.resource ?? '', ofClass.scopes);
      for (const name of methods) {
        if (typeof prototype[name] !== 'function') continue;
        const ofMethod = read(prototype[name], `${type.name}.${name}`);
        const resource = ofMethod.resource ?? ofClass.resource ?? '';
        add(resource, [...ofClass.scopes, ...ofMethod.scopes]);
        // On the method, else on its class, as the guard reads it.
        const mcpEndpoint = (Reflect.getMetadata(MCP_ENDPOINT_KEY, prototype[name] as object) ??
          Reflect.getMetadata(MCP_ENDPOINT_KEY, type)) as boolean | undefined;
        if (mcpEndpoint === true) mcp.add(resource);
      }
    }
  }
  const scopes = new Map([...found].map(([name, set]) => [name, [...set].sort()]));
  return { scopes, named, mcp };
}

/** The part of the HTTP server (Node's `http.Server`) the startup line reads. */
interface ListeningServer {
  listening?: boolean;
  address(): AddressInfo | string | null;
  once?(event: 'listening', listener: () => void): unknown;
}

const LOOPBACK_NAMES = new Set(['localhost', '127.0.0.1', '[::1]']);

/**
 * The `host:port` the server listens on when a client of `url` would not reach it there, else
 * undefined (also for a socket path, or an address not known yet). An unspecified address (`::`,
 * `0.0.0.0`) serves every host name; a loopback one, the loopback names.
 */
function listensElsewhere(url: string, address: AddressInfo | string | null | undefined) {
  if (!address || typeof address === 'string') return undefined;
  const { hostname, port, protocol } = new URL(url);
  const urlPort = Number(port || (protocol === 'https:' ? 443 : 80));
  const any = address.address === '::' || address.address === '0.0.0.0';
  const loopback = address.address === '::1' || address.address.startsWith('127.');
  const host = isIP(address.address) === 6 ? `[${address.address}]` : address.address;
  const reached =
    address.port === urlPort &&
    (any || hostname === host || (loopback && LOOPBACK_NAMES.has(hostname)));
  return reached ? undefined : `${host}:${address.port}`;
}
