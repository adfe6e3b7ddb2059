#!/usr/bin/env bash
# Installs what the browser checks (tests/browser, run by check-browser.sh) need on
# this machine: Debian's Chromium with fonts for Latin and CJK text, and the test
# harness's npm packages (Playwright, axe-core) from tests/browser/package-lock.json.
# Playwright's own browser download is never used: the tests launch /usr/bin/chromium.
# Safe to run again: installs only what is missing. Needs root for apt-get.
set -euo pipefail
cd "$(dirname "$0")/../.."

say() { printf 'caravan: %s\n' "$*"; }
fail() { printf 'caravan: %s\n' "$*" >&2; exit 1; }

packages=(chromium fonts-noto-cjk fonts-noto-core)
missing=()
for package in "${packages[@]}"; do
  [ "$(dpkg-query -W -f='${Status}' "$package" 2>/dev/null)" = "install ok installed" ] ||
    missing+=("$package")
done
if [ "${#missing[@]}" -gt 0 ]; then
  command -v apt-get >/dev/null || fail "missing ${missing[*]}, and apt-get is not available to install them"
  [ "$(id -u)" -eq 0 ] || fail "missing ${missing[*]}: run as root, or: sudo apt-get install -y ${missing[*]}"
  say "installing ${missing[*]} (apt-get)"
  mkdir -p target
  apt_log=target/install-browser-apt.log
  # Without recommends: Chromium's pull in printing and desktop services headless
  # checks have no use for.
  { DEBIAN_FRONTEND=noninteractive apt-get update -q &&
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}"; } \
    >"$apt_log" 2>&1 || { tail -n 30 "$apt_log" >&2; fail "apt-get could not install ${missing[*]}; see $apt_log"; }
fi
[ -x /usr/bin/chromium ] || fail "/usr/bin/chromium is missing after installing chromium"

# Always from the lock file, so a run tests with exactly the committed versions.
say "installing the browser test harness into tests/browser/node_modules"
(cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 \
  npm ci --no-audit --no-fund --loglevel=error >/dev/null)
