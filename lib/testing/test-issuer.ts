import { randomBytes, randomUUID } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { AuthModuleOptions } from '../options/auth-options.interface';
import {
  checkAudience,
  checkClaims,
  checkKeys,
  checkOptionsObject,
  checkProfile,
  checkScopes,
  checkSeconds,
  checkString,
  refuseProduction,
  TestingKitError,
  type Plain,
} from './kit-checks';
import {
  generateSigningKey,
  signJwt,
  TEST_SIGNING_ALGORITHMS,
  type SigningKey,
  type TestSigningAlgorithm,
} from './signing-key';

/** Options of {@link TestIssuer.start}. There is no host option: the issuer listens on 127.0.0.1. */
export interface TestIssuerOptions {
  /**
   * The API identifier(s) tokens are minted for, and that {@link TestIssuer.moduleOptions} sets.
   * @default 'https://api.test.local'
   */
  audience?: string | string[];
  /**
   * The algorithm of the key generated for this run.
   * @default 'RS256'
   */
  algorithm?: TestSigningAlgorithm;
  /**
   * Tokens with a registered profile (opaque tokens, access tokens minted with `profile`) kept at
   * most; beyond it, the oldest is forgotten (its userinfo answers 401).
   * @default 1000
   */
  maxProfiles?: number;
}

/** What {@link TestIssuer.mintAccessToken} puts in a token. */
export interface MintAccessTokenOptions {
  /**
   * The subject.
   * @default 'test-user'
   */
  sub?: string;
  /**
   * Granted scopes, as the `scope` claim.
   * @default []
   */
  scopes?: string[];
  /** More claims; they win over the kit's (e.g. `{ iss: 'https://elsewhere/' }` for a negative test). */
  claims?: Record<string, unknown>;
  /**
   * Seconds until `exp`; negative mints a token that has already expired.
   * @default 300
   */
  expiresIn?: number;
  /**
   * `aud` of the token.
   * @default the issuer's audience
   */
  audience?: string | string[];
  /**
   * `client_id` of the token: the client it was issued to.
   * @default 'test-client'
   */
  clientId?: string;
  /** A profile that the issuer's `/userinfo` answers for this token (`@WithUserinfo()`). */
  profile?: { sub: string; [claim: string]: unknown };
}

/** What {@link TestIssuer.mintIdToken} puts in an ID token. */
export interface MintIdTokenOptions {
  /** @default 'test-user' */
  sub?: string;
  /**
   * The client the ID token was issued to: its `aud` and `azp`.
   * @default 'test-client'
   */
  clientId?: string;
  /** More claims, which win over the kit's. */
  claims?: Record<string, unknown>;
}

/** What {@link TestIssuer.opaqueToken} registers for an opaque token. */
export interface OpaqueTokenOptions {
  /** What `/userinfo` answers for the token; `sub` is required. */
  profile: { sub: string; [claim: string]: unknown };
  /**
   * Scopes that introspection reports (userinfo-checked tokens carry none).
   * @default []
   */
  scopes?: string[];
  /**
   * Seconds the token stays active.
   * @default 300
   */
  expiresIn?: number;
  /** @default 'test-client' */
  clientId?: string;
}

interface Registered {
  profile: Plain & { sub: string };
  /** What introspection answers; absent for JWTs, which are verified locally. */
  introspection?: Plain;
  exp: number;
}

const DEFAULT_AUDIENCE = 'https://api.test.local';
const DEFAULT_SUB = 'test-user';
const DEFAULT_CLIENT = 'test-client';
const DEFAULT_LIFETIME = 300;
const MAX_BODY_BYTES = 16 * 1024;
const ISSUER_OPTIONS = ['audience', 'algorithm', 'maxProfiles'] as const;
const ACCESS_OPTIONS = [
  'sub',
  'scopes',
  'claims',
  'expiresIn',
  'audience',
  'clientId',
  'profile',
] as const;
const ID_OPTIONS = ['sub', 'clientId', 'claims'] as const;
const OPAQUE_OPTIONS = ['profile', 'scopes', 'expiresIn', 'clientId'] as const;

const now = () => Math.floor(Date.now() / 1000);

/**
 * A local OAuth 2.0 issuer for tests, on 127.0.0.1 only: discovery, a JWKS with a key generated for
 * this run, `/userinfo` answering the profiles registered with it, and RFC 7662 introspection. The
 * tokens it mints go through the real guard and the real signature checks; nothing in the library
 * is switched off. Refuses to run with `NODE_ENV=production`.
 *
 * @example
 * const issuer = await TestIssuer.start({ audience: 'https://api.example.com' });
 * const moduleRef = await Test.createTestingModule({
 *   imports: [AuthModule.forRoot(issuer.moduleOptions())],
 *   controllers: [MessagesController],
 * }).compile();
 * const token = issuer.mintAccessToken({ sub: 'user-1', scopes: ['read:messages'] });
 * // ... afterAll: await app.close(); await issuer.stop();
 */
