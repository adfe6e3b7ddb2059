#!/usr/bin/env bash
# What a page costs beside the JSON it is made from: the product list and a product
# page as HTML (browser → gateway → web tier → gateway → catalog and tenant) and the
# JSON API's calls for the same data through the gateway, alternating JSON and HTML
# twice, in one run of a release build, with wrk (Debian package `wrk`). Prints
# requests/s, p50 and p99 for each and what one HTML page costs in JSON calls' time
# (JSON requests/s ÷ HTML requests/s; the target is at most 1.5).
#   deploy/scripts/bench-storefront.sh [SECONDS] [CONNECTIONS]
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

# shellcheck source=lib/wrk.sh
. deploy/scripts/lib/wrk.sh

shop=zhongning-goji
handle=first-harvest-goji
list_json="$url/v1/shops/$shop/products?limit=20&locale=zh-CN&currency=CNY"
list_html="$url/s/$shop/zh-CN/products"
product_json="$url/v1/shops/$shop/products/$handle?locale=zh-CN&currency=CNY"
product_html="$url/s/$shop/zh-CN/p/$handle"
for page in "$list_html" "$product_html"; do
  curl -fsS -o /dev/null "$page" || { echo "$page does not answer" >&2; exit 1; }
done
{
  for round in 1 2; do
    measure "list-json-$round" "$list_json" 'accept-encoding: gzip'
    measure "list-html-$round" "$list_html" 'accept-encoding: gzip'
    measure "product-json-$round" "$product_json" 'accept-encoding: gzip'
    measure "product-html-$round" "$product_html" 'accept-encoding: gzip'
  done
} >target/bench-storefront.txt
echo "c$connections, ${seconds}s each, release build, JSON and HTML alternating twice"
awk '
  { rps[$1] = $2; line[NR] = $0 }
  END {
    printf "%-16s %12s %10s %10s %8s %12s\n", "read", "requests/s", "p50", "p99", "non-2xx", "HTML cost"
    for (i = 1; i <= NR; i++) {
      split(line[i], f, " ")
      json = f[1]; sub(/-html-/, "-json-", json)
      cost = (f[1] ~ /-html-/ && f[2] > 0) ? sprintf("%.2f x JSON", rps[json] / f[2]) : "-"
      printf "%-16s %12s %10s %10s %8s %12s\n", f[1], f[2], f[3], f[4], f[5], cost
    }
  }' target/bench-storefront.txt
