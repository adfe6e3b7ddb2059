#!/usr/bin/env bash
# Proves the public contract against the running platform. The platform starts as
# `caravan up` runs it (demo data included, its own databases, Redis prefix and
# ports). Then:
#   1. openapi-python-client (PyPI) generates a Python client from
#      openapi/caravan.json, and openapi/examples/journey.py runs a third party's
#      integration through it;
#   2. schemathesis (PyPI) fuzzes every public operation with all its default checks,
#      as a shop owner and, for the operator's operations, as the operator
#      (openapi/schemathesis.toml says how, and why any check is narrowed).
# Arguments are passed to schemathesis, e.g. `--seed 7` to explore past CI's seed.
set -euo pipefail
cd "$(dirname "$0")/../.."

tools=target/python-tools
want="openapi-python-client==0.29.1 schemathesis==4.32.5"
if ! "$tools/bin/pip" freeze 2>/dev/null | grep -qx "schemathesis==4.32.5" \
  || [ ! -x "$tools/bin/openapi-python-client" ]; then
  python3 -m venv "$tools"
  # shellcheck disable=SC2086
  "$tools/bin/pip" install --quiet $want
fi
rm -rf target/python-client
"$tools/bin/openapi-python-client" generate --path openapi/caravan.json --meta none \
  --output-path target/python-client/caravan_api >/dev/null

# The fuzzer sends thousands of requests a minute from one address and one token.
# shellcheck source=lib/platform.sh
. deploy/scripts/lib/platform.sh
start_platform contract RATE_LIMIT_ANONYMOUS=1000000 RATE_LIMIT_AUTHENTICATED=1000000

echo "== the generated client's journey"
CARAVAN_URL="$url" CARAVAN_PASSWORD="$password" PYTHONPATH=target/python-client \
  "$tools/bin/python" openapi/examples/journey.py

echo "== schemathesis"
token() {
  curl -fsS -X POST "$url/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"email\": \"$1\", \"password\": \"$password\"}" |
    "$tools/bin/python" -c 'import json, sys; print(json.load(sys.stdin)["access_token"])'
}
OWNER_TOKEN=$(token owner@zhongning-goji.example.cn)
OPERATOR_TOKEN=$(token operator@caravan.example.cn)
# Records of the demo shop, so operations on one record reach its logic, not a 404:
# an order and a product for the staff operations, and another product for the
# storefront (the fuzzer archives the first).
owned() {
  curl -fsS "$url$1" -H "authorization: Bearer $OWNER_TOKEN" |
    "$tools/bin/python" -c "import json, sys; items = json.load(sys.stdin)['items']; print($2)"
}
DEMO_ORDER=$(owned '/v1/orders?limit=1' "items[0]['id']")
read -r DEMO_PRODUCT DEMO_HANDLE < <(owned '/v1/products?limit=2' "items[0]['id'], items[1]['handle']")
[ -n "${DEMO_HANDLE:-}" ] || { echo "the demo shop has fewer than two products" >&2; exit 1; }
# A tenant for the operator's operations: another cooperative than the owner's.
DEMO_TENANT=$(curl -fsS "$url/v1/tenants?limit=100" -H "authorization: Bearer $OPERATOR_TOKEN" |
  "$tools/bin/python" -c 'import json, sys; print(next(t["id"] for t in json.load(sys.stdin)["items"] if t["slug"] == "hotan-jujube"))')
export OWNER_TOKEN OPERATOR_TOKEN DEMO_ORDER DEMO_PRODUCT DEMO_HANDLE DEMO_TENANT
"$tools/bin/st" --config-file openapi/schemathesis.toml run openapi/caravan.json \
  --url "$url" --workers 2 --no-color "$@"
