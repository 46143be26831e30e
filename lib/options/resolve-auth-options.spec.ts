import { defaultRpcAuthorization } from '../token/rpc-authorization';
import { optionError, resolverOf } from '../../test/support/auth-options';
import type { AuthModuleOptions } from './auth-options.interface';
import { resolveAuthOptions } from './resolve-auth-options';

const base = { issuerUrl: 'https://tenant.auth0.com/', audience: 'https://api.example.com' };

/** Resolves `base` with overrides of any type, as a misconfigured app would pass them. */
const resolve = resolverOf(base);

describe('resolveAuthOptions', () => {
  it('fills in the defaults', () => {
    expect(resolveAuthOptions(base)).toStrictEqual({
      issuer: 'https://tenant.auth0.com/',
      issuers: ['https://tenant.auth0.com/'],
      perIssuer: [{ issuer: 'https://tenant.auth0.com/', audiences: ['https://api.example.com'] }],
      keySource: 'jwks',
      audiences: ['https://api.example.com'],
      clockToleranceSeconds: 5,
      allowQueryToken: false,
      strict: false,
      realm: 'api',
      maxTokenLength: 8192,
      httpTimeoutMs: 5000,
      jwksCooldownMs: 30_000,
      cache: {
        ttlMs: 300_000,
        failureTtlMs: 10_000,
        maxEntries: 10_000,
        maxBytes: 50 * 1024 * 1024,
        storeTimeoutMs: 150,
      },
      upstream: {
        opaqueTokens: { maxConcurrent: 20, maxPerSecond: 50 },
        profiles: { maxConcurrent: 20, maxPerSecond: 50 },
      },
      verifiedTokenCache: { maxEntries: 100_000, maxBytes: 64 * 1024 * 1024 },
      rpcAuthorization: defaultRpcAuthorization,
      protectedResource: {
        enabled: true,
        resource: 'https://api.example.com',
        metadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource',
        paths: ['/.well-known/oauth-protected-resource'],
      },
      resourceMetadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource',
      resources: {},
      claimRules: [],
      dpop: {
        mode: 'allowed',
        algorithms: ['ES256', 'ES384', 'EdDSA', 'Ed25519', 'PS256', 'RS256'],
        iatWindowSeconds: 300,
        nonce: false,
        trustForwardedHeaders: false,
        maxReplayEntries: 100_000,
      },
      mtls: { mode: 'allowed' },
    });
  });

  it('keeps every option that is set', () => {
    const audience = ['https://api.example.com', 'https://legacy.example.com'];
    const algorithms = ['RS256', 'ES256'];
    const rpcAuthorization = () => undefined;
    const resolved = resolveAuthOptions({
      ...base,
      audience,
      jwksUri: 'https://tenant.auth0.com/.well-known/jwks.json',
      algorithms,
      clockTolerance: 0,
      allowQueryToken: true,
      strict: true,
      realm: 'orders',
      maxTokenLength: 256,
      httpTimeoutMs: 100,
      jwksCooldownSeconds: 60,
      opaqueTokens: 'introspection',
      userinfoEndpoint: 'https://tenant.auth0.com/userinfo',
      introspection: {
        endpoint: 'https://tenant.auth0.com/introspect',
        clientId: 'api',
        clientSecret: 's',
      },
      cache: {
        ttlSeconds: 60,
        failureTtlSeconds: 0,
        maxEntries: 5,
        maxBytes: 2048,
        storeTimeoutMs: 20,
      },
      upstream: {
        opaqueTokens: { maxConcurrent: 2, maxPerSecond: 3 },
        profiles: { maxConcurrent: 4, maxPerSecond: 5 },
      },
      verifiedTokenCache: { maxEntries: 7, maxBytes: 4096 },
      rpcAuthorization,
      protectedResource: { resource: 'https://api.example.com/orders', resourceName: 'Orders' },
      dpop: {
        mode: 'required',
        algorithms: ['ES256'],
        iatWindowSeconds: 60,
        nonce: { secret: 'n'.repeat(32), rotateSeconds: 30 },
        publicBaseUrl: 'https://api.example.com/v1/',
        trustForwardedHeaders: true,
        maxReplayEntries: 1000,
      },
      mtls: { mode: 'disabled', certificateHeader: { name: 'Client-Cert', encoding: 'rfc9440' } },
    });
    expect(resolved).toStrictEqual({
      issuer: 'https://tenant.auth0.com/',
      issuers: ['https://tenant.auth0.com/'],
      perIssuer: [
        {
          issuer: 'https://tenant.auth0.com/',
          audiences: audience,
          jwksUri: 'https://tenant.auth0.com/.well-known/jwks.json',
        },
      ],
      keySource: 'jwks',
      audiences: audience,
      jwksUri: 'https://tenant.auth0.com/.well-known/jwks.json',
      algorithms,
      clockToleranceSeconds: 0,
      allowQueryToken: true,
      strict: true,
      realm: 'orders',
      maxTokenLength: 256,
      httpTimeoutMs: 100,
      jwksCooldownMs: 60_000,
      opaqueTokens: 'introspection',
      userinfoEndpoint: 'https://tenant.auth0.com/userinfo',
      introspection: { endpoint: 'https://tenant.auth0.com/introspect', clientId: 'api' },
      cache: { ttlMs: 60_000, failureTtlMs: 0, maxEntries: 5, maxBytes: 2048, storeTimeoutMs: 20 },
      upstream: {
        opaqueTokens: { maxConcurrent: 2, maxPerSecond: 3 },
        profiles: { maxConcurrent: 4, maxPerSecond: 5 },
      },
      verifiedTokenCache: { maxEntries: 7, maxBytes: 4096 },
      rpcAuthorization,
      protectedResource: {
        enabled: true,
        resource: 'https://api.example.com/orders',
        metadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource/orders',
        paths: [
          '/.well-known/oauth-protected-resource/orders',
          '/.well-known/oauth-protected-resource',
        ],
        resourceName: 'Orders',
      },
      resourceMetadataUrl: 'https://api.example.com/.well-known/oauth-protected-resource/orders',
      resources: {},
      claimRules: [],
      dpop: {
        mode: 'required',
        algorithms: ['ES256'],
        iatWindowSeconds: 60,
        nonce: { rotateSeconds: 30 },
        publicBaseUrl: 'https://api.example.com/v1',
        trustForwardedHeaders: true,
        maxReplayEntries: 1000,
      },
      mtls: { mode: 'disabled', certificateHeader: { name: 'client-cert', encoding: 'rfc9440' } },
    });
    expect(JSON.stringify(resolved)).not.toContain('nnnn');
    expect(resolved.audiences).not.toBe(audience);
    expect(resolved.algorithms).not.toBe(algorithms);
  });

  it.each(['http://127.0.0.1:4000/', 'http://localhost:4000/', 'http://[::1]:4000/'])(
    'allows the loopback http issuer %p',
    (issuerUrl) => {
      expect(resolve({ issuerUrl }).issuer).toBe(issuerUrl);
    },
  );

  it.each([
    ['clockTolerance', 300],
    ['maxTokenLength', 65_536],
    ['httpTimeoutMs', 60_000],
    ['jwksCooldownSeconds', 3600],
  ])('accepts %s at its upper bound %p', (option, value) => {
    expect(() => resolve({ [option]: value })).not.toThrow();
  });

  it('refuses a missing options object', () => {
    expect(
      optionError(() => resolveAuthOptions(null as unknown as AuthModuleOptions)).message,
    ).toContain("'options'");
  });

  it.each<[string, unknown]>([
    ['issuerUrl', undefined],
    ['issuerUrl', ''],
    ['issuerUrl', 42],
    ['issuerUrl', 'tenant.auth0.com'],
    ['issuerUrl', 'http://tenant.auth0.com/'],
    ['issuerUrl', 'http://localhost.attacker.example/'],
    ['jwksUri', 42],
    ['jwksUri', ''],
    ['jwksUri', 'http://tenant.auth0.com/.well-known/jwks.json'],
    ['audience', undefined],
    ['audience', ''],
    ['audience', []],
    ['audience', ['https://api.example.com', '']],
    ['audience', [42]],
    ['algorithms', []],
    ['algorithms', 'RS256'],
    ['algorithms', ['HS256']],
    ['algorithms', ['none']],
    ['algorithms', ['RS256', 'rs256']],
    ['clockTolerance', -1],
    ['clockTolerance', 301],
    ['clockTolerance', '5'],
    ['clockTolerance', Number.NaN],
    ['clockTolerance', Number.POSITIVE_INFINITY],
    ['allowQueryToken', 'true'],
    ['strict', 1],
    ['realm', ''],
    ['realm', 'a"b'],
    ['realm', 'a\\b'],
    ['realm', 'café'],
    ['realm', 'api scope=admin'],
    ['maxTokenLength', 255],
    ['maxTokenLength', 65_537],
    ['httpTimeoutMs', 99],
    ['httpTimeoutMs', 60_001],
    ['jwksCooldownSeconds', 0],
    ['jwksCooldownSeconds', 3601],
  ])('refuses %s = %p, naming the option', (option, value) => {
    const error = optionError(() => resolve({ [option]: value }));
    expect(error.message).toContain(`AuthModule option '${option}'`);
  });
});

