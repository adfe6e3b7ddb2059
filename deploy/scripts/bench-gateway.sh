#!/usr/bin/env bash
# What the edge costs: the same reads straight from the catalog service and through
# the gateway (path check, forwarding-header rewrite, rate limit counted in Redis,
# bearer token verified for its bucket), in one run of a release build, with wrk
# (Debian package `wrk`). Prints requests/s, p50 and p99 for each and the gateway's
# ratio to the direct call.
#   deploy/scripts/bench-gateway.sh [SECONDS] [CONNECTIONS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
connections=${2:-16}
command -v wrk >/dev/null || { echo "wrk is needed: apt-get install wrk" >&2; exit 1; }
cargo build --quiet --release -p caravan-cli --bin caravan
# shellcheck source=lib/platform.sh
. deploy/scripts/lib/platform.sh
CARAVAN_BIN=target/release/caravan start_platform bench \
  RATE_LIMIT_ANONYMOUS=1000000000 RATE_LIMIT_AUTHENTICATED=1000000000 LOG_FORMAT=json RUST_LOG=warn
catalog="http://127.0.0.1:$((port + 3))"
token=$(curl -fsS -X POST "$url/v1/auth/login" -H 'content-type: application/json' \
  -d "{\"email\": \"owner@zhongning-goji.example.cn\", \"password\": \"$password\", \"tenant\": \"zhongning-goji\"}" |
  python3 -c 'import json, sys; print(json.load(sys.stdin)["access_token"])')

# shellcheck source=lib/wrk.sh
. deploy/scripts/lib/wrk.sh

storefront="/v1/shops/zhongning-goji/products?limit=20&locale=zh-CN"
staff="/v1/products?limit=20"
{
  measure storefront-direct "$catalog$storefront"
  measure storefront-gateway "$url$storefront"
  measure staff-direct "$catalog$staff" "authorization: Bearer $token"
  measure staff-gateway "$url$staff" "authorization: Bearer $token"
} >target/bench-gateway.txt
echo "c$connections, ${seconds}s each, release build, one run"
awk '
  { rps[$1] = $2; line[NR] = $0 }
  END {
    printf "%-20s %12s %10s %10s %8s %8s\n", "read", "requests/s", "p50", "p99", "non-2xx", "ratio"
    for (i = 1; i <= NR; i++) {
      split(line[i], f, " ")
      base = f[1]; sub(/-gateway$/, "-direct", base)
      ratio = (f[1] ~ /-gateway$/ && rps[base] > 0) ? sprintf("%.2f", f[2] / rps[base]) : "-"
      printf "%-20s %12s %10s %10s %8s %8s\n", f[1], f[2], f[3], f[4], f[5], ratio
    }
  }' target/bench-gateway.txt
