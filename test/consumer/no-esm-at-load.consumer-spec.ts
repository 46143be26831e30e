import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';

/**
 * The built entry points load where a stock NestJS 11 app's Jest loads them (issue 22): Jest's
 * CommonJS runtime (ts-jest, no --experimental-vm-modules) cannot require an ES module, so a
 * dependency that is ESM-only at load (jose 6 was) failed the app's own tests at import. Plain
 * `node` would load it (require(esm)), so each entry is required in a child process whose preload
 * refuses every ES module (a .mjs file, or a .js file whose nearest package.json says
 * "type": "module"), with `@nestjs/*` resolved from compat/nest11/node_modules, as in such an app
 * (NestJS 12 is ESM-only, NestJS 11 CommonJS).
 */
const run = promisify(execFile);
const root = join(__dirname, '..', '..');
const nest11 = join(root, 'compat', 'nest11', 'node_modules');
const manifest = JSON.parse(readFileSync(join(root, 'package.json'), 'utf8')) as {
  exports: Record<string, string | { default: string }>;
};
const entries = Object.entries(manifest.exports)
  .filter((entry): entry is [string, { default: string }] => typeof entry[1] !== 'string')
  .map(([subpath, target]) => [subpath, target.default] as const);

const PRELOAD = `'use strict';
const Module = require('node:module');
const { existsSync, readFileSync } = require('node:fs');
const { dirname, extname, join } = require('node:path');

const nest11 = process.env.NEST11_MODULES;
const typeOf = new Map();
/** The "type" of the nearest package.json above dir, as Node reads it for a .js file. */
function packageType(dir) {
  if (typeOf.has(dir)) return typeOf.get(dir);
  const file = join(dir, 'package.json');
  let type;
  if (existsSync(file)) type = JSON.parse(readFileSync(file, 'utf8')).type ?? 'commonjs';
  else type = dirname(dir) === dir ? 'commonjs' : packageType(dirname(dir));
  typeOf.set(dir, type);
  return type;
}
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, isMain, options) {
  const file =
    typeof request === 'string' && request.startsWith('@nestjs/')
      ? resolveFilename.call(this, request, parent, false, { paths: [nest11] })
      : resolveFilename.call(this, request, parent, isMain, options);
  const ext = extname(file);
  if (ext === '.mjs' || (ext === '.js' && packageType(dirname(file)) === 'module')) {
    throw new Error(
      'ES module required at load (Jest CommonJS cannot): ' + request + ' -> ' + file +
        ' from ' + (parent && parent.filename),
    );
  }
  return file;
};
`;

describe('the built entry points load without any ES module (a NestJS 11 app under Jest)', () => {
  let dir: string;
  let preload: string;

  beforeAll(() => {
    if (!existsSync(join(root, 'dist', 'lib', 'index.js'))) {
      throw new Error('dist/lib is missing: run "npm run build" first.');
    }
    if (!existsSync(join(nest11, '@nestjs', 'common'))) {
      throw new Error(
        `${nest11} is missing: install NestJS 11 there with "npm ci --prefix compat/nest11".`,
      );
    }
    dir = mkdtempSync(join(tmpdir(), 'no-esm-at-load-'));
    preload = join(dir, 'refuse-esm.cjs');
    writeFileSync(preload, PRELOAD);
  });

  afterAll(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  /** Requires `request` from the repository's root under the preload; its stderr on failure. */
  async function load(request: string): Promise<string> {
    try {
      await run(
        process.execPath,
        ['--require', preload, '-e', `require(${JSON.stringify(request)})`],
        {
          cwd: root,
          env: { PATH: process.env.PATH, NEST11_MODULES: nest11 },
        },
      );
      return 'loaded';
    } catch (error) {
      return (error as { stderr: string }).stderr;
    }
  }

  it('has entry points to check', () => {
    expect(entries.map(([subpath]) => subpath)).toEqual(expect.arrayContaining(['.', './testing']));
  });

  it.each(entries)('loads %s (%s)', async (_subpath, target) => {
    expect(await load(join(root, target))).toBe('loaded');
  });

  it('refuses an ES module, so that the check above is not vacuous (jose 6, @nestjs 12)', async () => {
    expect(await load('jose')).toMatch(/ES module required at load/);
    expect(await load(join(root, 'node_modules', '@nestjs', 'common'))).toMatch(
      /ES module required at load/,
    );
  });

  it('resolves @nestjs/* to NestJS 11 (CommonJS)', async () => {
    expect(await load('@nestjs/common')).toBe('loaded');
    expect(await load('@nestjs/passport')).toBe('loaded');
  });
});
