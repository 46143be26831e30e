import { checkProviderUrl } from '../issuer/url-policy';

/** RFC 9728 §3: the well-known URI suffix of protected resource metadata. */
export const PROTECTED_RESOURCE_WELL_KNOWN = '/.well-known/oauth-protected-resource';

/**
 * Why `value` cannot be a protected resource's identifier (RFC 9728 §1.2, RFC 8707 §2): an
 * absolute https URL (http only on a loopback host), without credentials, query or fragment.
 * Returns undefined when it can.
 */
export function checkResourceIdentifier(value: string): string | undefined {
  const problem = checkProviderUrl(value);
  if (problem) return problem;
  const url = new URL(value);
  if (url.username !== '' || url.password !== '') {
    return `"${url.origin}${url.pathname}" has user credentials; a resource identifier must not`;
  }
  // Checked on the raw text: the URL parser drops an empty `?` or `#`.
  const fragment = value.indexOf('#');
  if (fragment !== -1) {
    return `"${value}" has a fragment (${value.slice(fragment)}); a resource identifier has none (RFC 9728 §1.2)`;
  }
  const query = value.indexOf('?');
  if (query !== -1) {
    return `"${value}" has a query (${value.slice(query)}); use a resource identifier without one (RFC 9728 §1.2)`;
  }
  return undefined;
}

/**
 * The URL of a resource's metadata document (RFC 9728 §3.1): the well-known path inserted between
 * the host (and port) and the path, whose terminating slash is removed first.
 *
 * @example
 * resourceMetadataUrl('https://api.example.com/mcp')
 * // 'https://api.example.com/.well-known/oauth-protected-resource/mcp'
 */
export function resourceMetadataUrl(resource: string): string {
  const url = new URL(resource);
  return `${url.origin}${metadataPath(url.pathname)}`;
}

/** The path of the metadata document of a resource whose URL path is `resourcePath`. */
export function metadataPath(resourcePath: string): string {
  return `${PROTECTED_RESOURCE_WELL_KNOWN}${resourcePath.replace(/\/+$/, '')}`;
}
