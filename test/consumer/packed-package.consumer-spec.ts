import { spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { generateKey, KeyServer } from '../support/key-server';
import { findLeaks } from '../support/log-capture';
import { npm, pack, run } from './consumer-support';

/**
 * The package as users get it (`npm run test:consumer`, after `npm run build`): `npm pack`, the
 * tarball installed into fresh NestJS 11 and 12 apps outside this repository (so that nothing
 * resolves from its node_modules, and no @types/passport* is there), compiled by each app's own
 * TypeScript with skipLibCheck off, started as `node dist/main.js`, and asked for 200, 401 and 403
 * against a real issuer. The apps (test/consumer/apps) import only the public entry points:
 * NestJS 11 is CommonJS on Express with TypeScript 5; NestJS 12 is ES modules on Express and
 * Fastify with TypeScript 7. Each app's dependencies are installed once and reused while its
 * package.json is unchanged; the tarball is installed afresh every run.
 */
const appsSource = join(__dirname, 'apps');
const workDir = join(tmpdir(), 'nest-oauth2-bearer-consumer');

interface ConsumerApp {
  name: 'nest11' | 'nest12';
  /** Platform, and the compiled entry that starts the app on it. */
  mains: ReadonlyArray<readonly ['express' | 'fastify', string]>;
}

const APPS: readonly ConsumerApp[] = [
  { name: 'nest11', mains: [['express', 'main.js']] },
  {
    name: 'nest12',
    mains: [
      ['express', 'main.js'],
      ['fastify', 'main-fastify.js'],
    ],
  },
];

/** Installs the app (its pinned dependencies once, the tarball every time) and compiles it. */
async function prepare(app: ConsumerApp, tarball: string): Promise<string> {
  const dir = join(workDir, app.name);
  const manifest = readFileSync(join(appsSource, app.name, 'package.json'), 'utf8');
  const stamp = createHash('sha256').update(manifest).digest('hex');
  const stampFile = join(dir, '.installed');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    writeFileSync(join(dir, 'package.json'), manifest);
    await npm(['install'], dir);
    writeFileSync(stampFile, stamp);
  }
  rmSync(join(dir, 'node_modules', 'nest-oauth2-bearer'), { recursive: true, force: true });
  await npm(['install', '--no-save', tarball], dir);

  for (const stale of ['src', 'dist']) rmSync(join(dir, stale), { recursive: true, force: true });
  mkdirSync(join(dir, 'src'));
  const sources = ['app.module.ts', 'main.ts'];
  if (app.mains.some(([platform]) => platform === 'fastify')) sources.push('main-fastify.ts');
  for (const file of sources) cpSync(join(appsSource, 'src', file), join(dir, 'src', file));
  cpSync(join(appsSource, 'tsconfig.json'), join(dir, 'tsconfig.json'));
  try {
    await run(process.execPath, [join(dir, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', dir]);
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${app.name}: tsc failed (skipLibCheck off):\n${stdout}${stderr}`, {
      cause: error,
    });
  }
  return dir;
}

interface RunningApp {
  url: string;
  output(): string;
  stop(): Promise<void>;
}

/** Starts `node dist/<main>` and waits for the URL it prints once it listens. */
async function start(dir: string, main: string, env: NodeJS.ProcessEnv): Promise<RunningApp> {
  const child: ChildProcess = spawn(process.execPath, [join(dir, 'dist', main)], {
    cwd: dir,
    env: { PATH: process.env.PATH, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  const stop = async () => {
    if (child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise((resolve) => child.once('exit', resolve));
    child.kill('SIGTERM');
    await exited;
  };
  const deadline = Date.now() + 20000;
  for (;;) {
    const url = /^listening on (\S+)$/m.exec(output)?.[1];
    if (url !== undefined) return { url, output: () => output, stop };
    if (Date.now() > deadline || child.exitCode !== null) {
      await stop();
      throw new Error(`${dir}/dist/${main} did not start:\n${output.slice(-3000)}`);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

let issuer: KeyServer;
const prepared = new Map<string, Promise<string>>();

beforeAll(async () => {
  issuer = await KeyServer.start();
  const tarball = await pack(join(workDir, 'packed'));
  for (const app of APPS) {
    const dir = prepare(app, tarball);
    dir.catch(() => undefined); // reported by the tests of that app
    prepared.set(app.name, dir);
  }
  await Promise.allSettled(prepared.values());
}, 240000);

afterAll(async () => {
  await issuer?.stop();
});

describe.each(APPS)('the packed package in a NestJS $name app', (app) => {
  it('installs without @types/passport or @types/passport-jwt and compiles with skipLibCheck off', async () => {
    const dir = await prepared.get(app.name)!;
    for (const types of ['passport', 'passport-jwt']) {
      expect(existsSync(join(dir, 'node_modules', '@types', types))).toBe(false);
    }
    expect(existsSync(join(dir, 'dist', 'main.js'))).toBe(true);
  });

  it.each([
    ['nest-oauth2-bearer/swagger', '@nestjs/swagger'],
    ['nest-oauth2-bearer/health', '@nestjs/terminus'],
    ['nest-oauth2-bearer/socket.io', '@nestjs/platform-socket.io'],
    ['nest-oauth2-bearer/ws', '@nestjs/platform-ws'],
  ])('stops %s with the install command when %s is missing', async (entry, peer) => {
    const dir = await prepared.get(app.name)!;
    expect(existsSync(join(dir, 'node_modules', ...peer.split('/')))).toBe(false);
    const loaded = await run(process.execPath, ['-e', `require(${JSON.stringify(entry)})`], {
      cwd: dir,
    }).then(
      () => 'loaded',
      (error: { stderr: string }) => error.stderr,
    );
    expect(loaded).toContain(
      `${entry} needs the optional peer dependency ${peer}, which is not installed: npm install ${peer}`,
    );
  });

  describe.each(app.mains)('on %s', (_platform, main) => {
    let running: RunningApp;
    const tokens: string[] = [];

    beforeAll(async () => {
      const dir = await prepared.get(app.name)!;
      running = await start(dir, main, {
        AUTH_ISSUER_URL: issuer.issuer,
        AUTH_AUDIENCE: issuer.audience,
      });
    }, 30000);

    afterAll(async () => {
      await running?.stop();
    });

    const get = (path: string, token?: string) => {
      if (token) tokens.push(token);
      return fetch(`${running.url}${path}`, {
        headers: token ? { authorization: `Bearer ${token}` } : {},
      });
    };

    it('answers a public route with 200', async () => {
      const response = await get('/public');
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ ok: true });
    });

    it("answers a request without a token with 401 and a challenge naming the route's scope", async () => {
      const response = await get('/messages');
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(
        /^Bearer realm="api", scope="read:messages", resource_metadata="https:\/\/[^"]+\/\.well-known\/oauth-protected-resource"(, |$)/,
      );
    });

    it('answers a valid token with 200 and the user', async () => {
      const response = await get('/messages', issuer.token());
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ sub: 'auth0|user-1' });
    });

    it('answers a token signed by another key with 401 invalid_token', async () => {
      const forged = issuer.token({}, {}, generateKey('RS256', issuer.key.kid));
      const response = await get('/messages', forged);
      expect(response.status).toBe(401);
      expect(response.headers.get('www-authenticate')).toMatch(/^Bearer .*error="invalid_token"/);
    });

    it('answers a token without the route scope with 403 insufficient_scope', async () => {
      const response = await get('/admin', issuer.token());
      expect(response.status).toBe(403);
      expect(response.headers.get('www-authenticate')).toMatch(
        /^Bearer .*error="insufficient_scope".*scope="admin"/,
      );
    });

    it('never writes a token to its output', () => {
      expect(findLeaks(running.output().split('\n'), tokens)).toEqual([]);
    });
  });
});
