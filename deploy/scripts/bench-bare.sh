#!/usr/bin/env bash
# Caravan against the bare reference (../shared/bench/limit: actix-web + sqlx doing the
# same work with nothing around it), in one run on this machine, release builds,
# alternating A B A B (see ../shared/bench/README.md). Prints, for each of the
# issue's rows, both figures and Caravan's ratio to the reference:
#   - storefront list (20 products × 2 variants) and a product page through the
#     gateway, against the bare list; p99 at half of the bare list's rate too;
#   - checkout of a one-line cart against the bare hot-row reservation; and Caravan's
#     checkout p99 at half of its own peak rate;
#   - a flash sale, BUYERS at once for UNITS (../shared/bench/flash.py) against the
#     bare reservation with the same client, and that client's floor (BUYERS
#     requests the reference answers without work);
#   - the platform's resident memory after the benchmarks.
# Needs wrk (Debian package `wrk`), python3 and psql.
#   deploy/scripts/bench-bare.sh [SECONDS] [CONNECTIONS] [BUYERS] [UNITS]
set -euo pipefail
cd "$(dirname "$0")/../.."
seconds=${1:-10}
connections=${2:-32}
buyers=${3:-2000}
units=${4:-100}
bench=$(cd .. && pwd)/shared/bench
[ -d "$bench/limit" ] || { echo "the bare reference is not at $bench" >&2; exit 1; }
for tool in wrk python3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is needed" >&2; exit 1; }
done

CARGO_TARGET_DIR=target/limit cargo build --quiet --release --locked --manifest-path "$bench/limit/Cargo.toml"
# One build of the platform and of each service's own binary (the same features).
cargo build --quiet --release --bins \
  -p caravan-cli -p caravan-auth -p caravan-tenant -p caravan-catalog -p caravan-order
hot=$(target/limit/release/caravan-limit seed)
bare_port=${BARE_PORT:-19090}
target/limit/release/caravan-limit serve "$bare_port" >target/bench-bare-limit.log 2>&1 &
limit=$!
bare="http://127.0.0.1:$bare_port"

# shellcheck source=lib/platform.sh
. deploy/scripts/lib/platform.sh
stop_all() {
  kill "$limit" 2>/dev/null || true
  stop_platform
}
CARAVAN_BIN=target/release/caravan start_platform bench \
  RATE_LIMIT_ANONYMOUS=1000000000 RATE_LIMIT_AUTHENTICATED=1000000000 LOG_FORMAT=json RUST_LOG=warn
trap stop_all EXIT
for _ in $(seq 1 50); do curl -fsS -o /dev/null "$bare/v1/shops/goji/products" && break; sleep 0.2; done
variant=$(python3 deploy/scripts/lib/bench_setup.py "$url" "$password")

# shellcheck source=lib/wrk.sh
. deploy/scripts/lib/wrk.sh
shop=zhongning-goji
list="$url/v1/shops/$shop/products?limit=20"
product="$url/v1/shops/$shop/products/bench-1"
out=target/bench-bare.txt
: >"$out"
curl -fsS -o /dev/null "$list" && curl -fsS -o /dev/null "$product"

# Storefront: bare list, Caravan list, Caravan product page, twice.
for round in 1 2; do
  measure "bare-list-$round" "$bare/v1/shops/goji/products" >>"$out"
  measure "list-$round" "$list" >>"$out"
  measure "product-$round" "$product" >>"$out"
done
# At half of the bare list's rate: each of 8 connections paced.
bare_list=$(awk '$1 ~ /^bare-list-/ { s += $2; n++ } END { printf "%d", s / n }' "$out")
pause=$(( 8 * 1000 * 2 / (bare_list > 0 ? bare_list : 1) ))
cat >target/bench-pace.lua <<LUA
local pause = $pause
function delay() return pause end
LUA
(connections=8 WRK_SCRIPT=target/bench-pace.lua measure list-half "$list" >>"$out")
(connections=8 WRK_SCRIPT=target/bench-pace.lua measure product-half "$product" >>"$out")

# Checkout: carts prepared ahead (one per request), bare reservation and checkout
# alternating, twice.
carts=$((seconds * 900))
for round in 1 2; do
  python3 "$bench/carts.py" "$url" "$shop" "$variant" "$carts" "target/bench-carts-$round.txt" >/dev/null
done
for round in 1 2; do
  (HOT=$hot WRK_SCRIPT="$bench/reserve.lua" measure "bare-reserve-$round" "$bare/reserve" >>"$out")
  (CARTS="target/bench-carts-$round.txt" THREADS=2 PATH_PREFIX="/v1/shops/$shop" \
    WRK_SCRIPT="$bench/checkout.lua" measure "checkout-$round" "$url" >>"$out")
