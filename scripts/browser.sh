#!/usr/bin/env bash
# The browser tests drive Debian's Chromium (`playwright install` cannot download
# browsers here). Install it when it is missing and we may; otherwise say how.
set -u
CHROMIUM="${CHROMIUM_PATH:-/usr/bin/chromium}"
[ -x "$CHROMIUM" ] && exit 0
[ "${BROWSER_TESTS:-}" = "off" ] && exit 0
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
  echo "installing Chromium for the browser tests (apt-get install chromium)"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
fi
[ -x "$CHROMIUM" ] || echo "Chromium is not installed: the browser tests will fail." \
  "Install it with: sudo apt-get install -y chromium (or set BROWSER_TESTS=off to leave them out)"
exit 0
