#!/usr/bin/env bash
# The public contract in openapi/: what the code serves, and clean under Redocly's
# linter with the rule set in openapi/redocly.yaml (exceptions carry their reasons).
set -euo pipefail
cd "$(dirname "$0")/../.."
if [ ! -x tools/node_modules/.bin/redocly ]; then
  (cd tools && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
cargo run --quiet -p caravan-cli --bin caravan -- openapi check
cd openapi
../tools/node_modules/.bin/redocly lint caravan.json --config redocly.yaml 2>&1 \
  | grep -v -e '║' -e '╔' -e '╚'
