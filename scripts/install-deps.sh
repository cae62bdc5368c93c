#!/usr/bin/env bash
# Installs every Debian and npm dependency klaxon needs to build, run and test.
# Idempotent: installs only what is missing. Needs root or sudo on Debian 12.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  build-essential cmake ninja-build ccache pkg-config git
  clang-14 lld-14 libclang-rt-14-dev clang-format-14 clang-tidy-14
  libboost1.81-dev libboost-json1.81-dev libboost-url1.81-dev
  libsimdjson-dev libabsl-dev libsqlite3-dev sqlite3 libpq-dev libssl-dev
  libcurl4-openssl-dev libcbor-dev libyaml-cpp-dev libcli11-dev libspdlog-dev libfmt-dev
  libre2-dev libgtest-dev libgmock-dev libbenchmark-dev librapidcheck-dev
  awscli python3-boto3 python3-botocore nodejs npm wrk curl
)

SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

missing=()
for p in "${APT_PACKAGES[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
# Node may come from elsewhere (nodesource or a preinstalled build): accept any node >= 18.
if command -v node >/dev/null 2>&1 && command -v npm >/dev/null 2>&1; then
  missing=("${missing[@]/nodejs}"); missing=("${missing[@]/npm}")
fi
filtered=()
for p in "${missing[@]}"; do [ -n "$p" ] && filtered+=("$p"); done
if [ "${#filtered[@]}" -gt 0 ]; then
  echo "install-deps: apt packages missing: ${filtered[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -q
  $SUDO apt-get install -y -q --no-install-recommends "${filtered[@]}"
fi

# npm packages for the real-client tests (JS SDK v3).
if [ -f tests/clients/package.json ]; then
  if [ ! -d tests/clients/node_modules ] || [ tests/clients/package.json -nt tests/clients/node_modules ]; then
    echo "install-deps: npm packages for tests/clients"
    (cd tests/clients && npm install --no-audit --no-fund --loglevel=error && touch node_modules)
  fi
fi
