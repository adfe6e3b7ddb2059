#!/usr/bin/env bash
# Writes the secrets docker-compose needs into an env file (default `.env` beside
# docker-compose.yml, which `docker compose` reads by itself), generating each from
# the kernel's random source. A value already in the file is kept, so running it
# again never changes a running installation's secrets. The file is readable by its
# owner only. docker-compose.yml has no fallback for any of these: without the file,
# `docker compose up` stops and names the missing variable.
#   deploy/scripts/setup-env.sh [FILE]
set -euo pipefail
cd "$(dirname "$0")/../.."
file=${1:-.env}

random() {
  # 32 random bytes, base64url without padding (43 characters).
  head -c 32 /dev/urandom | base64 | tr '+/' '-_' | tr -d '=\n'
}

umask 077
touch "$file"
chmod 600 "$file"
for name in CARAVAN_SERVICE_SECRET CARAVAN_SIGNING_KEY_ENCRYPTION_KEY \
  CARAVAN_PAYMENT_TEST_WEBHOOK_SECRET POSTGRES_PASSWORD CARAVAN_DB_PASSWORD \
  CARAVAN_OPERATOR_PASSWORD; do
  if ! grep -q "^$name=" "$file"; then
    echo "$name=$(random)" >> "$file"
    echo "setup-env: generated $name in $file"
  fi
done
if ! grep -q "^CARAVAN_PAYMENT_TEST_GATEWAY=" "$file"; then
  # The test card gateway stays off unless you turn it on here.
  echo "CARAVAN_PAYMENT_TEST_GATEWAY=false" >> "$file"
fi
