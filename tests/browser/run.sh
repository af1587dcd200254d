#!/usr/bin/env bash
# Browser tests of the kiosk web app against the real `sabak serve`:
# Playwright driving Debian's chromium, and puppeteer-core driving Debian's
# firefox-esr over WebDriver BiDi (firefox.test.mjs); both pinned in
# package-lock.json.
# Env: SABAK (build/sabak), SABAK_SRC (repo root), SABAK_BUILD (screenshots go
# to $SABAK_BUILD/screenshots), SABAK_TEST_TMP (scratch space).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$here"

if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    echo "browser tests: node and npm are needed (apt-get install nodejs npm)" >&2
    exit 1
fi
if [ ! -x /usr/bin/chromium ]; then
    echo "browser tests: /usr/bin/chromium is needed (apt-get install chromium)" >&2
    exit 1
fi

# npm ci when node_modules is missing or older than the lock file.
stamp=node_modules/.package-lock.json
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    npm ci --no-audit --no-fund
fi

# The spec file to run: web.test.mjs unless one is named (carry.test.mjs, ...).
exec node "$here/${1:-web.test.mjs}"