done
# At half of Caravan's own peak checkout rate.
peak=$(awk '$1 ~ /^checkout-[12]$/ { if ($2 > m) m = $2 } END { printf "%d", m }' "$out")
python3 "$bench/carts.py" "$url" "$shop" "$variant" "$carts" target/bench-carts-half.txt >/dev/null
(connections=8 CARTS=target/bench-carts-half.txt THREADS=2 PATH_PREFIX="/v1/shops/$shop" \
  CHECKOUT_LUA="$bench/checkout.lua" PAUSE_MS=$(( 8 * 1000 * 2 / (peak > 0 ? peak : 1) )) \
  WRK_SCRIPT=deploy/scripts/lib/paced_checkout.lua measure checkout-half "$url" >>"$out")

# Flash sale: bare, Caravan, twice; and the client's own floor (the same requests
# answered 404 by the reference without any work), which bounds every latency the
# client can report.
echo "client-floor $(python3 deploy/scripts/lib/flash_bare.py "$bare" "$hot" "$buyers" "$units" floor)" >>"$out"
for round in 1 2; do
  echo "bare-flash-$round $(python3 deploy/scripts/lib/flash_bare.py "$bare" "$hot" "$buyers" "$units")" >>"$out"
  echo "flash-$round $(python3 "$bench/flash.py" "$url" turpan-raisins owner@turpan-raisins.example.cn "$password" "$buyers" "$units")" >>"$out"
done
rss_platform=$(awk '/VmRSS/ { print $2 }' "/proc/$platform/status")
rss_bare=$(awk '/VmRSS/ { print $2 }' "/proc/$limit/status")

echo "release builds, ${seconds}s per wrk run at c$connections (half-load runs: c8 paced), one run, A B A B"
python3 - "$out" "$rss_platform" "$rss_bare" <<'PY'
import json, re, sys
rows, flash = {}, {}
for line in open(sys.argv[1]):
    name, rest = line.split(" ", 1)
    if rest.startswith("{"):
        flash[name] = json.loads(rest)
    else:
        rows[name] = rest.split()
def rps(name): return float(rows[name][0]) if name in rows else float("nan")
def mean(prefix): return sum(rps(f"{prefix}-{r}") for r in (1, 2)) / 2
print(f"{'run':<16}{'requests/s':>12}{'p50':>10}{'p99':>10}{'non-2xx':>9}")
for name, f in rows.items():
    print(f"{name:<16}{f[0]:>12}{f[1]:>10}{f[2]:>10}{f[3]:>9}")
print()
print(f"storefront list through the gateway: {mean('list'):.0f}/s vs bare list {mean('bare-list'):.0f}/s = {mean('list') / mean('bare-list'):.2f}x")
print(f"product page through the gateway:    {mean('product'):.0f}/s vs bare list {mean('bare-list'):.0f}/s = {mean('product') / mean('bare-list'):.2f}x")
print(f"checkout:                            {mean('checkout'):.0f}/s vs bare reservation {mean('bare-reserve'):.0f}/s = {100 * mean('checkout') / mean('bare-reserve'):.0f} %")
for name in ("list-half", "product-half", "checkout-half"):
    if name in rows:
        print(f"{name:<13} at {rows[name][0]}/s: p50 {rows[name][1]}, p99 {rows[name][2]}")
print()
floor = flash.pop("client-floor", None)
if floor:
    print(f"client floor: {floor['requests']} requests the reference answers 404 without work, from the same client: "
          f"wall {floor['wall_s']} s, p50 {floor['p50_ms']} ms, p99 {floor['p99_ms']} ms")
for name, f in flash.items():
    print(f"{name:<14} statuses {f['statuses']}, wall {f['wall_s']} s, winners p99 {f['winners_p99_ms']} ms, "
          f"losers p50 {f['losers_p50_ms']} ms p99 {f['losers_p99_ms']} ms, stock after {f['stock_after']}")
walls = lambda p: sum(flash[f"{p}-{r}"]["wall_s"] for r in (1, 2)) / 2
print(f"flash sale wall: {walls('flash'):.2f} s vs bare {walls('bare-flash'):.2f} s = {walls('flash') / walls('bare-flash'):.2f}x")
print(f"resident memory after the benchmarks: the platform (every service, the web tier and the gateway in one process) {int(sys.argv[2]) // 1024} MB; the bare reference {int(sys.argv[3]) // 1024} MB")
PY
