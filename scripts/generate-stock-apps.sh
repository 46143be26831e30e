#!/usr/bin/env bash
# Regenerates compat/stock-apps: the apps `nest new` makes, as users get them, which the consumer
# test (test/consumer/stock-apps.consumer-spec.ts) installs the packed package into. Run it to
# follow a new @nestjs/cli; commit what it writes, unedited.
#   nest12-esm: @nestjs/cli 12, --type esm (CLI 12's default): ES modules, Vitest
#   nest12-cjs: @nestjs/cli 12, --type cjs: CommonJS, Jest + ts-jest under --experimental-vm-modules
#   nest11:     @nestjs/cli 11 (its only template): CommonJS, Jest + ts-jest
# CLI 12 needs Node 22 or later: it runs on compat/node24's Node (scripts/ensure-node24.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
CLI12=12.0.15
CLI11=11.0.13
root=$PWD
node24=$(bash scripts/ensure-node24.sh)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

generate() { # name cli-version args...
  local name=$1 cli=$2
  shift 2
  (cd "$work" && PATH="$(dirname "$node24"):$PATH" npx -y "@nestjs/cli@$cli" new "$name" \
    --package-manager npm --skip-git "$@" > "$work/$name.log" 2>&1) ||
    { cat "$work/$name.log"; exit 1; }
  rm -rf "$root/compat/stock-apps/$name"
  mkdir -p "$root/compat/stock-apps/$name"
  (cd "$work/$name" && tar --exclude=./node_modules --exclude=./.git -cf - .) |
    (cd "$root/compat/stock-apps/$name" && tar -xf -)
  echo "compat/stock-apps/$name: @nestjs/cli $cli new $*"
}

generate nest12-esm "$CLI12" --type esm --no-observe --skip-skills --no-interactive
generate nest12-cjs "$CLI12" --type cjs --no-observe --skip-skills --no-interactive
generate nest11 "$CLI11" --strict
