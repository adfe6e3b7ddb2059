#!/usr/bin/env bash
# Builds and runs the whole Caravan platform on this machine: PostgreSQL, Redis and
# the SMTP sink are started when they are not running, then `caravan up` starts the
# four services, the web faces and the gateway in one process, seeds the demo
# cooperatives when the platform is empty, and prints the shops' URLs and the demo
# logins. Logs go to a file (`--verbose` shows them here). Ctrl-C stops it; the
# data stays for the next run.
set -euo pipefail
cd "$(dirname "$0")/../.."
deploy/scripts/ensure-services.sh
echo "Building Caravan (the first build compiles a few hundred crates: several minutes on two cores) …"
cargo build -p caravan-cli --bin caravan
exec target/debug/caravan up "$@"
