# Sourced by the run and test commands: stops at once, in one line, unless the
# PostgreSQL at 127.0.0.1:5432 can serve NEEDED more connections from roles that
# are not superusers.
#   ensure_connections NEEDED WHO
ensure_connections() {
  local needed=$1 who=$2 line
  line=$(psql -h 127.0.0.1 -U postgres -d postgres -tAc \
    "SELECT current_setting('max_connections')::int - current_setting('superuser_reserved_connections')::int - count(*),
            current_setting('max_connections'), current_setting('superuser_reserved_connections'), count(*)
     FROM pg_stat_activity WHERE backend_type = 'client backend'") || return 0
  local free max reserved open
  IFS='|' read -r free max reserved open <<<"$line"
  # The check's own connection is counted in `open` and closes with it.
  free=$((free + 1)); open=$((open - 1))
  if [ "$free" -lt "$needed" ]; then
    printf 'caravan: PostgreSQL has %s connections free (max_connections %s, %s reserved for superusers, %s open) and %s may open %s: stop another platform or test run, or raise max_connections\n' \
      "$free" "$max" "$reserved" "$open" "$who" "$needed" >&2
    exit 1
  fi
}
