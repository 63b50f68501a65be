#!/usr/bin/env bash
# deps.sh - installs what buildtrail builds and tests with on Debian 12: the Debian
# packages (boto3 included, as python3-boto3), then moto with pip when the machine can
# reach PyPI (the suites that need it say SKIP otherwise; scripts/test.sh names them).
# Idempotent; uses sudo when not root. Set BT_SKIP_DEPS=1 to skip. Compilers for fuzzing
# and the packaging tools are CI's (.ci/run installs them), not the test command's.
set -euo pipefail
[ "${BT_SKIP_DEPS:-0}" = 1 ] && exit 0
pkgs=(build-essential cmake pkg-config
      libcurl4-openssl-dev libsqlite3-dev libzstd-dev libdeflate-dev libisal-dev
      libmicrohttpd-dev libexpat1-dev libssl-dev libyaml-dev libpcre2-dev zlib1g-dev
      libsmartcols-dev
      awscli jq sqlite3 gzip python3 python3-boto3 python3-pip curl ca-certificates bc time
      bsdutils less
      chromium)  # chromium: headless, for tests/integration/it_web.sh
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
# node and npm (the JS SDK test client, DuckDB in bench/): Debian's, unless some node is
# already installed
command -v npm >/dev/null 2>&1 || missing+=(nodejs npm)
SUDO=
[ "$(id -u)" -ne 0 ] && SUDO=sudo
if [ ${#missing[@]} -gt 0 ]; then
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
# moto (moto_server) is not packaged in Debian 12: pip, when PyPI is reachable
if ! { command -v moto_server >/dev/null 2>&1 && python3 -c 'import moto' 2>/dev/null; }; then
  if curl -fsS -m 5 -o /dev/null https://pypi.org/simple/moto/ 2>/dev/null; then
    python3 -m pip install -q --user --break-system-packages 'moto[server]' 2>/dev/null ||
      python3 -m pip install -q --user 'moto[server]' ||
      echo "deps.sh: pip could not install moto; the suites that need it will be skipped" >&2
  else
    echo "deps.sh: PyPI is not reachable: moto not installed; the suites that need it will be skipped" >&2
  fi
fi
