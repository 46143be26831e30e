import type { AuthModuleOptions } from '../lib';

/**
 * The sample's audiences and RFC 9728 resource from its environment: `AUTH_AUDIENCE` (several
 * separated by commas), and `AUTH_RESOURCE_URL`, the URL clients call the API at. That URL is the
 * metadata document's `resource`, every challenge's `resource_metadata` is derived from it, and
 * tokens issued for it (RFC 8707, as MCP clients request them) are accepted beside the audiences'.
 * Without it, the resource is the first audience (the library's default): right only when the API
 * identifier is the API's URL.
 */
export function sampleResourceOptions(
  read: (name: string) => string | undefined,
): Pick<AuthModuleOptions, 'audience' | 'protectedResource'> {
  const audiences = (read('AUTH_AUDIENCE') ?? '')
    .split(',')
    .map((audience) => audience.trim())
    .filter((audience) => audience !== '');
  if (audiences.length === 0) throw new Error('AUTH_AUDIENCE is required.');
  const resource = read('AUTH_RESOURCE_URL')?.trim();
  if (!resource) return { audience: audiences };
  return {
    audience: audiences.includes(resource) ? audiences : [...audiences, resource],
    protectedResource: { resource },
  };
}
