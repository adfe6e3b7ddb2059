#!/usr/bin/env bash
# Each service on its own, as compose and Kubernetes run it (release build, its own
# database and Redis prefix): how long from start until /readyz answers 200 — on
# first start (database created and migrated) and on a restart —, its resident
# memory idle, and again after SECONDS of wrk at CONNECTIONS on a read that reaches
# its database (an unknown shop's storefront for the catalog, /readyz elsewhere).
#   deploy/scripts/bench-footprint.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
connections=${2:-32}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
services=(auth tenant catalog order)
# One build of the platform and of each service's own binary (the same features).
cargo build --quiet --release --bins \
  -p caravan-cli -p caravan-auth -p caravan-tenant -p caravan-catalog -p caravan-order
set -a
# shellcheck disable=SC1090
. <(target/release/caravan secrets)
set +a
run="footprint_$(date +%s)_$$"
pid=
cleanup() {
  [ -z "$pid" ] || kill "$pid" 2>/dev/null || true
  for service in "${services[@]}"; do
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS ${run}_${service} WITH (FORCE)" >/dev/null 2>&1 || true
  done
}
trap cleanup EXIT

rss_mb() { awk '/VmRSS/ { printf "%.1f", $2 / 1024 }' "/proc/$1/status"; }

# start SERVICE PORT: starts it, waits for /readyz; sets pid and ready_ms.
start() {
  local service=$1 port=$2 database="${run}_$1"
  local began
  began=$(date +%s%N)
  env BIND="127.0.0.1:$port" REDIS_PREFIX="caravan-$run" LOG_FORMAT=json RUST_LOG=warn \
    DATABASE_URL="postgres://caravan_$service@127.0.0.1:5432/$database" \
    MIGRATION_DATABASE_URL="postgres://postgres@127.0.0.1:5432/$database" \
    "target/release/caravan-$service" >>"target/footprint-$service.log" 2>&1 &
  pid=$!
  for _ in $(seq 1 3000); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/readyz")" = 200 ] && break
    kill -0 "$pid" 2>/dev/null || { cat "target/footprint-$service.log" >&2; exit 1; }
    sleep 0.01
  done
  ready_ms=$(( ($(date +%s%N) - began) / 1000000 ))
}

stop() {
  kill -TERM "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
  pid=
}

printf "%-8s %14s %12s %10s %12s %12s\n" service "first start" restart "idle RSS" "load req/s" "RSS after"
port=$((19200 + RANDOM % 500))
for service in "${services[@]}"; do
  : >"target/footprint-$service.log"
  start "$service" "$port"
  first=$ready_ms
  stop
  start "$service" "$port"
  sleep 3
  idle=$(rss_mb "$pid")
  case $service in
    catalog) read="http://127.0.0.1:$port/v1/shops/no-such-shop/products" ;;
    *) read="http://127.0.0.1:$port/readyz" ;;
  esac
  rate=$(wrk -t2 "-c$connections" "-d${seconds}s" "$read" | awk '/Requests\/sec/ { print $2 }')
  after=$(rss_mb "$pid")
  printf "%-8s %11s ms %9s ms %7s MB %12s %9s MB\n" "$service" "$first" "$ready_ms" "$idle" "$rate" "$after"
  stop
  port=$((port + 1))
done
