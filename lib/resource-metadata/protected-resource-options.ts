import { AuthOptionsError } from '../errors/auth-options-error';
import { checkProviderUrl } from '../issuer/url-policy';
import {
  checkResourceIdentifier,
  metadataPath,
  resourceMetadataUrl,
} from './resource-metadata-url';

/**
 * RFC 9728 protected resource metadata: the document served at
 * `/.well-known/oauth-protected-resource` (and its path-suffixed form), which challenges point to
 * with `resource_metadata`. MCP clients require it.
 */
export interface ProtectedResourceOptions {
  /**
   * The resource identifier: the URL clients call the API at (for an MCP server, the server's own
   * URL, such as `https://mcp.example.com/mcp`). It is the document's `resource`, and the
   * challenges' `resource_metadata` is derived from it (RFC 9728 §3.1). An https URL (http only on
   * a loopback host) without query or fragment. Tokens must be issued for it: list it in `audience`.
   * @default the first `audience`, when it is such a URL; otherwise no document is served
   */
  resource?: string;
  /**
   * `resource_name`: a human-readable name of the API.
   * @default none
   */
  resourceName?: string;
  /**
   * `resource_documentation`: a URL of the API's documentation for developers.
   * @default none
   */
  resourceDocumentation?: string;
}

/** The protected resource metadata, as resolved at bootstrap. */
export type ResolvedProtectedResource =
  | {
      enabled: true;
      resource: string;
      /** The document's absolute URL, sent as `resource_metadata` in challenges. */
      metadataUrl: string;
      /** The local paths the document is served at: the derived one, and the root one. */
      paths: string[];
      resourceName?: string;
      resourceDocumentation?: string;
    }
  | {
      enabled: false;
      /** Why no document is served, for the startup log. */
      why: string;
      /** Whether the application asked for the document (then the startup log is a warning). */
      asked: boolean;
    };

/** The option names of `protectedResource`, for the unknown-key check. */
export const PROTECTED_RESOURCE_OPTION_NAMES = {
  resource: true,
  resourceName: true,
  resourceDocumentation: true,
} satisfies Record<keyof ProtectedResourceOptions, true>;

/**
 * Resolves `protectedResource` against the audiences: an explicit `resource` must be a usable
 * identifier (else an `AuthOptionsError`); the default (the first audience) turns the document off when it is
 * not one, since many APIs' identifiers are not URLs.
 */
export function resolveProtectedResource(
  value: false | ProtectedResourceOptions | undefined,
  audiences: readonly string[],
): ResolvedProtectedResource {
  if (value === false) return { enabled: false, why: 'protectedResource is false', asked: false };
  if (value !== undefined && (typeof value !== 'object' || value === null)) {
    throw new AuthOptionsError(
      'protectedResource',
      'must be false or { resource, resourceName, resourceDocumentation }',
    );
  }
  const options = value ?? {};
  let resource: string;
  if (options.resource !== undefined) {
    if (typeof options.resource !== 'string')
      throw new AuthOptionsError('protectedResource.resource', 'must be a string');
    const problem = checkResourceIdentifier(options.resource);
    if (problem) throw new AuthOptionsError('protectedResource.resource', problem);
    resource = options.resource;
  } else {
    resource = audiences[0];
    const problem = checkResourceIdentifier(resource);
    if (problem) {
      return {
        enabled: false,
        why:
          `the first audience cannot be the resource identifier: ${problem}. Set ` +
          "protectedResource.resource to the API's URL to publish it, or protectedResource: false",
        asked: value !== undefined,
      };
    }
  }
  const { resourceName, resourceDocumentation } = options;
  if (
    resourceName !== undefined &&
    (typeof resourceName !== 'string' || !/^[\x20-\x7e]{1,200}$/.test(resourceName))
  ) {
    throw new AuthOptionsError(
      'protectedResource.resourceName',
      'must be printable ASCII, 1 to 200 characters',
    );
  }
  if (resourceDocumentation !== undefined) {
    const problem =
      typeof resourceDocumentation === 'string'
        ? checkProviderUrl(resourceDocumentation)
        : 'must be a string';
    if (problem) throw new AuthOptionsError('protectedResource.resourceDocumentation', problem);
  }
  const derived = metadataPath(new URL(resource).pathname);
  const root = metadataPath('/');
  return {
    enabled: true,
    resource,
    metadataUrl: resourceMetadataUrl(resource),
    paths: derived === root ? [root] : [derived, root],
    ...(resourceName !== undefined ? { resourceName } : {}),
    ...(resourceDocumentation !== undefined ? { resourceDocumentation } : {}),
  };
}
