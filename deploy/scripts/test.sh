#!/usr/bin/env bash
# Runs every test of the workspace against real PostgreSQL, Redis and SMTP, starting
# whichever of them is not running.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/ensure-services.sh
exec cargo nextest run --workspace "$@"
