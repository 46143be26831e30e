/**
 * The suite against NestJS 11 (`npm run test:nest11`): every `@nestjs/*` import, the library's
 * and the tests', resolves from compat/nest11/node_modules (installed with
 * `npm ci --prefix compat/nest11`). NestJS 11 ships CommonJS, so those files are not transformed.
 * Everything else (rxjs, reflect-metadata, graphql, passport, ...) stays the project's single copy.
 * @type {import('jest').Config}
 */
const { join } = require('node:path');
const base = require('./jest.config.js');

const nest11 = join(__dirname, 'compat', 'nest11', 'node_modules');

// The sample tests run `node dist/sample/main.js` in a child process, outside Jest's resolver: this
// preload sends its `@nestjs/*` requires to NestJS 11 too. Workers and their children inherit it.
process.env.NODE_OPTIONS = [
  process.env.NODE_OPTIONS,
  `--require ${join(__dirname, 'compat', 'nest11', 'resolve-nest11.cjs')}`,
]
  .filter(Boolean)
  .join(' ');
process.env.NEST_MAJOR = '11';

module.exports = {
  ...base,
  moduleNameMapper: { '^@nestjs/(.*)$': `${nest11}/@nestjs/$1` },
  transformIgnorePatterns: [...base.transformIgnorePatterns, '/compat/nest11/node_modules/'],
  // The coverage gate is the NestJS 12 run's; this one checks behaviour.
  collectCoverage: false,
};