export class TestIssuer {
  private readonly registered = new Map<string, Registered>();
  private server: Server | undefined;
  private port = 0;
  /** Per-run client credentials that introspection requires (client_secret_basic). */
  readonly introspectionClient = {
    clientId: 'test-api',
    clientSecret: randomBytes(24).toString('base64url'),
  };

  private constructor(
    /** The API identifier(s) tokens are minted for by default. */
    readonly audience: string | string[],
    private readonly key: SigningKey,
    private readonly maxProfiles: number,
  ) {}

  /** Generates a key and starts the issuer on 127.0.0.1, on a free port. */
  static async start(options?: TestIssuerOptions): Promise<TestIssuer> {
    refuseProduction();
    const where = 'TestIssuer.start()';
    const given = checkOptionsObject(where, options);
    checkKeys(where, given, ISSUER_OPTIONS);
    const audience = checkAudience(where, given.audience ?? DEFAULT_AUDIENCE);
    const algorithm = given.algorithm ?? 'RS256';
    if (!TEST_SIGNING_ALGORITHMS.includes(algorithm as TestSigningAlgorithm)) {
      throw new TestingKitError(
        `${where}: algorithm must be one of ${TEST_SIGNING_ALGORITHMS.join(', ')}.`,
      );
    }
    const maxProfiles = given.maxProfiles ?? 1000;
    if (typeof maxProfiles !== 'number' || !Number.isInteger(maxProfiles) || maxProfiles < 1) {
      throw new TestingKitError(`${where}: maxProfiles must be a whole number of at least 1.`);
    }
    const issuer = new TestIssuer(
      audience,
      generateSigningKey(algorithm as TestSigningAlgorithm),
      maxProfiles,
    );
    await issuer.listen();
    return issuer;
  }

