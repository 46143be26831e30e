import { io } from 'socket.io-client';
import { freePort } from '../support/free-port';
import {
  printedExport,
  startDevSample,
  startSample,
  type SampleProcess,
} from '../support/sample-process';

/** The built sample, run as a user runs it (`npm run sample`), with the embedded identity provider. */
describe('sample app (built, in its own process)', () => {
  let sample: SampleProcess;
  let output = '';
  let base: string;
  let token: string;

  beforeAll(async () => {
    sample = await startDevSample();
    base = `http://localhost:${sample.port}`;
    token = await printedExport(sample, 'TOKEN');
    await printedExport(sample, 'OPAQUE_TOKEN');
    output = sample.output();
  });

  afterAll(() => sample.stop());

  const call = (path: string, init: RequestInit = {}) => fetch(`${base}${path}`, init);
  const bearer = () => ({ headers: { Authorization: `Bearer ${token}` } });

  it('prints a working token and curl commands, labelled development-only', async () => {
    expect(output).toContain('DEVELOPMENT ONLY');
    expect(output).toContain(`curl -H "Authorization: Bearer $TOKEN" ${base}/api/private`);
    expect((await call('/api/private', bearer())).status).toBe(200);
  });

  it('serves the four routes of the contract', async () => {
    expect((await call('/api/public')).status).toBe(200);
    expect((await call('/api/private')).status).toBe(401);
    expect((await call('/api/private-scoped', bearer())).status).toBe(200);
    const me = await call('/api/me', bearer());
    const body = (await me.json()) as { sub: string; claims: Record<string, unknown> };
    expect(body.sub).toBe('dev-client');
    expect(body.claims).toMatchObject({ aud: 'https://api.example.com', scope: 'read:messages' });
  });

  it('answers GET /api/optional with the caller, or sub null without a token', async () => {
    const anonymous = await call('/api/optional');
    expect([anonymous.status, await anonymous.json()]).toEqual([200, { sub: null }]);
    const known = await call('/api/optional', bearer());
    expect([known.status, await known.json()]).toEqual([200, { sub: 'dev-client' }]);
    const forged = await call('/api/optional', { headers: { Authorization: 'Bearer a.b.c' } });
    expect(forged.status).toBe(401);
  });

  it('answers GraphQL on POST /graphql: public data, and an error at each refused field', async () => {
    const graphql = async (query: string, headers: Record<string, string> = {}) => {
      const res = await call('/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify({ query }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as {
        data: Record<string, unknown>;
        errors?: { path: string[]; extensions: { code: string; reason: string } }[];
      };
    };
    const query = '{ publicMessage privateMessage scopedMessage me { sub scopes } }';
    const anonymous = await graphql(query);
    expect(anonymous.data).toEqual({
      publicMessage: expect.any(String),
      privateMessage: null,
      scopedMessage: null,
      me: null,
    });
    expect(
      anonymous.errors?.map((e) => [e.path[0], e.extensions.code, e.extensions.reason]),
    ).toEqual([
      ['privateMessage', 'UNAUTHENTICATED', 'missing_token'],
      ['scopedMessage', 'UNAUTHENTICATED', 'missing_token'],
      ['me', 'UNAUTHENTICATED', 'missing_token'],
    ]);
    const authenticated = await graphql(query, bearer().headers);
    expect(authenticated).toEqual({
      data: {
        publicMessage: expect.any(String),
        privateMessage: expect.any(String),
        scopedMessage: expect.any(String),
        me: { sub: 'dev-client', scopes: ['read:messages'] },
      },
    });
  });

  it('prints an opaque token that /api/me accepts through userinfo, with the profile', async () => {
    const opaque = /^export OPAQUE_TOKEN=(\S+)\n/m.exec(output)?.[1];
    expect(opaque).toBeDefined();
    const me = await call('/api/me', { headers: { Authorization: `Bearer ${opaque}` } });
    expect(me.status).toBe(200);
    expect(await me.json()).toMatchObject({
      tokenType: 'opaque',
      profile: { email: 'dev-user@example.com' },
    });
    const scoped = await call('/api/private-scoped', {
      headers: { Authorization: `Bearer ${opaque}` },
    });
    expect(scoped.status).toBe(403);
  });

  it("serves the OpenAPI document at /docs-json, with each route's token requirement, and Swagger UI at /docs", async () => {
    const res = await call('/docs-json');
    expect(res.status).toBe(200);
    const document = (await res.json()) as {
      paths: Record<string, Record<string, { security?: unknown; responses: object }>>;
      components: { securitySchemes: Record<string, unknown> };
    };
    expect(document.components.securitySchemes.bearerAuth).toMatchObject({ scheme: 'bearer' });
    expect(document.paths['/api/public'].get.security).toBeUndefined();
    expect(document.paths['/api/private'].get.security).toEqual([{ bearerAuth: [] }]);
    expect(document.paths['/api/private-scoped'].get.security).toEqual([
      { bearerAuth: ['read:messages'] },
    ]);
    expect(document.paths['/api/optional'].get.security).toEqual([{}, { bearerAuth: [] }]);
    expect(document.paths['/health'].get.security).toBeUndefined();
    expect(Object.keys(document.paths['/api/private-scoped'].get.responses)).toEqual(
      expect.arrayContaining(['401', '403']),
    );
    const ui = await call('/docs');
    expect([ui.status, await ui.text()]).toEqual([200, expect.stringContaining('swagger-ui')]);
  });

  it('publishes its RFC 9728 document at its own URL, which every challenge names', async () => {
    const metadataUrl = `${base}/.well-known/oauth-protected-resource`;
    const refused = await call('/api/private');
    expect(refused.headers.get('www-authenticate')).toContain(
      `Bearer realm="api", resource_metadata="${metadataUrl}"`,
    );
    const res = await fetch(metadataUrl);
    expect(res.status).toBe(200);
    const iss = (
      JSON.parse(Buffer.from(token.split('.')[1], 'base64url').toString()) as { iss: string }
    ).iss;
    expect(await res.json()).toMatchObject({
      // The URL this process serves, in development (AUTH_RESOURCE_URL in production).
      resource: base,
      authorization_servers: [iss],
      scopes_supported: expect.arrayContaining(['read:messages']),
      bearer_methods_supported: ['header'],
      dpop_signing_alg_values_supported: expect.arrayContaining(['ES256']),
    });
  });

  it('answers GET /health 200 while the identity provider answers', async () => {
    const res = await call('/health');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({
      status: 'ok',
      info: { identityProvider: { status: 'up' } },
    });
  });

  it('answers CORS preflights without a challenge, allowing Authorization', async () => {
    const res = await call('/api/private', {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://spa.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')?.toLowerCase()).toContain(
      'authorization',
    );
    expect(res.headers.get('www-authenticate')).toBeNull();
  });

  it('serves the socket.io gateway on /events: handshake refused without a token, whoami, scoped', async () => {
    const connect = (auth: Record<string, unknown>) =>
      io(`${base}/events`, {
        auth,
        transports: ['websocket'],
        reconnection: false,
        forceNew: true,
      });
    const anonymous = connect({});
    const refused = await new Promise<unknown>((resolve) =>
      anonymous.once('connect_error', (error: Error & { data?: unknown }) => resolve(error.data)),
    );
    expect(refused).toMatchObject({ status: 401, error: 'missing_token', reason: 'missing_token' });
    const socket = connect({ token });
    const opaque = connect({ token: /^export OPAQUE_TOKEN=(\S+)\n/m.exec(output)![1] });
    try {
      expect(await socket.emitWithAck('whoami')).toEqual({ sub: 'dev-client' });
      expect(await socket.emitWithAck('scoped')).toEqual({ ok: true });
      // An opaque token, checked by userinfo, carries no scopes.
      const exception = new Promise((resolve) => opaque.once('exception', resolve));
      opaque.emit('scoped');
      expect(await exception).toMatchObject({ status: 403, error: 'insufficient_scope' });
    } finally {
      [anonymous, socket, opaque].forEach((client) => client.close());
    }
  });

  it('never logs the tokens it printed for the developer, other than the export lines', () => {
    const everything = sample.output();
    const opaque = /^export OPAQUE_TOKEN=(\S+)\n/m.exec(everything)![1];
    expect(everything.split(token).length - 1).toBe(1);
    expect(everything.split(opaque).length - 1).toBe(1);
  });

  it("prints none of oidc-provider's notices, but one line of its own on the development provider", () => {
    // After the other tests of this file: tokens, opaque tokens, introspection and userinfo calls.
    const everything = sample.output();
    expect(everything).not.toMatch(/oidc-provider (WARNING|NOTICE)/);
    expect(everything).not.toMatch(/\bMUST\b/);
    const lines = everything.match(/^.*Development identity provider at .*$/gm) ?? [];
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(/at http:\/\/127\.0\.0\.1:\d+\/: .*in memory/);
  });
});

describe('sample app with NODE_ENV=production and no AUTH_ISSUER_URL', () => {
  it('refuses to start the development identity provider', async () => {
    const sample = await startSample({ NODE_ENV: 'production', AUTH_ISSUER_URL: undefined });
    const code = await new Promise((resolve) => sample.child.once('exit', resolve));
    expect(code).toBe(1);
    expect(sample.output()).toMatch(/refuses to run with NODE_ENV=production/);
  });
});

/** The same sample on Fastify (`SAMPLE_PLATFORM=fastify`): the same answers, headers included. */
describe('sample app on Fastify (SAMPLE_PLATFORM=fastify)', () => {
  let sample: SampleProcess;
  let base: string;
  let token: string;
  let opaque: string;

  beforeAll(async () => {
    sample = await startDevSample({ SAMPLE_PLATFORM: 'fastify' });
    base = `http://localhost:${sample.port}`;
    token = await printedExport(sample, 'TOKEN');
    opaque = await printedExport(sample, 'OPAQUE_TOKEN');
  });

  afterAll(() => sample.stop());

  const call = (path: string, accessToken?: string) =>
    fetch(`${base}${path}`, {
      headers: {
        Origin: 'https://spa.example',
        ...(accessToken ? { Authorization: `Bearer ${accessToken}` } : {}),
      },
    });

  it('runs on Fastify', async () => {
    expect(sample.output()).toMatch(/API listening on \S+ on fastify /);
    // Express answers with X-Powered-By: Express; Fastify sends no such header.
    expect((await call('/api/public')).headers.get('x-powered-by')).toBeNull();
  });

  it('answers 200, 401 with the challenge, and 403 with the scope, CORS headers exposed', async () => {
    expect((await call('/api/public')).status).toBe(200);
    expect((await call('/api/private', token)).status).toBe(200);
    const missing = await call('/api/private');
    expect(missing.status).toBe(401);
    // RFC 9728: every challenge names the metadata document of the resource (this process's URL).
    const metadata = `resource_metadata="${base}/.well-known/oauth-protected-resource"`;
    expect(missing.headers.get('www-authenticate')).toMatch(
      new RegExp(`^Bearer realm="api", ${escapeRegExp(metadata)}(, |$)`),
    );
    expect(await missing.json()).toMatchObject({ statusCode: 401, error: 'missing_token' });
    expect(missing.headers.get('access-control-expose-headers')).toBe(
      'WWW-Authenticate, Retry-After, DPoP-Nonce',
    );
    const scoped = await call('/api/private-scoped', opaque);
    expect(scoped.status).toBe(403);
    expect(scoped.headers.get('www-authenticate')).toMatch(
      new RegExp(
        `^Bearer realm="api", error="insufficient_scope", scope="read:messages", error_description="[^"]+", ${escapeRegExp(metadata)}$`,
      ),
    );
  });

  it('answers GraphQL on POST /graphql: public data, and a field error where refused', async () => {
    const res = await fetch(`${base}/graphql`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: '{ publicMessage privateMessage }' }),
    });
    const body = (await res.json()) as {
      data: Record<string, unknown>;
      errors?: { path: string[]; extensions: { code: string } }[];
    };
    expect(body.data).toEqual({ publicMessage: expect.any(String), privateMessage: null });
    expect(body.errors?.map((e) => [e.path[0], e.extensions.code])).toEqual([
      ['privateMessage', 'UNAUTHENTICATED'],
    ]);
  });

  it('serves the OpenAPI document at /docs-json and Swagger UI at /docs, and GET /health', async () => {
    const res = await call('/docs-json');
    expect(res.status).toBe(200);
    const document = (await res.json()) as {
      paths: Record<string, Record<string, { security?: unknown }>>;
    };
    expect(document.paths['/api/private-scoped'].get.security).toEqual([
      { bearerAuth: ['read:messages'] },
    ]);
    expect(document.paths['/api/public'].get.security).toBeUndefined();
    const ui = await call('/docs');
    expect([ui.status, await ui.text()]).toEqual([200, expect.stringContaining('swagger-ui')]);
    // Swagger UI's own files, served through @fastify/static.
    expect((await call('/docs/swagger-ui-bundle.js')).status).toBe(200);
    expect((await call('/health')).status).toBe(200);
  });

  it('answers CORS preflights without a challenge, allowing Authorization', async () => {
    const res = await fetch(`${base}/api/private`, {
      method: 'OPTIONS',
      headers: {
        Origin: 'https://spa.example',
        'Access-Control-Request-Method': 'GET',
        'Access-Control-Request-Headers': 'authorization',
      },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-headers')).toBe(
      'Authorization, Content-Type, DPoP',
    );
    expect(res.headers.get('www-authenticate')).toBeNull();
  });
});

