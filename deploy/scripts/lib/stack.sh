# Sourced by the fault suite and the soak benchmark: a fresh folder ROOT for the
# platform tools/faults/ starts one process per service, and, on exit, whatever a
# killed harness left running there stopped (the harness stops what it started).
#   prepare_stack ROOT
prepare_stack() {
  stack_root=$1
  export PYTHONDONTWRITEBYTECODE=1
  rm -rf "$stack_root"
  mkdir -p "$stack_root"
  trap stop_stack EXIT
}

stop_stack() {
  if [ -f "$stack_root/pids" ]; then
    while read -r pid; do kill -9 "$pid" 2>/dev/null || true; done <"$stack_root/pids"
  fi
  if [ -f "$stack_root/pg/postmaster.pid" ]; then
    runuser -u postgres -- /usr/lib/postgresql/15/bin/pg_ctl stop -D "$stack_root/pg" -m immediate \
      >/dev/null 2>&1 || /usr/lib/postgresql/15/bin/pg_ctl stop -D "$stack_root/pg" -m immediate >/dev/null 2>&1 || true
  fi
}
