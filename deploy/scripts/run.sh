#!/usr/bin/env bash
# Builds and runs the whole Caravan platform on this machine: PostgreSQL, Redis and
# the SMTP sink are started when they are not running, then `caravan up` starts the
# four services and the gateway in one process, seeds the demo cooperatives when
# the platform is empty, and prints the URLs and demo logins. Ctrl-C stops it; the
# data stays for the next run.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/ensure-services.sh
exec cargo run --quiet -p caravan-cli --bin caravan -- up "$@"
