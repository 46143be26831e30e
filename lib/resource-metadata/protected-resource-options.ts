import { AuthOptionsError, refuseUnknownKeys } from '../errors/auth-options-error';
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
  checkDescriptiveFields(options, 'protectedResource');
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

/** Checks `resourceName` and `resourceDocumentation` of the resource options at `path`. */
function checkDescriptiveFields(
  { resourceName, resourceDocumentation }: Omit<ProtectedResourceOptions, 'resource'>,
  path: string,
): void {
  if (
    resourceName !== undefined &&
    (typeof resourceName !== 'string' || !/^[\x20-\x7e]{1,200}$/.test(resourceName))
  ) {
    throw new AuthOptionsError(
      `${path}.resourceName`,
      'must be printable ASCII, 1 to 200 characters',
    );
  }
  if (resourceDocumentation !== undefined) {
    const problem =
      typeof resourceDocumentation === 'string'
        ? checkProviderUrl(resourceDocumentation)
        : 'must be a string';
    if (problem) throw new AuthOptionsError(`${path}.resourceDocumentation`, problem);
  }
}

/**
 * A protected resource the app serves beside its API (the module's `audience`), with an audience
 * of its own: an MCP endpoint, whose resource identifier is its own URL. Routes join it with
 * `@ProtectedResource(name)`.
 */
export interface ResourceOptions {
  /**
   * The resource identifier: the URL clients call it at (`https://api.example.com/mcp`). Tokens of
   * its routes must name it in `aud`, and only they: the module's `audience` is not accepted there,
   * nor is this identifier at the API's routes. An https URL (http only on a loopback host) without
   * query, fragment or credentials. Its RFC 9728 document is served at the path-suffixed
   * well-known URL (`/.well-known/oauth-protected-resource/mcp`).
   */
  resource: string;
  /**
   * `resource_name` of its document.
   * @default none
   */
  resourceName?: string;
  /**
   * `resource_documentation` of its document: a URL of its documentation for developers.
   * @default none
   */
  resourceDocumentation?: string;
}

/** A resource of `resources`, as resolved at bootstrap. */
export interface ResolvedResource {
  /** Its identifier: what its tokens' `aud` must contain. */
  resource: string;
  /** Its document's absolute URL, sent as `resource_metadata` in its routes' challenges. */
  metadataUrl: string;
  /** The local path its document is served at (the path-suffixed one). */
  paths: string[];
  resourceName?: string;
  resourceDocumentation?: string;
}

/** The option names of each entry of `resources`, for the unknown-key check. */
const RESOURCE_OPTION_NAMES = {
  resource: true,
  resourceName: true,
  resourceDocumentation: true,
} satisfies Record<keyof ResourceOptions, true>;

/** What a resource's name may be (`@ProtectedResource()` applies the same rule). */
const RESOURCE_NAME = /^[A-Za-z][\w-]{0,63}$/;
/** Resources `resources` may declare at most: each is a document and an audience to keep apart. */
const MAX_RESOURCES = 20;

/**
 * Resolves `resources`: each identifier must be a usable resource identifier (the checks of
 * `protectedResource.resource`), none may be an audience of the module (a token for one would then
 * pass at the other) nor another resource's, and no two documents may share a path.
 */
export function resolveResources(
  value: unknown,
  audiences: readonly string[],
  main: ResolvedProtectedResource,
): Record<string, ResolvedResource> {
  if (value === undefined) return {};
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new AuthOptionsError(
      'resources',
      "must be an object of resources by name, such as { mcp: { resource: 'https://api.example.com/mcp' } }",
    );
  }
  const entries = Object.entries(value as Record<string, unknown>);
  if (entries.length > MAX_RESOURCES) {
    throw new AuthOptionsError(
      'resources',
      `declares ${entries.length} resources; at most ${MAX_RESOURCES}`,
    );
  }
  const resolved: Record<string, ResolvedResource> = {};
  const taken = new Map<string, string>();
  for (const path of main.enabled ? main.paths : []) taken.set(path, 'protectedResource');
  for (const [name, entry] of entries) {
    const path = `resources.${name}`;
    if (!RESOURCE_NAME.test(name)) {
      throw new AuthOptionsError(
        path,
        'has a name that is not letters, digits, _ and - (starting with a letter)',
      );
    }
    if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) {
      throw new AuthOptionsError(path, 'must be { resource, resourceName, resourceDocumentation }');
    }
    refuseUnknownKeys(entry, RESOURCE_OPTION_NAMES, `${path}.`);
    const options = entry as ResourceOptions;
    if (typeof options.resource !== 'string') {
      throw new AuthOptionsError(
        `${path}.resource`,
        "is required: the resource's URL, its identifier",
      );
    }
    const problem = checkResourceIdentifier(options.resource);
    if (problem) throw new AuthOptionsError(`${path}.resource`, problem);
    const { resource } = options;
    if (audiences.includes(resource) || (main.enabled && main.resource === resource)) {
      throw new AuthOptionsError(
        `${path}.resource`,
        `"${resource}" is also the API's identifier (audience or protectedResource.resource): a ` +
          "token for one would pass at the other's routes. Give each resource its own identifier",
      );
    }
    const other = Object.keys(resolved).find((n) => resolved[n].resource === resource);
    if (other !== undefined) {
      throw new AuthOptionsError(
        `${path}.resource`,
        `"${resource}" is resources.${other}.resource too`,
      );
    }
    checkDescriptiveFields(options, path);
    const documentPath = metadataPath(new URL(resource).pathname);
    const clash = taken.get(documentPath);
    if (clash !== undefined) {
      throw new AuthOptionsError(
        `${path}.resource`,
        `its metadata document would be served at ${documentPath}, as ${clash}'s is: give the ` +
          'resource a path of its own (https://host/mcp)',
      );
    }
    taken.set(documentPath, path);
    resolved[name] = {
      resource,
      metadataUrl: resourceMetadataUrl(resource),
      paths: [documentPath],
      ...(options.resourceName !== undefined ? { resourceName: options.resourceName } : {}),
      ...(options.resourceDocumentation !== undefined
        ? { resourceDocumentation: options.resourceDocumentation }
        : {}),
    };
  }
  return resolved;
}
