import {
  constants,
  createHmac,
  generateKeyPairSync,
  randomBytes,
  sign,
  type KeyObject,
} from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { rememberToken } from './log-capture';

export type KeyKind = 'RS256' | 'PS256' | 'ES256' | 'ES384' | 'RSA1024';

export interface TestKey {
  kid: string | undefined;
  alg: string;
  privateKey: KeyObject;
  publicJwk: Record<string, unknown>;
}

/** What the server answers on its JWKS and discovery routes. */
export type ServerMode =
  'ok' | 'error500' | 'hang' | 'reset' | 'huge' | 'not-json' | 'redirect' | 'rate-limited' | 'deep';

/** How a route of the server misbehaves; `ok` means it answers normally. */
export type Misbehaviour = ServerMode;

/** Misbehaves as `mode` says; returns whether it did (and so answered, or never will). */
function misbehave(
  mode: Misbehaviour,
  req: IncomingMessage,
  res: ServerResponse,
  redirectTo = 'http://127.0.0.1:1/',
): boolean {
  const json = { 'content-type': 'application/json' };
  switch (mode) {
    case 'ok':
      return false;
    case 'hang':
      return true;
    case 'reset':
      req.socket.destroy();
      return true;
    case 'error500':
      res.writeHead(502).end('bad gateway');
      return true;
    case 'not-json':
      res.writeHead(200, json).end('{"keys": [');
      return true;
    case 'huge':
      res
        .writeHead(200, json)
        .end(`{"sub":"x","keys":[],"padding":"${'x'.repeat(2 * 1024 * 1024)}"}`);
      return true;
    case 'deep':
      res.writeHead(200, json).end(`{"sub":"x","deep":${'['.repeat(20000)}${']'.repeat(20000)}}`);
      return true;
    case 'redirect':
      res.writeHead(302, { location: `${redirectTo}elsewhere` }).end();
      return true;
    case 'rate-limited':
      res.writeHead(429, { 'retry-after': '42' }).end('{"error":"too_many_requests"}');
      return true;
  }
}

/** Generates a signing key pair of the given kind, fresh for every run. */
export function generateKey(
  kind: KeyKind,
  kid: string | undefined = `k-${randomBytes(4).toString('hex')}`,
): TestKey {
  const { privateKey, publicKey } =
    kind === 'ES256' || kind === 'ES384'
      ? generateKeyPairSync('ec', { namedCurve: kind === 'ES256' ? 'P-256' : 'P-384' })
      : generateKeyPairSync('rsa', { modulusLength: kind === 'RSA1024' ? 1024 : 2048 });
  const alg = kind === 'RSA1024' ? 'RS256' : kind;
  const publicJwk: Record<string, unknown> = {
    ...publicKey.export({ format: 'jwk' }),
    use: 'sig',
    alg,
  };
  if (kid !== undefined) publicJwk.kid = kid;
  return { kid, alg, privateKey, publicJwk };
}

const b64 = (value: unknown) =>
  Buffer.from(typeof value === 'string' ? value : JSON.stringify(value)).toString('base64url');

/**
 * Signs any header and payload, however malicious, with node:crypto: no library in the way
 * refuses to produce a bad token. `alg` picks the signing operation.
 */
export function signRaw(
  header: Record<string, unknown>,
  payload: unknown,
  key: KeyObject | string,
): string {
  return signInput(`${b64(header)}.${b64(payload)}`, String(header.alg), key);
}

/**
 * Signs a signing input as it is (`header.payload`, segments as given, even not canonical
 * base64url or not UTF-8 underneath) with `alg`: for tokens wrong only in their encoding.
 */
export function signInput(input: string, alg: string, key: KeyObject | string): string {
  const bits = /(256|384|512)/.exec(alg)?.[1] ?? '256';
  const hash = `sha${bits}`;
  let signature: Buffer;
  if (alg.toUpperCase().startsWith('HS')) {
    const secret = typeof key === 'string' ? key : key.export({ format: 'pem', type: 'pkcs8' });
    signature = createHmac(hash, secret).update(input).digest();
  } else if (alg.toLowerCase() === 'none') {
    signature = Buffer.alloc(0);
  } else {
    const k = key as KeyObject;
    signature = alg.startsWith('PS')
      ? sign(hash, Buffer.from(input), {
          key: k,
          padding: constants.RSA_PKCS1_PSS_PADDING,
          saltLength: Number(bits) / 8,
        })
      : alg.startsWith('ES')
        ? sign(hash, Buffer.from(input), { key: k, dsaEncoding: 'ieee-p1363' })
        : sign(hash, Buffer.from(input), k);
  }
  return `${input}.${signature.toString('base64url')}`;
}

/**
 * `segment` with the unused low bits of its last character set (RFC 4648 §3.5): lenient decoders
 * give the same bytes, strict ones refuse it. Its length must not be a multiple of 4.
 */
