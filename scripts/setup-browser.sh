#!/usr/bin/env bash
# Installs headless Chromium for the packaging test's browser fixtures, idempotently: Debian's
# `chromium` package (not `npx playwright install`, which downloads from a CDN CI cannot reach).
# Prints nothing when Chromium is already there.
set -euo pipefail
say() { echo "[setup-browser] $*"; }
[ -x /usr/bin/chromium ] && exit 0

sudo=""
if [ "$(id -u)" != 0 ]; then
  command -v sudo >/dev/null || { say "need root (or sudo) to apt-get install chromium"; exit 1; }
  sudo="sudo"
fi
say "installing Debian chromium (apt)"
log=$(mktemp)
# apt's chatter (debconf notes and the like) is shown only if the install fails.
if ! { $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium; } >"$log" 2>&1; then
  cat "$log" >&2; rm -f "$log"; say "apt-get install chromium failed"; exit 1
fi
rm -f "$log"
[ -x /usr/bin/chromium ] || { say "apt-get finished but /usr/bin/chromium is missing"; exit 1; }
say "installed $(/usr/bin/chromium --version 2>/dev/null || echo chromium)"
