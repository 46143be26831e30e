/**
 * The consumer test (`npm run test:consumer`): test/consumer/*.consumer-spec.ts only, which the
 * main configuration does not match. It checks the packed package, so it takes no coverage.
 * @type {import('jest').Config}
 */
const { join } = require('node:path');
const base = require('../../jest.config.js');

module.exports = {
  ...base,
  rootDir: join(__dirname, '..', '..'),
  roots: ['<rootDir>/test/consumer'],
  testMatch: ['**/*.consumer-spec.ts'],
  collectCoverage: false,
  coverageThreshold: undefined,
};
