#!/usr/bin/env bash
# Browser tests of the grse-http pages: the demo's regions with a day of snapshots on a
# throw-away cluster, grse-http in front, and Debian's headless Chromium (driven by
# playwright-core from npm, no browser download) signing in, checking every region and its bars,
# clicking through, and watching a mode change arrive live. Screenshots of each page are kept in
# tests/browser/artifacts/ (DOCS_IMG=1 also copies them to docs/img/). Prints ok/not ok lines and
# "browser: N passed, M failed".
set -euo pipefail

export DB=grse_browser_test SUITE=browser
HERE=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=tests/concurrency/lib.sh
source "$HERE/../concurrency/lib.sh"
# shellcheck source=tests/http/lib.sh
source "$HERE/../http/lib.sh"
trap 'stop_server; cleanup' EXIT

[ -x /usr/bin/chromium ] || { fail "Debian's chromium is installed (scripts/setup.sh installs it)"; finish; }
command -v node >/dev/null || { fail "node is installed"; finish; }
if [ ! -f "$HERE/node_modules/playwright-core/package.json" ]; then
    (cd "$HERE" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error)
fi
build_server

psql_q -c "CREATE EXTENSION grse" >/dev/null
"$PG_BIN/psql" -X -q -v ON_ERROR_STOP=1 -f "$ROOT/scripts/demo.sql" >"$WORK/demo.out" 2>&1 \
    || { cat "$WORK/demo.out"; fail "the demo scenario runs"; finish; }
psql_q -f "$ROOT/scripts/dashboard.sql" >/dev/null
create_login_role grse_reader
start_server

ARTIFACTS="$HERE/artifacts"
rm -rf "$ARTIFACTS"
mkdir -p "$ARTIFACTS" "$WORK/chromium-profile"
rc=0
BASE="$BASE" TOKEN="$(token grse_reader)" BAD_TOKEN="$(jwt '{"role":"grse_reader"}' "not the server's secret, but 32 bytes long")" \
    ARTIFACTS="$ARTIFACTS" USER_DATA_DIR="$WORK/chromium-profile" \
    PSQL="$PG_BIN/psql" PGDATABASE="$DB" \
    timeout 240 node "$HERE/pages.test.mjs" >"$WORK/node.out" 2>&1 || rc=$?
cat "$WORK/node.out"
PASSED=$((PASSED + $(grep -c '^ok - ' "$WORK/node.out" || true)))
FAILED=$((FAILED + $(grep -c '^not ok - ' "$WORK/node.out" || true)))
if [ "$rc" -ne 0 ] && ! grep -q '^not ok - ' "$WORK/node.out"; then
    fail "the browser session ran to its end (exit $rc)"
fi
for shot in regions region; do
    if [ -s "$ARTIFACTS/$shot.png" ]; then pass "screenshot $shot.png kept"; else fail "screenshot $shot.png kept"; fi
done
echo "# screenshots in $ARTIFACTS"
if [ "${DOCS_IMG:-0}" = 1 ]; then
    mkdir -p "$ROOT/docs/img"
    cp "$ARTIFACTS/regions.png" "$ROOT/docs/img/dashboard-regions.png"
    cp "$ARTIFACTS/region.png" "$ROOT/docs/img/dashboard-region.png"
    echo "# copied to docs/img/"
fi
finish
