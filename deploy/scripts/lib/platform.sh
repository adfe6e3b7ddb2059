# Sourced by the check scripts: starts the platform exactly as the README's run
# command does (`caravan up`, demo data included), on its own databases, Redis
# prefix and ports, and stops it and drops its databases on exit.
#   start_platform KIND [ENV=VALUE ...]
# sets: url (the gateway), password (this run's demo password), run (the database
# prefix), log (the platform's output).
start_platform() {
  local kind=$1
  shift
  # CARAVAN_BIN: a caravan binary built already (a release build, for benchmarks).
  local bin=${CARAVAN_BIN:-target/debug/caravan}
  [ -n "${CARAVAN_BIN:-}" ] || cargo build --quiet -p caravan-cli --bin caravan
  run="${kind}_$(date +%s)_$$"
  port=${CARAVAN_CHECK_PORT:-18080}
  log=target/$kind-check.log
  # This run's demo password: generated, like every secret of an installation.
  password=$(head -c 24 /dev/urandom | base64 | tr -d '+/=\n')
  env "$@" CARAVAN_OPERATOR_PASSWORD="$password" CARAVAN_PORT="$port" \
    CARAVAN_DATABASE_PREFIX="$run" REDIS_PREFIX="caravan-$run" \
    "$bin" up >"$log" 2>&1 &
  platform=$!
  trap stop_platform EXIT
  for _ in $(seq 1 300); do
    grep -q "Caravan is running" "$log" && break
    kill -0 "$platform" 2>/dev/null || { cat "$log" >&2; exit 1; }
    sleep 1
  done
  grep -q "Caravan is running" "$log" || { echo "the platform did not start; see $log" >&2; exit 1; }
  url="http://127.0.0.1:$port"
}

stop_platform() {
  kill -INT "$platform" 2>/dev/null || true
  wait "$platform" 2>/dev/null || true
  for database in auth tenant catalog order install; do
    psql -h 127.0.0.1 -U postgres -qc "DROP DATABASE IF EXISTS ${run}_${database} WITH (FORCE)" >/dev/null 2>&1 || true
  done
}

# One of this installation's secrets, as `caravan up` keeps it.
install_secret() {
  psql -h 127.0.0.1 -U postgres -d "${run}_install" -tAc \
    "SELECT value FROM install_secrets WHERE name = '$1'"
}
