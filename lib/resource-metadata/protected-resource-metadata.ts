import { Injectable, Logger, type OnModuleInit } from '@nestjs/common';
import { MetadataScanner, ModulesContainer } from '@nestjs/core';
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
export class ProtectedResourceMetadata implements OnModuleInit {
  private readonly logger = new Logger('ProtectedResourceMetadata');
  private built?: ProtectedResourceMetadataDocument;

  constructor(
    @InjectAuthOptions() private readonly options: ResolvedAuthOptions,
    private readonly modules: ModulesContainer,
  ) {}

  /** Says once at startup where the document is, or why there is none. */
  onModuleInit(): void {
    const metadata = this.options.protectedResource;
    if (!metadata.enabled) {
      const message = `No protected resource metadata (RFC 9728): ${metadata.why}.`;
      if (metadata.asked) this.logger.warn(message);
      else this.logger.debug(message);
      return;
    }
    this.logger.log(`Protected resource metadata (RFC 9728) at ${metadata.metadataUrl}`);
    if (!this.options.audiences.includes(metadata.resource)) {
      this.logger.warn(
        `protectedResource.resource ${metadata.resource} is not one of the audiences: tokens ` +
          'issued for it (aud = the resource, as MCP clients request them) are refused. Add it to audience.',
      );
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
