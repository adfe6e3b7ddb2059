#!/usr/bin/env bash
# Proves the public contract with a generated client: openapi-python-client (PyPI)
# generates a Python client from openapi/caravan.json, the platform starts as
# `caravan up` runs it (demo data included, its own databases and ports), and
# openapi/examples/journey.py runs a third party's integration through that client.
set -euo pipefail
cd "$(dirname "$0")/../.."

tools=target/python-tools
if [ ! -x "$tools/bin/openapi-python-client" ]; then
  python3 -m venv "$tools"
  "$tools/bin/pip" install --quiet openapi-python-client==0.29.1
fi
rm -rf target/python-client
"$tools/bin/openapi-python-client" generate --path openapi/caravan.json --meta none \
  --output-path target/python-client/caravan_api >/dev/null

cargo build --quiet -p caravan-cli --bin caravan
run="client_$(date +%s)_$$"
port=${CARAVAN_CHECK_PORT:-18080}
log=target/client-check.log
CARAVAN_PORT=$port CARAVAN_DATABASE_PREFIX="$run" REDIS_PREFIX="caravan-$run" \
  target/debug/caravan up >"$log" 2>&1 &
platform=$!
cleanup() {
  kill -INT "$platform" 2>/dev/null || true
  wait "$platform" 2>/dev/null || true
  for service in auth tenant catalog order; do
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS ${run}_${service} WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT
for _ in $(seq 1 300); do
  grep -q "Caravan is running" "$log" && break
  kill -0 "$platform" 2>/dev/null || { cat "$log" >&2; exit 1; }
  sleep 1
done
grep -q "Caravan is running" "$log" || { echo "the platform did not start; see $log" >&2; exit 1; }
CARAVAN_URL="http://127.0.0.1:$port" PYTHONPATH=target/python-client \
  "$tools/bin/python" openapi/examples/journey.py
