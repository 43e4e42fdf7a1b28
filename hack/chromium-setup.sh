#!/usr/bin/env bash
# A Chromium for the pages' browser test (make pages, internal/pagecheck),
# idempotent: DRILL_CHROMIUM if set, else chromium, chromium-browser,
# google-chrome or google-chrome-stable on PATH, else Debian's chromium
# package installed. Only make pages (and so make test) needs it: make drill
# does not.
set -euo pipefail
say() { echo "chromium-setup: $*"; }
die() { echo "chromium-setup: error: $*" >&2; exit 1; }
if [ -n "${DRILL_CHROMIUM:-}" ]; then
  command -v "$DRILL_CHROMIUM" >/dev/null 2>&1 || die "DRILL_CHROMIUM=$DRILL_CHROMIUM is not a command"
  exit 0
fi
for c in chromium chromium-browser google-chrome google-chrome-stable; do
  command -v "$c" >/dev/null 2>&1 && exit 0
done
command -v apt-get >/dev/null 2>&1 || die "no Chromium found and no apt-get to install Debian's chromium: install one, or set DRILL_CHROMIUM"
sudo_=""; [ "$(id -u)" -eq 0 ] || sudo_="sudo"
say "installing Debian's chromium (the pages' browser test)"
export DEBIAN_FRONTEND=noninteractive
$sudo_ apt-get update -qq || die "apt-get update failed: cannot install chromium"
$sudo_ apt-get install -y -qq --no-install-recommends chromium >/dev/null || die "apt-get install chromium failed"