export function withUnusedBits(segment: string): string {
  const alphabet = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
  const unused = segment.length % 4 === 2 ? 0x0f : segment.length % 4 === 3 ? 0x03 : 0;
  if (unused === 0) throw new Error(`a segment of ${segment.length} characters has no unused bits`);
  return segment.slice(0, -1) + alphabet[alphabet.indexOf(segment.at(-1)!) | unused];
}

/**
 * A local identity provider for crafted tokens: discovery and JWKS on 127.0.0.1, keys generated
 * per run, with switches for outages and counters for every fetch.
 */
export class KeyServer {
  readonly audience = 'https://api.test.local';
  /** What every challenge of an app of this audience ends with (RFC 9728 `resource_metadata`). */
  readonly resourceMetadata =
    'resource_metadata="https://api.test.local/.well-known/oauth-protected-resource"';
  /** The challenge to a request without a token, DPoP allowed (RFC 9449 §7.2: both schemes). */
  readonly bareChallenge =
    `Bearer realm="api", ${this.resourceMetadata}, ` +
    `DPoP realm="api", ${this.resourceMetadata}, algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`;

  /** The challenge to a request without a token at a route that requires `scopes` (RFC 6750 §3). */
  scopedChallenge(...scopes: string[]): string {
    const scope = `scope="${scopes.join(' ')}"`;
    return (
      `Bearer realm="api", ${scope}, ${this.resourceMetadata}, ` +
      `DPoP realm="api", ${scope}, ${this.resourceMetadata}, algs="ES256 ES384 EdDSA Ed25519 PS256 RS256"`
    );
  }
  keys: TestKey[] = [];
  mode: ServerMode = 'ok';
  /** Overrides the published JWKS document when set. */
  jwksOverride?: unknown;
  /** Delays each answer; its body is taken when the request arrives, as a real server's would be. */
  delayMs = 0;
  /** Overrides the whole discovery document when set. */
  discoveryOverride?: unknown;
  /** Overrides the issuer that discovery publishes when set. */
  publishedIssuer?: string;
  /**
   * The issuer's path, when it has one (`/oauth2`: issuer `http://127.0.0.1:PORT/oauth2`, with no
   * trailing slash); none gives the Auth0-style `http://127.0.0.1:PORT/`.
   */
  issuerPath = '';
  /**
   * The metadata documents served: OpenID Connect Discovery at the issuer followed by
   * `/.well-known/openid-configuration`, RFC 8414 at `/.well-known/oauth-authorization-server`
   * followed by the issuer's path (§3.1). Both have the same content.
   */
  publishes: ReadonlyArray<'openid-configuration' | 'oauth-authorization-server'> = [
    'openid-configuration',
  ];
  /** What a metadata document not in `publishes` answers. */
  absentStatus: 404 | 410 = 404;
  readonly fetches = { discovery: 0, jwks: 0, other: 0 };
  /** Fetches of the RFC 8414 document (published or not). */
  oauthMetadataFetches = 0;
  /** The path of every request, in order. */
  readonly requests: string[] = [];
  private server?: Server;
  private port = 0;

  static async start(port = 0): Promise<KeyServer> {
    const keyServer = new KeyServer();
    keyServer.keys.push(generateKey('RS256'));
    await keyServer.listen(port);
    return keyServer;
  }

  /** Auth0-style issuer, with the trailing slash, unless `issuerPath` gives it a path. */
  get issuer(): string {
    return `${this.origin}${this.issuerPath || '/'}`;
  }

