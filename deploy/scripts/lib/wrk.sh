# shellcheck shell=bash
# Sourced by the benchmark scripts: one wrk run, one line of figures.
#   measure NAME URL [HEADER ...]
# prints `NAME requests/s p50 p99 non-2xx`; uses $seconds and $connections, and
# $WRK_SCRIPT (a Lua script for wrk's -s) when set.
measure() {
  local name=$1 target=$2
  shift 2
  local args=(-t2 "-c$connections" "-d${seconds}s" --latency ${WRK_SCRIPT:+-s "$WRK_SCRIPT"})
  local header
  for header in "$@"; do args+=(-H "$header"); done
  wrk "${args[@]}" "$target" | awk -v name="$name" '
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = $2 }
    $1 == "99%" { p99 = $2 }
    /Non-2xx/ { bad = $NF }
    END { printf "%s %s %s %s %s\n", name, rps, p50, p99, (bad == "" ? 0 : bad) }'
}
