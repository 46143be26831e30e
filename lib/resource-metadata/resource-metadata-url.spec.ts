import {
  checkResourceIdentifier,
  PROTECTED_RESOURCE_WELL_KNOWN,
  resourceMetadataUrl,
} from './resource-metadata-url';

describe('resourceMetadataUrl (RFC 9728 §3.1)', () => {
  it.each([
    ['https://api.example.com', 'https://api.example.com/.well-known/oauth-protected-resource'],
    ['https://api.example.com/', 'https://api.example.com/.well-known/oauth-protected-resource'],
    [
      'https://api.example.com/mcp',
      'https://api.example.com/.well-known/oauth-protected-resource/mcp',
    ],
    [
      'https://api.example.com/tenant/mcp/',
      'https://api.example.com/.well-known/oauth-protected-resource/tenant/mcp',
    ],
    [
      'https://api.example.com:8443/mcp',
      'https://api.example.com:8443/.well-known/oauth-protected-resource/mcp',
    ],
    // The default port is the URL's own: https://host:443 is https://host.
    [
      'https://api.example.com:443/',
      'https://api.example.com/.well-known/oauth-protected-resource',
    ],
    ['http://localhost:3000/mcp', 'http://localhost:3000/.well-known/oauth-protected-resource/mcp'],
    ['http://127.0.0.1:8080', 'http://127.0.0.1:8080/.well-known/oauth-protected-resource'],
    ['http://[::1]:8080/a', 'http://[::1]:8080/.well-known/oauth-protected-resource/a'],
    [
      'HTTPS://API.Example.com/MCP',
      'https://api.example.com/.well-known/oauth-protected-resource/MCP',
    ],
  ])('%s → %s', (resource, expected) => {
    expect(resourceMetadataUrl(resource)).toBe(expected);
  });

  it('inserts the well-known path between the host and the path', () => {
    expect(PROTECTED_RESOURCE_WELL_KNOWN).toBe('/.well-known/oauth-protected-resource');
  });
});

describe('checkResourceIdentifier', () => {
  it.each([
    'https://api.example.com',
    'https://api.example.com/mcp',
    'http://localhost:3000/mcp',
    'http://127.0.0.1:1',
  ])('accepts %s', (value) => {
    expect(checkResourceIdentifier(value)).toBeUndefined();
  });

  it.each([
    ['https://api.example.com/mcp?tenant=1', /has a query \(\?tenant=1\)/],
    ['https://api.example.com/mcp?', /has a query/],
    ['https://api.example.com/mcp#top', /has a fragment \(#top\)/],
    ['https://api.example.com/#', /has a fragment/],
    ['my-api', /is not an absolute URL/],
    ['urn:example:api', /must be an https URL/],
    ['http://api.example.com', /uses http on a host that is not loopback/],
    ['https://user:pw@api.example.com', /has user credentials/],
    ['https://api.example.com/ mcp', /white space/],
  ])('refuses %s', (value, problem) => {
    expect(checkResourceIdentifier(value)).toMatch(problem);
  });
});
