import type { INestApplication } from '@nestjs/common';
import request from 'supertest';
import type { AuthModuleOptions } from '../../lib';
import { RemoteFetchError } from '../../lib/issuer/fetch-json';
import {
  IssuerDiscovery,
  IssuerMismatchError,
  type IssuerDiscoveryConfig,
} from '../../lib/issuer/issuer-discovery';
import { IssuerStartupCheck } from '../../lib/issuer/issuer-startup-check';
import { createFixtureApp, PLATFORMS } from '../support/create-fixture-app';
import { KeyServer } from '../support/key-server';

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

  it.each<[string, unknown]>([
    ['no issuer', { jwks_uri: 'https://keys.example.com/jwks' }],
    ['an array', []],
  ])(
    'takes a document with %s for a broken one, not for a mismatch of issuerUrl',
    async (_, doc) => {
      ks.discoveryOverride = doc;
      const error = await discovery()
        .getMetadata()
        .catch((e: unknown) => e);
      expect((error as RemoteFetchError).failure).toBe('invalid_json');
      expect(error).not.toBeInstanceOf(IssuerMismatchError);
    },
  );

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

/**
 * RFC 8414 metadata, read when the issuer publishes no OpenID configuration (404 or 410), at the
 * path-inserted well-known URL (§3.1), with its own issuer check (§3.3).
 */
describe.each([
  ['an issuer without a path', '', '/.well-known/oauth-authorization-server'],
  ['an issuer with a path', '/oauth2', '/.well-known/oauth-authorization-server/oauth2'],
])('IssuerDiscovery of RFC 8414 metadata, for %s', (_, issuerPath, oauthPath) => {
  let ks: KeyServer;
  const limits = { timeoutMs: 1000, maxBytes: 64 * 1024 };
  const openidPath = `${issuerPath}/.well-known/openid-configuration`;

  beforeEach(async () => {
    ks = await KeyServer.start();
    ks.issuerPath = issuerPath;
  });

  afterEach(async () => {
    jest.restoreAllMocks();
    await ks.stop();
  });

  const discovery = () => new IssuerDiscovery({ issuer: ks.issuer, limits, maxAgeMs: 60_000 });
  const failure = (pending: Promise<unknown>) =>
    pending.then(
      () => undefined,
      (e: unknown) => e,
    );

  it.each([404, 410] as const)(
    'reads it when the OpenID configuration answers %d, requiring only issuer and jwks_uri',
    async (status) => {
      ks.publishes = ['oauth-authorization-server'];
      ks.absentStatus = status;
      ks.discoveryOverride = { issuer: ks.issuer, jwks_uri: ks.jwksUri };
      await expect(discovery().getMetadata()).resolves.toEqual({
        issuer: ks.issuer,
        jwksUri: ks.jwksUri,
      });
      expect(ks.requests).toEqual([openidPath, oauthPath]);
    },
  );

  it('prefers the OpenID configuration when both are published', async () => {
    ks.publishes = ['openid-configuration', 'oauth-authorization-server'];
    await expect(discovery().getMetadata()).resolves.toMatchObject({ jwksUri: ks.jwksUri });
    expect(ks.requests).toEqual([openidPath]);
  });

  it.each([
    ['a 5xx', 'error500', 'status'],
    ['a reset connection', 'reset', 'network'],
  ] as const)(
    'does not fall back on %s of the OpenID configuration: an outage',
    async (_case, mode, kind) => {
      ks.publishes = ['openid-configuration', 'oauth-authorization-server'];
      ks.mode = mode;
      const error = await failure(discovery().getMetadata());
      expect(error).toBeInstanceOf(RemoteFetchError);
      expect((error as RemoteFetchError).failure).toBe(kind);
      expect(ks.requests).toEqual([openidPath]);
    },
  );

  it('checks the issuer of RFC 8414 metadata against issuerUrl', async () => {
    ks.publishes = ['oauth-authorization-server'];
    ks.publishedIssuer = 'https://evil.example/';
    const error = await failure(discovery().getMetadata());
    expect(error).toBeInstanceOf(IssuerMismatchError);
    expect((error as Error).message).toContain(`${ks.origin}${oauthPath}`);
  });

  it('names both URLs when neither document exists, and asks again only after 30 seconds', async () => {
    ks.publishes = [];
    const subject = discovery();
    const error = await failure(subject.getMetadata());
    expect(error).toBeInstanceOf(RemoteFetchError);
    // The wording is the point: the operator learns which URLs were tried.
    expect((error as Error).message).toContain(`${ks.origin}${openidPath}`);
    expect((error as Error).message).toContain(`${ks.origin}${oauthPath}`);
    expect((error as Error).message).not.toMatch(/could not be reached|try again/i);
    expect(ks.requests).toHaveLength(2);
    await expect(subject.getMetadata()).rejects.toBeInstanceOf(RemoteFetchError);
    expect(ks.requests).toHaveLength(2);
    const later = Date.now() + 31_000;
    jest.spyOn(Date, 'now').mockImplementation(() => later);
    ks.publishes = ['oauth-authorization-server'];
    await expect(subject.getMetadata()).resolves.toMatchObject({ issuer: ks.issuer });
    expect(ks.requests).toHaveLength(4);
  });
});

