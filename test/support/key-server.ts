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
export type ServerMode = 'ok' | 'error500' | 'hang' | 'reset' | 'huge' | 'not-json' | 'redirect';

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
  const input = `${b64(header)}.${b64(payload)}`;
  const alg = String(header.alg);
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
 * A local identity provider for crafted tokens: discovery and JWKS on 127.0.0.1, keys generated
 * per run, with switches for outages and counters for every fetch.
 */
export class KeyServer {
  readonly audience = 'https://api.test.local';
  keys: TestKey[] = [];
  mode: ServerMode = 'ok';
  /** Overrides the published JWKS document when set. */
  jwksOverride?: unknown;
  /** Delays each answer; its body is taken when the request arrives, as a real server's would be. */
  delayMs = 0;
  /** Overrides the issuer that discovery publishes when set. */
  publishedIssuer?: string;
  readonly fetches = { discovery: 0, jwks: 0, other: 0 };
  private server?: Server;
  private port = 0;

  static async start(port = 0): Promise<KeyServer> {
    const keyServer = new KeyServer();
    keyServer.keys.push(generateKey('RS256'));
    await keyServer.listen(port);
    return keyServer;
  }

  /** Auth0-style issuer, with the trailing slash. */
  get issuer(): string {
    return `http://127.0.0.1:${this.port}/`;
  }

  get jwksUri(): string {
    return `${this.issuer}.well-known/jwks.json`;
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
  /** How /userinfo behaves, apart from the discovery and JWKS `mode`. */
  userinfoMode: ServerMode | 'rate-limited' | 'deep' = 'ok';
  userinfoCalls = 0;

  get userinfoUrl(): string {
    return `${this.issuer}userinfo`;
  }

  private handleUserinfo(req: IncomingMessage, res: ServerResponse): void {
    this.userinfoCalls++;
    const token = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1] ?? '';
    switch (this.userinfoMode) {
      case 'hang':
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'error500':
        res.writeHead(502).end('bad gateway');
        return;
      case 'deep':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"sub":"x","deep":${'['.repeat(20000)}${']'.repeat(20000)}}`);
        return;
      case 'rate-limited':
        res.writeHead(429, { 'retry-after': '42' }).end('{"error":"too_many_requests"}');
        return;
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"sub":"x","padding":"${'x'.repeat(1024 * 1024)}"}`);
        return;
      default:
        break;
    }
    const profile = this.profiles.get(token);
    const send = () =>
      profile
        ? res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(profile))
        : res.writeHead(401, { 'www-authenticate': 'Bearer error="invalid_token"' }).end();
    if (this.delayMs > 0) setTimeout(send, this.delayMs);
    else send();
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = req.url ?? '';
    if (path === '/userinfo') return this.handleUserinfo(req, res);
    if (path === '/.well-known/openid-configuration') this.fetches.discovery++;
    else if (path === '/.well-known/jwks.json') this.fetches.jwks++;
    else {
      this.fetches.other++;
      res.writeHead(404).end();
      return;
    }
    switch (this.mode) {
      case 'hang':
        return;
      case 'reset':
        req.socket.destroy();
        return;
      case 'error500':
        res.writeHead(500).end('down');
        return;
      case 'not-json':
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"keys": [');
        return;
      case 'huge':
        res.writeHead(200, { 'content-type': 'application/json' });
        res.end(`{"keys": [], "padding": "${'x'.repeat(2 * 1024 * 1024)}"}`);
        return;
      case 'redirect':
        res.writeHead(302, { location: `${this.issuer}elsewhere` }).end();
        return;
      case 'ok':
        break;
    }
    const body =
      path === '/.well-known/jwks.json'
        ? (this.jwksOverride ?? { keys: this.keys.map((k) => k.publicJwk) })
        : {
            issuer: this.publishedIssuer ?? this.issuer,
            jwks_uri: this.jwksUri,
            userinfo_endpoint: this.userinfoUrl,
          };
    const send = () =>
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body));
    if (this.delayMs > 0) setTimeout(send, this.delayMs);
    else send();
  }
}
