import { RemoteFetchError } from '../lib/issuer/fetch-json';
import { IssuerDiscovery, type IssuerDiscoveryConfig } from '../lib/issuer/issuer-discovery';
import { KeyServer } from './support/key-server';

/** Discovery alone, against a real local provider: configured endpoints, stale metadata, checks. */
describe('IssuerDiscovery', () => {
  let ks: KeyServer;
  const limits = { timeoutMs: 1000, maxBytes: 64 * 1024 };

  beforeEach(async () => {
    ks = await KeyServer.start();
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await ks.stop();
  });

  const discovery = (config: Partial<IssuerDiscoveryConfig> = {}) =>
    new IssuerDiscovery({ issuer: ks.issuer, limits, maxAgeMs: 60_000, ...config });

  it('skips discovery when jwksUri is configured, with the endpoints configured beside it', async () => {
    const configured = discovery({
      jwksUri: 'https://keys.example.com/jwks',
      userinfoEndpoint: 'https://idp.example.com/userinfo',
      introspectionEndpoint: 'https://idp.example.com/introspect',
    });
    await expect(configured.getMetadata()).resolves.toEqual({
      issuer: ks.issuer,
      jwksUri: 'https://keys.example.com/jwks',
      userinfoEndpoint: 'https://idp.example.com/userinfo',
      introspectionEndpoint: 'https://idp.example.com/introspect',
    });
    await expect(discovery({ jwksUri: ks.jwksUri }).getMetadata()).resolves.toEqual({
      issuer: ks.issuer,
      jwksUri: ks.jwksUri,
    });
    expect(ks.fetches.discovery).toBe(0);
  });

  it('lets configured endpoints win over discovered ones', async () => {
    const metadata = await discovery({
      userinfoEndpoint: 'https://idp.example.com/userinfo',
    }).getMetadata();
    expect(metadata).toEqual({
      issuer: ks.issuer,
      jwksUri: ks.jwksUri,
      userinfoEndpoint: 'https://idp.example.com/userinfo',
      introspectionEndpoint: ks.introspectionUrl,
    });
    expect(ks.fetches.discovery).toBe(1);
  });

  it('serves stale metadata while the provider fails, retrying it at most every 30 seconds', async () => {
    const stale = discovery({ maxAgeMs: 1 });
    const first = await stale.getMetadata();
    await new Promise((resolve) => setTimeout(resolve, 5));
    ks.mode = 'error500';
    await expect(stale.getMetadata()).resolves.toEqual(first);
    expect(ks.fetches.discovery).toBe(2);
    // Within 30 s of the failure: the stale copy, without asking the provider again.
    await expect(stale.getMetadata()).resolves.toEqual(first);
    expect(ks.fetches.discovery).toBe(2);
    // 30 s later the provider is tried again, and its new answer is taken once it recovers.
    const later = Date.now() + 31_000;
    jest.spyOn(Date, 'now').mockImplementation(() => later);
    ks.mode = 'ok';
    ks.discoveryOverride = { issuer: ks.issuer, jwks_uri: 'https://keys.example.com/rotated' };
    await expect(stale.getMetadata()).resolves.toEqual({
      issuer: ks.issuer,
      jwksUri: 'https://keys.example.com/rotated',
    });
    expect(ks.fetches.discovery).toBe(3);
  });

  it.each<[string, Record<string, unknown>]>([
    ['no jwks_uri', {}],
    ['a jwks_uri that is not a string', { jwks_uri: 42 }],
    ['a jwks_uri over http to another host', { jwks_uri: 'http://keys.example.com/jwks' }],
  ])('refuses a document with %s as invalid_json', async (_, fields) => {
    ks.discoveryOverride = { issuer: ks.issuer, ...fields };
    const error = await discovery()
      .getMetadata()
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(RemoteFetchError);
    expect((error as RemoteFetchError).failure).toBe('invalid_json');
  });

  it('drops published endpoints that are not strings or not safe URLs, keeping the keys', async () => {
    ks.discoveryOverride = {
      issuer: ks.issuer,
      jwks_uri: ks.jwksUri,
      userinfo_endpoint: 'http://idp.example.com/userinfo',
      introspection_endpoint: ['https://idp.example.com/introspect'],
    };
    await expect(discovery().getMetadata()).resolves.toEqual({
      issuer: ks.issuer,
      jwksUri: ks.jwksUri,
    });
  });
});
