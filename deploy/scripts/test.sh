#!/usr/bin/env bash
# Runs every test of the workspace against real PostgreSQL, Redis and SMTP, starting
# whichever of them is not running.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/ensure-services.sh
# The tests at their busiest (four at once, one of them a whole platform) hold up to
# this many connections; see "Connection budget" in the README.
source deploy/scripts/lib/connections.sh
ensure_connections "${CARAVAN_TEST_CONNECTIONS:-80}" "the tests"
exec cargo nextest run --workspace "$@"
