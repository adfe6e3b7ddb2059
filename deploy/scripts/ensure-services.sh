#!/usr/bin/env bash
# Makes sure what Caravan needs on this machine answers: PostgreSQL, Redis and the SMTP
# sink (MailDev: SMTP on 1025, web UI and REST API on 1080). Starts each one that does
# not answer; leaves running ones alone. Safe to run again.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf 'caravan: %s\n' "$*"; }
fail() { printf 'caravan: %s\n' "$*" >&2; exit 1; }
port_open() { (exec 3<>"/dev/tcp/$1/$2") 2>/dev/null; }
wait_for() { # name, check command...
  local name=$1; shift
  for _ in $(seq 1 60); do "$@" && return 0; sleep 0.5; done
  fail "$name did not come up"
}

pg_up() { pg_isready -h 127.0.0.1 -p 5432 -q; }
if ! pg_up; then
  command -v pg_ctlcluster >/dev/null || fail "PostgreSQL is not reachable on 127.0.0.1:5432 and pg_ctlcluster is not installed (apt-get install postgresql)"
  say "starting PostgreSQL"
  pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -n 1)" main start
  wait_for PostgreSQL pg_up
fi

redis_up() { [ "$(redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null)" = "PONG" ]; }
if ! redis_up; then
  command -v redis-server >/dev/null || fail "Redis is not reachable on 127.0.0.1:6379 and redis-server is not installed (apt-get install redis-server)"
  say "starting Redis"
  mkdir -p /var/lib/redis /var/log/redis
  redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ci.log
  wait_for Redis redis_up
fi

smtp_up() { port_open 127.0.0.1 1025 && port_open 127.0.0.1 1080; }
if ! smtp_up; then
  command -v npm >/dev/null || fail "the SMTP sink needs Node.js and npm (apt-get install nodejs npm)"
  if [ ! -x tools/node_modules/.bin/maildev ]; then
    say "installing the SMTP sink (MailDev) into tools/node_modules"
    (cd tools && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
  fi
  say "starting the SMTP sink: smtp://127.0.0.1:1025, web UI http://127.0.0.1:1080"
  mkdir -p target
  nohup tools/node_modules/.bin/maildev --smtp 1025 --web 1080 --ip 127.0.0.1 \
    --web-ip 127.0.0.1 >target/maildev.log 2>&1 &
  wait_for "the SMTP sink" smtp_up
fi

# The S3-compatible test server the catalog's tests start (one per test, on a port of
# its own): moto's server, in a virtualenv at tools/s3/venv. Installed once; the
# tests fail, naming this script, when it is missing.
MOTO_VERSION=5.2.5
moto_installed() {
  [ -x tools/s3/venv/bin/moto_server ] \
    && [ "$(tools/s3/venv/bin/python -c 'import importlib.metadata as m; print(m.version("moto"))' 2>/dev/null)" = "$MOTO_VERSION" ]
}
if ! moto_installed; then
  command -v python3 >/dev/null || fail "the S3 test server needs Python 3 with venv (apt-get install python3-venv)"
  say "installing the S3 test server (moto[server]==$MOTO_VERSION) into tools/s3/venv"
  [ -x tools/s3/venv/bin/pip ] || python3 -m venv tools/s3/venv \
    || fail "python3 -m venv failed (apt-get install python3-venv)"
  tools/s3/venv/bin/pip install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" \
    || fail "installing moto[server]==$MOTO_VERSION into tools/s3/venv failed"
fi