  /** The issuer, Auth0-style with the trailing slash: a token's `iss`, and `issuerUrl`. */
  get issuerUrl(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  get jwksUri(): string {
    return `${this.issuerUrl}.well-known/jwks.json`;
  }

  get userinfoUrl(): string {
    return `${this.issuerUrl}userinfo`;
  }

  get introspectionUrl(): string {
    return `${this.issuerUrl}introspect`;
  }

  /**
   * `AuthModule` options that trust this issuer: `issuerUrl` and `audience`, then `overrides`. With
   * `opaqueTokens: 'introspection'` and no `introspection`, the issuer's own client credentials.
   *
   * @example
   * AuthModule.forRoot(issuer.moduleOptions({ opaqueTokens: 'userinfo' }))
   */
  moduleOptions(overrides: Partial<AuthModuleOptions> = {}): AuthModuleOptions {
    const options: AuthModuleOptions = {
      issuerUrl: this.issuerUrl,
      audience: this.audience,
      ...overrides,
    };
    if (options.opaqueTokens === 'introspection' && options.introspection === undefined) {
      options.introspection = { ...this.introspectionClient };
    }
    return options;
  }

  /**
   * A signed JWT access token (`typ: at+jwt`, with `iss`, `sub`, `aud`, `client_id`, `iat`, `exp`,
   * `jti`: it passes strict mode too) that the guard accepts when the module trusts this issuer.
   *
   * @example
   * issuer.mintAccessToken({ sub: 'user-1', scopes: ['read:messages'], claims: { org: 'acme' } })
   */
  mintAccessToken(options?: MintAccessTokenOptions): string {
    refuseProduction();
    const where = 'mintAccessToken()';
    const given = checkOptionsObject(where, options);
    checkKeys(where, given, ACCESS_OPTIONS);
    const sub = checkString(where, 'sub', given.sub ?? DEFAULT_SUB);
    const scopes = checkScopes(where, given.scopes ?? []);
    const claims = checkClaims(where, given.claims ?? {});
    const expiresIn = checkSeconds(where, 'expiresIn', given.expiresIn ?? DEFAULT_LIFETIME);
    const audience = checkAudience(where, given.audience ?? this.audience);
    const clientId = checkString(where, 'clientId', given.clientId ?? DEFAULT_CLIENT);
    const profile = given.profile === undefined ? undefined : checkProfile(where, given.profile);
    const iat = now();
    const payload: Plain = {
      iss: this.issuerUrl,
      sub,
      aud: audience,
      client_id: clientId,
      iat,
      exp: iat + expiresIn,
      jti: randomUUID(),
      ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
      ...claims,
    };
    const token = signJwt(this.key, { typ: 'at+jwt' }, payload);
    if (profile) this.register(token, { profile, exp: iat + expiresIn });
    return token;
  }

  /**
   * A signed OpenID Connect ID token (`aud` and `azp` the client, a `nonce`): for negative tests,
   * since an API must refuse it (401 `id_token`).
   */
  mintIdToken(options?: MintIdTokenOptions): string {
    refuseProduction();
    const where = 'mintIdToken()';
    const given = checkOptionsObject(where, options);
    checkKeys(where, given, ID_OPTIONS);
    const sub = checkString(where, 'sub', given.sub ?? DEFAULT_SUB);
    const clientId = checkString(where, 'clientId', given.clientId ?? DEFAULT_CLIENT);
    const claims = checkClaims(where, given.claims ?? {});
    const iat = now();
    return signJwt(
      this.key,
      { typ: 'JWT' },
      {
        iss: this.issuerUrl,
        sub,
        aud: clientId,
        azp: clientId,
        iat,
        exp: iat + DEFAULT_LIFETIME,
        nonce: randomBytes(8).toString('hex'),
        ...claims,
      },
    );
  }

  /**
   * A random opaque access token (no dots, as a reference token) that `/userinfo` answers with
   * `profile` and introspection reports active, for `opaqueTokens: 'userinfo'` or
   * `'introspection'`.
   */
  opaqueToken(options: OpaqueTokenOptions): string {
    refuseProduction();
    const where = 'opaqueToken()';
    const given = checkOptionsObject(where, options);
    checkKeys(where, given, OPAQUE_OPTIONS);
    const profile = checkProfile(where, given.profile);
    const scopes = checkScopes(where, given.scopes ?? []);
    const expiresIn = checkSeconds(where, 'expiresIn', given.expiresIn ?? DEFAULT_LIFETIME);
    const clientId = checkString(where, 'clientId', given.clientId ?? DEFAULT_CLIENT);
    // Hex never starts with "eyJ" and has no dots: always classified as opaque.
    const token = randomBytes(32).toString('hex');
    const iat = now();
    const exp = iat + expiresIn;
    const introspection: Plain = {
      active: true,
      iss: this.issuerUrl,
      sub: profile.sub,
      aud: this.audience,
      client_id: clientId,
      token_type: 'Bearer',
      iat,
      exp,
      ...(scopes.length > 0 ? { scope: scopes.join(' ') } : {}),
    };
    this.register(token, { profile, introspection, exp });
    return token;
  }

  /** Forgets a token's profile: `/userinfo` then answers 401 and introspection `active: false`. */
  revoke(token: string): void {
    this.registered.delete(token);
  }

  /** Stops listening and drops every registered profile. Safe to call twice. */
  async stop(): Promise<void> {
    this.registered.clear();
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  private register(token: string, entry: Registered): void {
    if (this.registered.size >= this.maxProfiles) {
      this.registered.delete(this.registered.keys().next().value as string);
    }
    this.registered.set(token, entry);
  }

  /** The token's entry while it is active. */
  private lookup(token: string): Registered | undefined {
    const entry = this.registered.get(token);
    return entry && entry.exp > now() ? entry : undefined;
  }

  private async listen(): Promise<void> {
    const server = createServer({ requestTimeout: 5000, headersTimeout: 5000 }, (req, res) =>
      this.handle(req, res),
    );
    server.keepAliveTimeout = 1000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // Loopback only, by construction: no option names another host.
      server.listen(0, '127.0.0.1', () => resolve());
    });
    this.server = server;
    this.port = (server.address() as AddressInfo).port;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '').split('?')[0];
    if (req.method === 'GET' && path === '/.well-known/openid-configuration') {
      return json(res, 200, {
        issuer: this.issuerUrl,
        jwks_uri: this.jwksUri,
        userinfo_endpoint: this.userinfoUrl,
        introspection_endpoint: this.introspectionUrl,
        id_token_signing_alg_values_supported: [this.key.alg],
      });
    }
    if (req.method === 'GET' && path === '/.well-known/jwks.json') {
      return json(res, 200, { keys: [this.key.publicJwk] });
    }
    if ((req.method === 'GET' || req.method === 'POST') && path === '/userinfo') {
      const token = /^Bearer ([^\s]+)$/i.exec(req.headers.authorization ?? '')?.[1];
      const entry = token === undefined ? undefined : this.lookup(token);
      if (!entry) return json(res, 401, { error: 'invalid_token' });
      return json(res, 200, entry.profile);
    }
    if (req.method === 'POST' && path === '/introspect') return this.introspect(req, res);
    json(res, 404, { error: 'not_found' });
  }

  /** RFC 7662: client_secret_basic, a form body of at most 16 KiB. */
  private introspect(req: IncomingMessage, res: ServerResponse): void {
    const { clientId, clientSecret } = this.introspectionClient;
    const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
    if (req.headers.authorization !== expected) {
      req.resume();
      return json(res, 401, { error: 'invalid_client' });
    }
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= MAX_BODY_BYTES) chunks.push(chunk);
    });
    req.on('end', () => {
      if (size > MAX_BODY_BYTES) return json(res, 413, { error: 'invalid_request' });
      const token = new URLSearchParams(Buffer.concat(chunks).toString()).get('token') ?? '';
      const entry = this.lookup(token);
      json(res, 200, entry?.introspection ?? { active: false });
    });
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"';
  res.writeHead(status, headers).end(JSON.stringify(body));
}
