#!/usr/bin/env bash
# The browser test (test/sample/browser.e2e-spec.ts) drives Debian's chromium with playwright-core.
# Installs Debian's package when it is missing and this user may (root with apt-get); otherwise says how.
set -euo pipefail
[ -x /usr/bin/chromium ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
  echo "Installing chromium (Debian package) for the browser test..."
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
  exit 0
fi
echo "The browser test needs /usr/bin/chromium: install it (Debian/Ubuntu: sudo apt-get install chromium)." >&2
exit 1
