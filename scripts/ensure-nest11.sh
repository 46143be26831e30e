#!/usr/bin/env bash
# Installs compat/nest11 (the @nestjs packages of NestJS 11, pinned in its lock file) unless it is
# there: `npm run test:nest11` runs the suite against them, and the consumer test loads the built
# package with them to prove that a NestJS 11 app requires no ES module.
set -euo pipefail
cd "$(dirname "$0")/../compat/nest11"
if [ ! -f node_modules/@nestjs/core/package.json ]; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