describe('resolveAuthOptions with option names that are not options', () => {
  it.each<[Record<string, unknown>, string, string]>([
    [{ audiance: 'x' }, 'audiance', 'audience'],
    [{ issuer: 'x' }, 'issuer', 'issuerUrl'],
    [{ clockToleranceSeconds: 5 }, 'clockToleranceSeconds', 'clockTolerance'],
    [{ jwksUrl: 'x' }, 'jwksUrl', 'jwksUri'],
    [{ AllowQueryToken: true }, 'AllowQueryToken', 'allowQueryToken'],
    [{ cache: { ttl: 5 } }, 'cache.ttl', 'cache.ttlSeconds'],
    [{ cache: { maxEntry: 5 } }, 'cache.maxEntry', 'cache.maxEntries'],
    [{ upstream: { profile: {} } }, 'upstream.profile', 'upstream.profiles'],
    [
      { upstream: { opaqueTokens: { maxConcurent: 1 } } },
      'upstream.opaqueTokens.maxConcurent',
      'upstream.opaqueTokens.maxConcurrent',
    ],
    [
      {
        opaqueTokens: 'introspection',
        introspection: { clientId: 'a', clientSecret: 'b', endpont: 'https://tenant.auth0.com/i' },
      },
      'introspection.endpont',
      'introspection.endpoint',
    ],
    [
      { verifiedTokenCache: { maxBites: 2048 } },
      'verifiedTokenCache.maxBites',
      'verifiedTokenCache.maxBytes',
    ],
  ])('refuses %j at bootstrap, naming the nearest option', (overrides, option, nearest) => {
    const { message } = optionError(() => resolve(overrides));
    expect(message).toBe(
      `AuthModule option '${option}': is not an option; did you mean '${nearest}'?`,
    );
  });

  it('lists the options when no name is near', () => {
    const { message } = optionError(() => resolve({ colour: 'blue' }));
    expect(message).toContain(
      "AuthModule option 'colour': is not an option; the options here are issuerUrl, audience",
    );
  });

  it('says where the module extras go when a factory returns them', () => {
    const { message } = optionError(() => resolve({ isGlobal: false }));
    expect(message).toContain("AuthModule option 'isGlobal': shapes the module");
  });

  it.each([{ cache: 5 }, { cache: null }])('refuses a cache of the wrong type: %j', (overrides) => {
    expect(optionError(() => resolve(overrides)).message).toContain("AuthModule option 'cache'");
  });
});