  get origin(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  get jwksUri(): string {
    return `${this.origin}/.well-known/jwks.json`;
  }

  get key(): TestKey {
    return this.keys[0];
  }

  async listen(port = this.port): Promise<void> {
    this.server = createServer((req, res) => this.handle(req, res));
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, '127.0.0.1', () => resolve());
    });
    this.port = (this.server.address() as AddressInfo).port;
  }

  /** Stops listening: connections are refused until `listen()` again. */
  async stop(): Promise<void> {
    const server = this.server;
    if (!server) return;
    this.server = undefined;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Signs an access token for this issuer and audience; `claims` and `header` override defaults. */
  token(
    claims: Record<string, unknown> = {},
    header: Record<string, unknown> = {},
    key: TestKey = this.key,
  ): string {
    const now = Math.floor(Date.now() / 1000);
    const payload = {
      iss: this.issuer,
      sub: 'auth0|user-1',
      aud: this.audience,
      iat: now,
      exp: now + 600,
      scope: 'read:messages',
      ...claims,
    };
    for (const [name, value] of Object.entries(payload))
      if (value === undefined) delete (payload as Record<string, unknown>)[name];
    const fullHeader: Record<string, unknown> = {
      alg: key.alg,
      typ: 'at+jwt',
      ...(key.kid ? { kid: key.kid } : {}),
      ...header,
    };
    for (const [name, value] of Object.entries(fullHeader))
      if (value === undefined) delete fullHeader[name];
    return rememberToken(signRaw(fullHeader, payload, key.privateKey));
  }

  /** Profiles /userinfo answers, by access token; any other token gets 401 (tokens remembered). */
  readonly profiles = new (class extends Map<string, Record<string, unknown>> {
    override set(token: string, profile: Record<string, unknown>) {
      rememberToken(token);
      return super.set(token, profile);
    }
  })();
  /** Bodies /userinfo and /introspect answer as they are (200), by token: bytes of any kind. */
  readonly rawAnswers = new Map<string, Buffer>();
  /** What /introspect answers, by token; any other token is `{"active": false}`. */
  readonly introspections = new Map<string, Record<string, unknown>>();

  /**
   * A new random opaque token (remembered for the log check) that /introspect answers active for,
   * with this server's audience and an `exp` ten minutes away, `answer` on top.
   */
  activeOpaqueToken(answer: Record<string, unknown>): string {
    const token = rememberToken(randomBytes(24).toString('base64url'));
    this.introspections.set(token, {
      active: true,
      aud: this.audience,
      exp: Math.floor(Date.now() / 1000) + 600,
      ...answer,
    });
    return token;
  }
  /** How /userinfo behaves, apart from the discovery and JWKS `mode`. */
  userinfoMode: Misbehaviour = 'ok';
  /** How /introspect behaves. */
  introspectionMode: Misbehaviour = 'ok';
  /** How the JWKS alone behaves, when set (discovery keeps `mode`). */
  jwksMode?: Misbehaviour;
  userinfoCalls = 0;
  introspectionCalls = 0;
  /** Credentials /introspect requires (client_secret_basic). */
  readonly introspectionClient = { clientId: 'api-client', clientSecret: 'api-secret' };

  get userinfoUrl(): string {
    return `${this.origin}/userinfo`;
  }

  get introspectionUrl(): string {
    return `${this.origin}/introspect`;
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    this.requests.push(path);
    if (path === '/userinfo') {
      this.userinfoCalls++;
      if (misbehave(this.userinfoMode, req, res)) return;
      const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
      const raw = this.rawAnswers.get(token);
      if (raw) return void res.writeHead(200, { 'content-type': 'application/json' }).end(raw);
      const profile = this.profiles.get(token);
      return this.answer(res, profile ? 200 : 401, profile);
    }
    if (path === '/introspect' && req.method === 'POST') {
      this.introspectionCalls++;
      if (misbehave(this.introspectionMode, req, res)) return;
      const { clientId, clientSecret } = this.introspectionClient;
      const expected = `Basic ${Buffer.from(`${clientId}:${clientSecret}`).toString('base64')}`;
      let body = '';
      req.on('data', (chunk) => (body += chunk));
      req.on('end', () => {
        if (req.headers.authorization !== expected)
          return this.answer(res, 401, { error: 'invalid_client' });
        const token = new URLSearchParams(body).get('token') ?? '';
        const raw = this.rawAnswers.get(token);
        if (raw) return void res.writeHead(200, { 'content-type': 'application/json' }).end(raw);
        this.answer(res, 200, this.introspections.get(token) ?? { active: false });
      });
      return;
    }
    const isJwks = path === '/.well-known/jwks.json';
    let document: 'openid-configuration' | 'oauth-authorization-server' | undefined;
    if (path === `${this.issuerPath}/.well-known/openid-configuration`) {
      this.fetches.discovery++;
      document = 'openid-configuration';
    } else if (path === `/.well-known/oauth-authorization-server${this.issuerPath}`) {
      this.oauthMetadataFetches++;
      document = 'oauth-authorization-server';
    } else if (isJwks) this.fetches.jwks++;
    else {
      this.fetches.other++;
      res.writeHead(404).end();
      return;
    }
    const mode = isJwks ? (this.jwksMode ?? this.mode) : this.mode;
    if (misbehave(mode, req, res, `${this.origin}/`)) return;
    if (document && !this.publishes.includes(document)) {
      res.writeHead(this.absentStatus).end();
      return;
    }
    this.answer(
      res,
      200,
      isJwks
        ? (this.jwksOverride ?? { keys: this.keys.map((k) => k.publicJwk) })
        : this.discoveryOverride !== undefined
          ? this.discoveryOverride
          : {
              issuer: this.publishedIssuer ?? this.issuer,
              jwks_uri: this.jwksUri,
              userinfo_endpoint: this.userinfoUrl,
              introspection_endpoint: this.introspectionUrl,
            },
    );
  }

  /** Answers JSON (body taken now, sent after `delayMs`); 401 carries a Bearer challenge. */
  private answer(res: ServerResponse, status: number, body: unknown): void {
    const headers: Record<string, string> = { 'content-type': 'application/json' };
    if (status === 401) headers['www-authenticate'] = 'Bearer error="invalid_token"';
    const text = body === undefined ? '' : JSON.stringify(body);
    const send = () => res.writeHead(status, headers).end(text);
    if (this.delayMs > 0) setTimeout(send, this.delayMs);
    else send();
  }
}