describe('sample app whose identity provider cannot be reached', () => {
  it('answers GET /health 503, naming the provider as down', async () => {
    const closedPort = await freePort();
    const sample = await startSample({
      NODE_ENV: 'development',
      AUTH_ISSUER_URL: `http://127.0.0.1:${closedPort}/`,
      AUTH_AUDIENCE: 'https://api.example.com',
    });
    try {
      const base = `http://localhost:${sample.port}`;
      const deadline = Date.now() + 15000;
      while (!/API listening on/.test(sample.output()) && Date.now() < deadline) {
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
      const res = await fetch(`${base}/health`);
      expect(res.status).toBe(503);
      expect(await res.json()).toMatchObject({
        status: 'error',
        error: { identityProvider: { status: 'down', keys: 0 } },
      });
    } finally {
      await sample.stop();
    }
  });
});

describe('sample app with an unknown SAMPLE_PLATFORM', () => {
  it('refuses to start, naming the values it accepts', async () => {
    const sample = await startSample({ SAMPLE_PLATFORM: 'koa', AUTH_ISSUER_URL: undefined });
    // A sample that starts anyway is stopped, not left running: the test fails, the run goes on.
    const code = await Promise.race([
      new Promise((resolve) => sample.child.once('exit', resolve)),
      new Promise((resolve) => setTimeout(resolve, 10_000, 'still running')),
    ]);
    await sample.stop();
    expect(code).toBe(1);
    expect(sample.output()).toContain(
      'SAMPLE_PLATFORM is "koa": set it to "express" (the default) or "fastify".',
    );
  });
});

/** `text` as a regular expression that matches it literally. */
function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
}
