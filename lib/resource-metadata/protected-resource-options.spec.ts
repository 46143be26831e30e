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

describe('resources option', () => {
  const mcp = 'http://localhost:3000/mcp';

  it('resolves each resource with its document at the path-suffixed URL', () => {
    const options = resolve({ resources: { mcp: { resource: mcp, resourceName: 'Orders MCP' } } });
    expect(options.resources).toEqual({
      mcp: {
        resource: mcp,
        metadataUrl: 'http://localhost:3000/.well-known/oauth-protected-resource/mcp',
        paths: ['/.well-known/oauth-protected-resource/mcp'],
        resourceName: 'Orders MCP',
      },
    });
    // The API keeps its own: audience and document unchanged.
    expect(options.audiences).toEqual(['https://api.example.com']);
    expect(options.protectedResource).toMatchObject({ resource: 'https://api.example.com' });
  });

  it('is empty by default', () => {
    expect(resolve({}).resources).toEqual({});
  });

  it.each([
    [{ mcp: { resource: 'http://mcp.example.com/mcp' } }, /'resources.mcp.resource': .* use https/],
    [{ mcp: { resource: `${mcp}?tenant=a` } }, /'resources.mcp.resource': .*has a query/],
    [{ mcp: { resource: `${mcp}#x` } }, /'resources.mcp.resource': .*has a fragment/],
    [
      { mcp: { resource: 'https://user:pw@api.example.com/mcp' } },
      /'resources.mcp.resource': .*has user credentials/,
    ],
    [{ mcp: {} }, /'resources.mcp.resource': is required/],
    [{ mcp: { resource: mcp, resourceName: '' } }, /'resources.mcp.resourceName': must be/],
    [
      { mcp: { resource: mcp, resourceDocumentation: 'x' } },
      /'resources.mcp.resourceDocumentation'/,
    ],
    [{ mcp: { resourse: mcp } }, /'resources.mcp.resourse': is not an option; did you mean/],
    [{ 'm cp': { resource: mcp } }, /'resources.m cp': has a name/],
    [{ mcp: 'http://localhost:3000/mcp' }, /'resources.mcp': must be \{ resource/],
    [
      { mcp: { resource: 'https://api.example.com' } },
      /'resources.mcp.resource': "https:\/\/api.example.com" is also the API's identifier/,
    ],
    [
      { mcp: { resource: mcp }, tools: { resource: mcp } },
      /'resources.tools.resource': .* is resources.mcp.resource too/,
    ],
    [
      { mcp: { resource: 'https://mcp.example.com' } },
      /'resources.mcp.resource': its metadata document would be served at \/.well-known\/oauth-protected-resource, as protectedResource's is/,
    ],
    [[{ resource: mcp }], /'resources': must be an object of resources by name/],
  ])('refuses %p at bootstrap', (resources, message) => {
    const call = () => resolve({ resources });
    expect(call).toThrow(AuthOptionsError);
    expect(call).toThrow(message);
  });

  it("refuses an identifier that another issuer's audience names", () => {
    const call = () =>
      resolve({
        issuerUrl: [base.issuerUrl, { url: 'https://eu.example.com/', audience: mcp }],
        resources: { mcp: { resource: mcp } },
      });
    expect(call).toThrow(/'resources.mcp.resource': .* is also the API's identifier/);
  });

  it('refuses more than 20 resources', () => {
    const resources = Object.fromEntries(
      Array.from({ length: 21 }, (_, i) => [`r${i}`, { resource: `${mcp}/${i}` }]),
    );
    expect(() => resolve({ resources })).toThrow(/'resources': declares 21 resources; at most 20/);
  });
});
