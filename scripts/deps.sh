#!/usr/bin/env bash
# deps.sh - installs the Debian 12 packages buildtrail builds, tests and benchmarks with.
# Idempotent; uses sudo when not root. Set BT_SKIP_DEPS=1 to skip.
set -euo pipefail
[ "${BT_SKIP_DEPS:-0}" = 1 ] && exit 0
pkgs=(build-essential cmake pkg-config clang
      libcurl4-openssl-dev libsqlite3-dev libzstd-dev libdeflate-dev libisal-dev
      libmicrohttpd-dev libexpat1-dev libssl-dev libyaml-dev libpcre2-dev libsmartcols-dev
      awscli jq sqlite3 gzip python3 curl ca-certificates bc time
      chromium)  # chromium: headless, for tests/integration/it_web.sh
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node and npm (the JS SDK test client, DuckDB in bench/): Debian's, unless some node is
# already installed
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
[ ${#missing[@]} -eq 0 ] && exit 0
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
