import { isIP, type AddressInfo } from 'node:net';
import { Injectable, Logger, type OnApplicationBootstrap, type OnModuleInit } from '@nestjs/common';
import { HttpAdapterHost, MetadataScanner, ModulesContainer } from '@nestjs/core';
import { SCOPES_KEY } from '../auth.constants';
import { InjectAuthOptions } from '../decorators/inject-auth-options.decorator';
import type { ResolvedAuthOptions } from '../options/resolve-auth-options';
import type { ScopeRequirement } from '../token/scopes';

/** The RFC 9728 §2 document the library serves. */
export interface ProtectedResourceMetadataDocument {
  resource: string;
  authorization_servers: string[];
  /** Every scope of the app's `@Scopes()` and `@Scopes.any()`, sorted; absent when there is none. */
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
 * The protected resource metadata document of the app, built once from the options and the scopes
 * the app's decorators require (read from every controller and provider: routes, resolvers and
 * gateways).
 */
@Injectable()
export class ProtectedResourceMetadata implements OnModuleInit, OnApplicationBootstrap {
  private readonly logger = new Logger('ProtectedResourceMetadata');
  private built?: ProtectedResourceMetadataDocument;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly modules: ModulesContainer,
    private readonly adapterHost: HttpAdapterHost,
  ) {}

  /** Says once at startup why there is no document, or checks that its resource is an audience. */
  onModuleInit(): void {
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

  /** The local paths the document is served at (none when it is off). */
  get paths(): readonly string[] {
    const metadata = this.options.protectedResource;
    return metadata.enabled ? metadata.paths : [];
  }

  /** The document, or undefined when the app publishes none. */
  document(): ProtectedResourceMetadataDocument | undefined {
    const metadata = this.options.protectedResource;
    if (!metadata.enabled) return undefined;
    if (this.built) return this.built;
    const scopes = gatherScopes(this.modules);
    const { dpop } = this.options;
    this.built = {
      resource: metadata.resource,
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
      ...(metadata.resourceName !== undefined ? { resource_name: metadata.resourceName } : {}),
      ...(metadata.resourceDocumentation !== undefined
        ? { resource_documentation: metadata.resourceDocumentation }
        : {}),
    };
    return this.built;
  }
}

/**
 * The scopes of every `@Scopes()` and `@Scopes.any()` in the app, on classes and on their methods,
 * sorted: the decorators the guard enforces, read where Nest registered them.
 */
export function gatherScopes(modules: ModulesContainer): string[] {
  const scanner = new MetadataScanner();
  const found = new Set<string>();
  const add = (target: unknown) => {
    if (typeof target !== 'function') return;
    const requirements = Reflect.getMetadata(SCOPES_KEY, target) as ScopeRequirement[] | undefined;
    for (const { scopes } of requirements ?? []) for (const scope of scopes) found.add(scope);
  };
  const seen = new Set<unknown>();
  for (const module of modules.values()) {
    for (const wrapper of [...module.controllers.values(), ...module.providers.values()]) {
      const type = wrapper.metatype;
      if (typeof type !== 'function' || !type.prototype || seen.has(type)) continue;
      seen.add(type);
      add(type);
      const prototype = type.prototype as Record<string, unknown>;
      for (const name of scanner.getAllMethodNames(prototype)) add(prototype[name]);
    }
  }
  return [...found].sort();
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
