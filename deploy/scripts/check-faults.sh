#!/usr/bin/env bash
# The fault suite: starts the platform one process per service, as Kubernetes runs
# it (auth, tenant, catalog, order and the gateway, on spare ports, with their own
# PostgreSQL cluster, Redis and SMTP sink), drives mixed storefront traffic through
# the gateway, and injects one fault after another: Redis killed and restarted
# empty, PostgreSQL restarted, the catalog killed mid-reservation, the order service
# stopped with SIGTERM, the webhook receiver slow then failing. After each it reads
# the databases and checks the invariants (orders, stock, events, webhooks, status
# codes, readiness); tools/faults/ says what each one is. Prints a table; fails when
# an invariant does not hold. Service logs stay in target/faults/.
#   deploy/scripts/check-faults.sh [FAULT ...]     (redis postgres catalog order webhook)
# CARAVAN_BIN_DIR: a directory with the five binaries built already (default: a
# debug build made here).
set -euo pipefail
cd "$(dirname "$0")/../.."
bin=${CARAVAN_BIN_DIR:-target/debug}
[ -n "${CARAVAN_BIN_DIR:-}" ] || cargo build --quiet -p caravan-auth -p caravan-tenant \
  -p caravan-catalog -p caravan-order -p caravan-gateway
root=target/faults
source deploy/scripts/lib/stack.sh
prepare_stack "$root"
python3 tools/faults/check.py "$root" "$bin" "$@"
