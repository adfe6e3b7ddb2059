#!/usr/bin/env bash
# The soak: a release build run one process per service (as Kubernetes runs it, with
# its own PostgreSQL cluster, Redis and SMTP sink), mixed storefront traffic through
# the gateway (browsing, carts, checkouts, test-card payments, shipping) at half of
# the measured checkout capacity, or at RATE checkouts/s, for MINUTES. Prints per
# minute: checkouts/s, requests/s, p50/p99 latency (all requests and checkouts),
# non-2xx answers, each process's RSS (VmRSS), open database connections per
# service's database (pg_stat_activity: auth/tenant/catalog/order) and the relay lag
# (events the slowest consumer has still to handle, and the age of the oldest);
# flags RSS growth beyond 10 % after the first minute. Logs in target/soak/.
#   deploy/scripts/bench-soak.sh [MINUTES=10] [RATE]
# CARAVAN_BIN_DIR: a directory with the five release binaries built already.
set -euo pipefail
cd "$(dirname "$0")/../.."
minutes=${1:-10}
rate=${2:-}
bin=${CARAVAN_BIN_DIR:-target/release}
[ -n "${CARAVAN_BIN_DIR:-}" ] || cargo build --quiet --release -p caravan-auth -p caravan-tenant \
  -p caravan-catalog -p caravan-order -p caravan-gateway
root=target/soak
source deploy/scripts/lib/stack.sh
prepare_stack "$root"
echo "release build, one process per service; the load generator shares the machine's $(nproc) cores"
python3 tools/faults/soak.py "$root" "$bin" "$minutes" "$rate"
