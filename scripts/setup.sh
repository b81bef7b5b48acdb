#!/usr/bin/env bash
# Installs what Kong Guard AI needs on Debian 12 (idempotent: apt runs only when a package is missing),
# then configures and builds libguard, its tests and tools into ./build.
#   scripts/setup.sh            # deps + build
#   GUARD_SKIP_BUILD=1 scripts/setup.sh   # deps only
set -euo pipefail
cd "$(dirname "$0")/.."

PACKAGES=(
  build-essential cmake pkg-config
  libhyperscan-dev libhiredis-dev libcurl4-openssl-dev rapidjson-dev libabsl-dev catch2
  nginx libnginx-mod-http-lua lua-resty-core luajit2 libluajit2-5.1-dev lua-cjson lua-yaml lua-busted
  redis-server python3 python3-pytest curl
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "== installing: ${missing[*]}"
  SUDO=""
  [ "$(id -u)" = 0 ] || SUDO="sudo"
  # Debian's nginx and redis packages try to start their system services; we run our own on free ports.
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee /usr/sbin/policy-rc.d >/dev/null
  $SUDO chmod +x /usr/sbin/policy-rc.d
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
  $SUDO rm -f /usr/sbin/policy-rc.d
fi

if [ "${GUARD_SKIP_BUILD:-0}" != 1 ]; then
  echo "== building libguard into ./build"
  cmake -S . -B build -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
  cmake --build build -j"$(nproc)"
fi
