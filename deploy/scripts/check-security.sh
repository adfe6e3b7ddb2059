#!/usr/bin/env bash
# The security suite: attacks a platform started as the README starts it (`caravan
# up`, demo data, default settings), through the gateway only — paths with two
# readings, published and service secrets, forged payment notifications, internal
# webhook targets, spoofed forwarding headers, junk tokens, checkout replays, another
# shop's groups, deals and harvests, sessions after logout, headers on personal data.
# tests/security/suite.py says what each attack is; it needs nothing but Python's
# standard library.
set -euo pipefail
cd "$(dirname "$0")/../.."
# shellcheck source=lib/platform.sh
. deploy/scripts/lib/platform.sh
start_platform security
CARAVAN_URL="$url" CARAVAN_PASSWORD="$password" \
  CARAVAN_SERVICE_SECRET="$(install_secret SERVICE_CLIENT_SECRET)" \
  CARAVAN_PAYMENT_SECRET="$(install_secret PAYMENT_TEST_WEBHOOK_SECRET)" \
  python3 tests/security/suite.py
