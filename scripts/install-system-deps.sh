#!/usr/bin/env bash
# Install the Debian packages Pulse's local stack and tests need, only when they are missing:
#   prometheus               /usr/bin/prometheus + /usr/bin/promtool (local metrics, alert-rule tests)
#   chromium chromium-driver headless browser for the dashboard's Selenium test
#   fonts-noto-color-emoji   so emoji in posts render in the browser test's screenshots
# Idempotent: a second run with everything present installs nothing and exits 0.
# The Debian prometheus package also installs a systemd unit; we never use it (pulse-stack runs the
# binary itself with a generated config under .local/), so nothing here enables or starts a service.
set -euo pipefail

# package -> a file that proves it is installed
declare -A PROBE=(
  [prometheus]=/usr/bin/prometheus
  [chromium]=/usr/bin/chromium
  [chromium-driver]=/usr/bin/chromedriver
  [fonts-noto-color-emoji]=/usr/share/fonts/truetype/noto/NotoColorEmoji.ttf
)
ORDER=(prometheus chromium chromium-driver fonts-noto-color-emoji)

missing=()
for pkg in "${ORDER[@]}"; do
  if [ -e "${PROBE[$pkg]}" ] || dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed"; then
    echo "install-system-deps: $pkg already installed"
  else
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -eq 0 ]; then
  echo "install-system-deps: nothing to install"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "install-system-deps: apt-get is not available on this machine; install these packages" \
       "with your system's package manager and re-run: ${missing[*]}" >&2
  exit 1
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then
    SUDO="sudo"
  else
    echo "install-system-deps: not root and sudo is missing; run as root: apt-get install -y ${missing[*]}" >&2
    exit 1
  fi
fi

export DEBIAN_FRONTEND=noninteractive
echo "install-system-deps: apt-get update"
$SUDO apt-get -o DPkg::Lock::Timeout=600 update -q || { echo "install-system-deps: apt-get update failed (no network or no apt sources?)" >&2; exit 1; }
echo "install-system-deps: apt-get install -y --no-install-recommends ${missing[*]}"
# policy-rc.d 101 keeps Debian's maintainer scripts from starting the packaged services.
POLICY=/usr/sbin/policy-rc.d
created_policy=0
if [ ! -e "$POLICY" ] && [ -z "$SUDO" ]; then
  printf '#!/bin/sh\nexit 101\n' > "$POLICY" && chmod +x "$POLICY" && created_policy=1
fi
status=0
# Another apt run on a shared machine holds the dpkg lock for a while: wait for it, up to 10 min.
$SUDO apt-get -o DPkg::Lock::Timeout=600 install -y -q --no-install-recommends "${missing[@]}" || status=$?
[ "$created_policy" -eq 1 ] && rm -f "$POLICY"
if [ "$status" -ne 0 ]; then
  echo "install-system-deps: apt-get install failed (exit $status) for: ${missing[*]}" >&2
  exit "$status"
fi

for pkg in "${missing[@]}"; do
  [ -e "${PROBE[$pkg]}" ] || { echo "install-system-deps: $pkg installed but ${PROBE[$pkg]} is missing" >&2; exit 1; }
done
echo "install-system-deps: installed ${missing[*]}"
