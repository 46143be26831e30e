import type { AuthModuleOptions } from '../options/auth-options.interface';
import { AuthOptionsError } from '../errors/auth-options-error';
import { resolveAuthOptions } from '../options/resolve-auth-options';

const base = { issuerUrl: 'https://tenant.auth0.com/', audience: 'https://api.example.com' };

function resolve(overrides: Record<string, unknown>) {
  return resolveAuthOptions({ ...base, ...overrides } as unknown as AuthModuleOptions);
}

describe('protectedResource option', () => {
  it('defaults to the first audience, with resource_metadata for challenges', () => {
    const options = resolve({ audience: ['https://api.example.com/v1/', 'other'] });
    expect(options.protectedResource).toEqual({
      enabled: true,
      resource: 'https://api.example.com/v1/',
      metadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource/v1',
      paths: ['/.well-known/oauth-protected-resource/v1', '/.well-known/oauth-protected-resource'],
    });
    expect(options.resourceMetadataUrl).toBe(
      'https://api.example.com/.well-known/oauth-protected-resource/v1',
    );
  });

  it.each([
    ['my-api', /"my-api" is not an absolute URL/],
    ['urn:example:api', /must be an https URL/],
    ['https://api.example.com/#v2', /has a fragment/],
  ])('is off (no resource_metadata) when the first audience is %s', (audience, why) => {
    const options = resolve({ audience });
    expect(options.resourceMetadataUrl).toBeUndefined();
    expect(options.protectedResource).toEqual({
      enabled: false,
      why: expect.stringMatching(why),
      asked: false,
    });
  });

  it('is off when false', () => {
    const options = resolve({ protectedResource: false });
    expect(options.protectedResource.enabled).toBe(false);
    expect(options.resourceMetadataUrl).toBeUndefined();
  });

  it('takes a resource, a name and a documentation URL', () => {
    const options = resolve({
      protectedResource: {
        resource: 'http://localhost:3000/mcp',
        resourceName: 'Orders MCP',
        resourceDocumentation: 'https://docs.example.com',
      },
    });
    expect(options.protectedResource).toMatchObject({
      resource: 'http://localhost:3000/mcp',
      resourceName: 'Orders MCP',
      resourceDocumentation: 'https://docs.example.com',
    });
    expect(options.resourceMetadataUrl).toBe(
      'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
    );
  });

  it.each([
    [
      { resource: 'https://mcp.example.com/mcp?tenant=a' },
      'AuthModule option \'protectedResource.resource\': "https://mcp.example.com/mcp?tenant=a" has a query (?tenant=a); use a resource identifier without one (RFC 9728 §1.2).',
    ],
    [
      { resource: 'https://mcp.example.com/mcp#x' },
      'AuthModule option \'protectedResource.resource\': "https://mcp.example.com/mcp#x" has a fragment (#x); a resource identifier has none (RFC 9728 §1.2).',
    ],
    [
      { resource: 'mcp-server' },
      'AuthModule option \'protectedResource.resource\': "mcp-server" is not an absolute URL.',
    ],
    [
      { resource: 'http://mcp.example.com' },
      'AuthModule option \'protectedResource.resource\': "http://mcp.example.com" uses http on a host that is not loopback (127.0.0.1, localhost, ::1); use https.',
    ],
    [{ resourceName: 'Bad\nname' }, /'protectedResource.resourceName': must be printable ASCII/],
    [{ resourceDocumentation: 'ftp://docs' }, /'protectedResource.resourceDocumentation'/],
    [
      { resourse: 'https://x' },
      /'protectedResource.resourse': is not an option; did you mean 'protectedResource.resource'\?/,
    ],
    ['yes', /'protectedResource': must be false or/],
  ])('refuses %p at bootstrap', (protectedResource, message) => {
    const call = () => resolve({ protectedResource });
    expect(call).toThrow(AuthOptionsError);
    expect(call).toThrow(message);
  });
});
