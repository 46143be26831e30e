import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';

/**
 * The suite runs twice in CI: against NestJS 12 (the project's own install) and against NestJS 11
 * (`npm run test:nest11`, NEST_MAJOR=11). This spec makes sure each run really uses the NestJS it
 * claims, in Jest and in the processes it spawns (the sample), so that neither silently tests the
 * other.
 */
const root = join(__dirname, '..', '..');
interface PackageJson {
  name: string;
  version: string;
  dependencies?: Record<string, string>;
  devDependencies?: Record<string, string>;
}
const manifest = (path: string): PackageJson =>
  JSON.parse(readFileSync(join(root, path), 'utf8')) as PackageJson;

const nest11 = process.env.NEST_MAJOR === '11';
const expected = nest11
  ? manifest('compat/nest11/package.json').dependencies!
  : manifest('package.json').devDependencies!;
const nestPackages = Object.keys(expected).filter((name) => name.startsWith('@nestjs/'));

/** The version of the package an entry file belongs to (some do not export their package.json). */
function installedVersion(entry: string, name: string): string {
  for (let dir = dirname(entry); dir !== dirname(dir); dir = dirname(dir)) {
    const path = join(dir, 'package.json');
    if (!existsSync(path)) continue;
    const { name: found, version } = JSON.parse(readFileSync(path, 'utf8')) as PackageJson;
    if (found === name) return version;
  }
  throw new Error(`no package.json of ${name} above ${entry}`);
}

describe(`NestJS ${nest11 ? 11 : 12} is the one under test`, () => {
  it.each(nestPackages)('%s resolves to the expected version in Jest', (name) => {
    expect(installedVersion(require.resolve(name), name)).toBe(expected[name]);
  });

  it('@nestjs/core resolves to the expected version in a spawned process (the sample)', () => {
    const version = execFileSync(
      process.execPath,
      ['-p', "require('@nestjs/core/package.json').version"],
      { cwd: root, env: process.env, encoding: 'utf8' },
    ).trim();
    expect(version).toBe(expected['@nestjs/core']);
  });
});