describe('resolveAuthOptions for audience', () => {
  it.each<unknown>([undefined, '', []])('says %p is required', (audience) => {
    expect(optionError(() => resolve({ audience })).message).toContain(
      "AuthModule option 'audience': is required",
    );
  });

  it.each<unknown>([123, [42], ['https://api.example.com', ''], { id: 'api' }, true])(
    'says %p must be a string or an array of strings',
    (audience) => {
      expect(optionError(() => resolve({ audience })).message).toContain(
        "AuthModule option 'audience': must be a string or an array of strings",
      );
    },
  );
});

describe('resolveAuthOptions with a stray newline from the environment', () => {
  it.each([
    { issuerUrl: 'https://tenant.auth0.com/\n' },
    { jwksUri: ' https://tenant.auth0.com/jwks ' },
  ])('refuses %j at bootstrap, naming the option', (overrides) => {
    const { message } = optionError(() => resolve(overrides));
    expect(message).toContain(`'${Object.keys(overrides)[0]}'`);
    expect(message).toContain('white space');
  });
});

describe('resolveAuthOptions for opaque tokens', () => {
  it.each([
    [{ opaqueTokens: 'jwe' }, 'opaqueTokens'],
    [{ opaqueTokens: 'introspection' }, 'introspection'],
    [{ opaqueTokens: 'introspection', introspection: { clientId: 'api' } }, 'introspection'],
    [{ opaqueTokens: 'userinfo', jwksUri: 'https://t.example/jwks' }, 'userinfoEndpoint'],
    [
      {
        opaqueTokens: 'introspection',
        jwksUri: 'https://t.example/jwks',
        introspection: { clientId: 'a', clientSecret: 'b' },
      },
      'introspection.endpoint',
    ],
    [{ userinfoEndpoint: 'http://idp.example/userinfo' }, 'userinfoEndpoint'],
    [{ cache: { ttlSeconds: 0 } }, 'cache.ttlSeconds'],
    [{ cache: { store: {} } }, 'cache.store'],
    [{ upstream: { maxConcurrent: 20 } }, 'upstream.maxConcurrent'],
    [{ upstream: { maxPerSecond: 20 } }, 'upstream.maxPerSecond'],
    [{ upstream: 5 }, 'upstream'],
    [{ upstream: { profiles: 5 } }, 'upstream.profiles'],
    [{ upstream: { opaqueTokens: { maxConcurrent: 0 } } }, 'upstream.opaqueTokens.maxConcurrent'],
    [{ upstream: { profiles: { maxPerSecond: 0 } } }, 'upstream.profiles.maxPerSecond'],
  ])('refuses %j, naming %s', (overrides, option) => {
    expect(optionError(() => resolve(overrides)).message).toContain(`'${option}'`);
  });
});