/** What a request learns when the issuer's metadata cannot be had because of configuration. */
describe.each(PLATFORMS)('issuer configuration errors, answered (%s)', (platform) => {
  let ks: KeyServer;
  let app: INestApplication | undefined;

  beforeEach(async () => {
    ks = await KeyServer.start();
  });

  afterEach(async () => {
    await app?.close();
    app = undefined;
    await ks.stop();
  });

  const start = async (issuerUrl = ks.issuer, options: Partial<AuthModuleOptions> = {}) => {
    app = await createFixtureApp({ issuerUrl, audience: ks.audience, ...options }, { platform });
    await app.get(IssuerStartupCheck).done;
  };
  const get = (token: string) =>
    request(app!.getHttpServer()).get('/private').set('Authorization', `Bearer ${token}`);

  /** A 503 that blames configuration: no Retry-After, no invitation to retry. */
  const expectMisconfigured = (res: request.Response) => {
    expect([res.status, res.body.error, res.body.reason]).toEqual([
      503,
      'issuer_unavailable',
      'issuer_misconfigured',
    ]);
    expect(res.headers['retry-after']).toBeUndefined();
    expect(res.headers['www-authenticate']).toBeUndefined();
    expect(res.body.message).not.toMatch(/could not be reached|try again/i);
  };

  it('verifies tokens of an issuer with a path that publishes only RFC 8414 metadata', async () => {
    ks.issuerPath = '/oauth2';
    ks.publishes = ['oauth-authorization-server'];
    await start();
    expect((await get(ks.token())).status).toBe(200);
    expect([ks.fetches.discovery, ks.oauthMetadataFetches, ks.fetches.jwks]).toEqual([1, 1, 1]);
  });

  it('answers 503 issuer_misconfigured, naming the URLs tried, when no metadata is published', async () => {
    ks.publishes = [];
    await start();
    for (let i = 0; i < 3; i++) {
      const res = await get(ks.token());
      expectMisconfigured(res);
      expect(res.body.message).toContain(`${ks.origin}/.well-known/openid-configuration`);
      expect(res.body.message).toContain(`${ks.origin}/.well-known/oauth-authorization-server`);
    }
    // Startup's fetch is the only one: the failure is kept, not fetched again per request.
    expect([ks.fetches.discovery, ks.oauthMetadataFetches]).toEqual([1, 1]);
  });

  it('answers 503 issuer_misconfigured, naming both issuers, when discovery names another', async () => {
    const issuerUrl = ks.issuer.replace(/\/$/, '');
    await start(issuerUrl);
    for (let i = 0; i < 3; i++) {
      const res = await get(ks.token());
      expectMisconfigured(res);
      expect(res.body.message).toContain(`"${issuerUrl}"`);
      expect(res.body.message).toContain(`"${ks.issuer}"`);
    }
    expect(ks.fetches.discovery).toBe(1);
  });

  it('answers an opaque token 503 issuer_misconfigured when discovery names another issuer', async () => {
    const issuerUrl = ks.issuer.replace(/\/$/, '');
    await start(issuerUrl, { opaqueTokens: 'userinfo' });
    const token = 'opaque-token-of-alice-0123456789';
    ks.profiles.set(token, { sub: 'alice' });
    const res = await get(token);
    expectMisconfigured(res);
    expect(res.body.message).toContain(`"${ks.issuer}"`);
    expect(ks.userinfoCalls).toBe(0);
  });
});
