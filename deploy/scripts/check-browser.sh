#!/usr/bin/env bash
# The browser checks: drives the web pages in a real browser (Debian's Chromium through
# Playwright, tests/browser/*.spec.ts), as a phone (360×740, touch) and as a desktop
# (1280×800), against a platform started as the README starts it (`caravan up`, demo
# data, its own databases and ports). Every page must load nothing from outside the
# platform, pass axe-core without serious or critical findings, and stay within
# tests/browser/budget.json's page weights.
#
# Installs what it needs first (deploy/scripts/install-browser.sh: Chromium, fonts, the
# npm packages from tests/browser/package-lock.json). Arguments go to `playwright test`:
#   deploy/scripts/check-browser.sh                      # every spec, both projects
#   deploy/scripts/check-browser.sh -g "search"          # the tests whose title has "search"
#   deploy/scripts/check-browser.sh home.spec.ts --project phone
# Results, failure screenshots and traces: target/browser/results/; a screenshot of each
# page checked: target/browser/screenshots/<project>/; the platform's log:
# target/browser-check.log.
set -euo pipefail
cd "$(dirname "$0")/../.."

deploy/scripts/ensure-services.sh
deploy/scripts/install-browser.sh

# Type errors do not stop Playwright (it strips the types): catch them before the run.
(cd tests/browser && node_modules/.bin/tsc -p .)

# A base port whose next six are free too: the gateway takes it, the services the next four.
base_port=$(python3 - <<'EOF'
import socket

def free(port):
    with socket.socket() as s:
        try:
            s.bind(("127.0.0.1", port))
            return True
        except OSError:
            return False

for _ in range(100):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    if port + 6 <= 65535 and all(free(port + i) for i in range(7)):
        print(port)
        break
else:
    raise SystemExit("no free range of 7 ports found")
EOF
)

rm -rf target/browser/screenshots
# shellcheck source=lib/platform.sh
. deploy/scripts/lib/platform.sh
# Every buyer, owner and operator of these journeys browses from 127.0.0.1, which the
# gateway counts as one anonymous client (300 requests a minute by default): the
# journeys would be throttled by each other's pages. Rate limiting has its own checks
# (the security suite and the gateway's tests). Groups whose time the group-deal
# journeys move forward fail within moments: the order service sweeps every 200 ms.
CARAVAN_CHECK_PORT=$base_port start_platform browser RATE_LIMIT_ANONYMOUS=100000 \
  SWEEP_INTERVAL_MS=200

export BASE_URL="$url" DEMO_PASSWORD="$password" CARAVAN_DATABASE_PREFIX="$run"
export MAIL_URL="${MAIL_URL:-http://127.0.0.1:1080}"
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1
echo "== browser checks against $BASE_URL (platform log: $log)"
status=0
(cd tests/browser && node_modules/.bin/playwright test --workers=1 "$@") || status=$?
if [ "$status" -ne 0 ]; then
  echo "browser checks failed; results and traces in target/browser/results, the platform's log in $log" >&2
fi
exit "$status"
