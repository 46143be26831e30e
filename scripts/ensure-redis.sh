#!/usr/bin/env bash
# The shared-cache tests run a real redis-server on 127.0.0.1. Installs Debian's package when it is
# missing and this user may (root with apt-get); otherwise says how.
set -euo pipefail
command -v redis-server >/dev/null 2>&1 && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing redis-server (Debian package) for the shared-cache tests..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends redis-server >/dev/null
  exit 0
fi
echo "The tests need redis-server: install it (Debian/Ubuntu: sudo apt-get install redis-server; macOS: brew install redis)." >&2
exit 1
