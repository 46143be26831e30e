// Preloaded (`node --require`) into processes the NestJS 11 test run spawns, such as the sample:
// `@nestjs/*` requests resolve from this folder's node_modules instead of the project's NestJS 12.
'use strict';
const Module = require('node:module');
const { join } = require('node:path');

const nest11 = join(__dirname, 'node_modules');
const resolveFilename = Module._resolveFilename;
Module._resolveFilename = function (request, parent, ...rest) {
  if (typeof request === 'string' && request.startsWith('@nestjs/')) {
    return resolveFilename.call(this, request, parent, false, { paths: [nest11] });
  }
  return resolveFilename.call(this, request, parent, ...rest);
};
