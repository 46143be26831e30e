import { spawn, type ChildProcess } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer } from 'node:net';
import { join } from 'node:path';

const MAIN = join(__dirname, '..', '..', 'dist', 'sample', 'main.js');

/** The built sample, run as a user runs it (`npm run sample`), with the embedded identity provider. */
describe('sample app (built, in its own process)', () => {
  let child: ChildProcess;
  let output = '';
  let base: string;
  let token: string;

  beforeAll(async () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run "npm run build" before the tests.`);
    const port = await freePort();
    base = `http://localhost:${port}`;
    const env: NodeJS.ProcessEnv = { ...process.env, PORT: String(port), NODE_ENV: 'development' };
    delete env.AUTH_ISSUER_URL;
    delete env.AUTH_AUDIENCE;
    child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    token = await waitFor(() => /^export TOKEN=(\S+)\n/m.exec(output)?.[1], 15000);
  });

  afterAll(async () => {
    if (child.exitCode === null) {
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
    }
  });

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

  it('never logs the tokens it printed for the developer, other than the export lines', () => {
    const opaque = /^export OPAQUE_TOKEN=(\S+)\n/m.exec(output)![1];
    expect(output.split(token).length - 1).toBe(1);
    expect(output.split(opaque).length - 1).toBe(1);
  });
});

describe('sample app with NODE_ENV=production and no AUTH_ISSUER_URL', () => {
  it('refuses to start the development identity provider', async () => {
    if (!existsSync(MAIN))
      throw new Error(`${MAIN} is missing: run "npm run build" before the tests.`);
    const env: NodeJS.ProcessEnv = {
      ...process.env,
      NODE_ENV: 'production',
      PORT: String(await freePort()),
    };
    delete env.AUTH_ISSUER_URL;
    const child = spawn(process.execPath, [MAIN], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    let output = '';
    child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
    const code = await new Promise((resolve) => child.once('exit', resolve));
    expect(code).toBe(1);
    expect(output).toMatch(/refuses to run with NODE_ENV=production/);
  });
});

async function waitFor<T>(probe: () => T | undefined, timeoutMs: number): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = probe();
    if (value !== undefined) return value;
    if (Date.now() > deadline) throw new Error('The sample did not print a token in time.');
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const { port } = server.address() as { port: number };
      server.close(() => resolve(port));
    });
  });
}
