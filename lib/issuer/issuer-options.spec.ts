import { optionError, resolverOf } from '../../test/support/auth-options';

const A = 'https://tenant.auth0.com/';
const B = 'https://login.example.com/';
const base = { issuerUrl: [A, B], audience: 'https://api.example.com' };

const resolve = resolverOf(base);
const message = (fn: () => unknown) => optionError(fn).message;

describe('issuerUrl as a list', () => {
  it('resolves each issuer with the module audience unless it has its own', () => {
    const resolved = resolve({
      issuerUrl: [A, { url: B, audience: ['https://api-b'], jwksUri: `${B}jwks` }],
    });
    expect(resolved.issuer).toBe(A);
    expect(resolved.issuers).toEqual([A, B]);
    expect(resolved.perIssuer).toEqual([
      { issuer: A, audiences: ['https://api.example.com'] },
      { issuer: B, audiences: ['https://api-b'], jwksUri: `${B}jwks` },
    ]);
  });

  it('treats a list of one as that issuer, with the top-level jwksUri', () => {
    const resolved = resolve({
      issuerUrl: [A],
      jwksUri: `${A}jwks`,
      opaqueTokens: 'userinfo',
      userinfoEndpoint: `${A}userinfo`,
    });
    expect(resolved.perIssuer).toEqual([
      { issuer: A, audiences: ['https://api.example.com'], jwksUri: `${A}jwks` },
    ]);
  });

  it.each<[string, Record<string, unknown>, RegExp]>([
    [
      'an empty list',
      { issuerUrl: [] },
      /'issuerUrl': must list from 1 to 20 issuers \(it lists 0\)/,
    ],
    [
      'too many',
      { issuerUrl: Array.from({ length: 21 }, (_, i) => `https://t${i}.example.com/`) },
      /from 1 to 20/,
    ],
    [
      'a duplicate',
      { issuerUrl: [A, B, A] },
      /'issuerUrl\[2\]': "https:\/\/tenant.auth0.com\/" is listed twice/,
    ],
    ['an empty entry', { issuerUrl: [A, ''] }, /'issuerUrl\[1\]': must not be empty/],
    [
      'plain http',
      { issuerUrl: [A, 'http://login.example.com/'] },
      /'issuerUrl\[1\]': .*use https/,
    ],
    [
      'a number',
      { issuerUrl: [A, 7] },
      /'issuerUrl\[1\]': must be an issuer URL or \{ url, audience\?, jwksUri\? \}/,
    ],
    [
      'an entry without url',
      { issuerUrl: [A, { audience: 'x' }] },
      /'issuerUrl\[1\]\.url': is required/,
    ],
    [
      'a misspelt key',
      { issuerUrl: [A, { url: B, audiance: 'x' }] },
      /'issuerUrl\[1\]\.audiance': is not an option; did you mean 'issuerUrl\[1\]\.audience'\?/,
    ],
    [
      'an empty audience',
      { issuerUrl: [A, { url: B, audience: [] }] },
      /'issuerUrl\[1\]\.audience': must be a string or an array/,
    ],
    [
      'a bad jwksUri',
      { issuerUrl: [A, { url: B, jwksUri: 'ftp://x' }] },
      /'issuerUrl\[1\]\.jwksUri': .*https/,
    ],
    [
      'one jwksUri for several',
      { jwksUri: `${A}jwks` },
      /'jwksUri': names one key set, but issuerUrl lists 2 issuers .*issuerUrl: \[\{ url, jwksUri \}\]/,
    ],
    [
      'one userinfoEndpoint for several',
      { userinfoEndpoint: `${A}userinfo` },
      /'userinfoEndpoint': names one provider's endpoint/,
    ],
    [
      'opaque tokens with several',
      { opaqueTokens: 'userinfo' },
      /'opaqueTokens': needs exactly one issuer, but issuerUrl lists 2 issuers \(https:\/\/tenant.auth0.com\/, https:\/\/login.example.com\/\)/,
    ],
    [
      'introspection with several',
      { introspection: { clientId: 'a', clientSecret: 'b' } },
      /'introspection': needs exactly one issuer/,
    ],
    [
      'jwksUri twice for one',
      { issuerUrl: [{ url: A, jwksUri: `${A}k` }], jwksUri: `${A}jwks` },
      /'jwksUri': is set twice/,
    ],
  ])('refuses %s, naming the option', (_name, overrides, expected) => {
    expect(message(() => resolve(overrides))).toMatch(expected);
  });
});