describe('resolveAuthOptions for the verified-token cache', () => {
  it.each([true, undefined])('uses the default bounds for %j', (verifiedTokenCache) => {
    expect(resolve({ verifiedTokenCache }).verifiedTokenCache).toEqual({
      maxEntries: 100_000,
      maxBytes: 64 * 1024 * 1024,
    });
  });

  it('turns it off with false', () => {
    expect(resolve({ verifiedTokenCache: false }).verifiedTokenCache).toBe(false);
  });

  it.each(['yes', 42, null])('refuses %j, naming the option', (verifiedTokenCache) => {
    expect(optionError(() => resolve({ verifiedTokenCache })).message).toContain(
      "'verifiedTokenCache'",
    );
  });

  it('refuses a maxBytes that leaves no room for a store beside the index', () => {
    const verifiedTokenCache = { maxEntries: 100_000, maxBytes: 8 * 1024 * 1024 };
    expect(optionError(() => resolve({ verifiedTokenCache })).message).toBe(
      "AuthModule option 'verifiedTokenCache.maxBytes': must leave room for the index of " +
        'maxEntries (128 bytes per entry) and a store: at least 12801024 for 100000 entries.',
    );
    const enough = { maxEntries: 100_000, maxBytes: 12_801_024 };
    expect(resolve({ verifiedTokenCache: enough }).verifiedTokenCache).toEqual(enough);
  });
});

describe('resolveAuthOptions for signatureChecks (removed)', () => {
  // Undefined too, as every key that is not an option: the name alone says the code expects it.
  it.each(['thread-pool', 'event-loop', undefined])(
    'refuses %j, saying why and what to do',
    (value) => {
      const message = optionError(() => resolve({ signatureChecks: value } as never)).message;
      expect(message).toContain("'signatureChecks'");
      expect(message).toContain('was removed');
      expect(message).toContain('remove the option');
    },
  );
});

describe('resolveAuthOptions for rpcAuthorization', () => {
  it.each(['authorization', true, null, {}])('refuses %j, naming the option', (value) => {
    expect(optionError(() => resolve({ rpcAuthorization: value as never })).message).toContain(
      "'rpcAuthorization'",
    );
  });
});
