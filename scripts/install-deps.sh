#!/usr/bin/env bash
# Installs what ruta needs to build, run and test on Debian 12: the Debian
# packages of DESIGN.md §9 and the npm dev tools pinned in package-lock.json.
# Run as root (apt-get). Safe to run again: it only installs what is missing.
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)

packages=(
  build-essential cmake ninja-build pkg-config ccache git
  protobuf-compiler libprotobuf-dev protobuf-compiler-grpc libgrpc++-dev
  libabsl-dev libssl-dev openssl grpc-proto libicu-dev
  libgtest-dev libgmock-dev libbenchmark-dev
  prometheus-cpp-dev libspdlog-dev libsqlite3-dev sqlite3
  libpq-dev libpqxx-dev libcpp-httplib-dev libcli11-dev libsodium-dev
  postgresql  # server of the PostgreSQL store tests (scripts/test.sh starts it)
  clang-14 libclang-rt-14-dev clang-format
  python3 python3-yaml systemd  # tests/deploy: YAML checks, systemd-analyze verify
  chromium  # headless browser of tests/browser (driven by playwright-core)
)

missing=()
for package in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$package")
  fi
done
# Node.js and npm (Debian's nodejs 18 + npm), unless a Node.js with npm is
# already installed (e.g. a nodesource package that bundles npm).
if ! command -v npm >/dev/null 2>&1; then
  missing+=(nodejs npm)
fi

if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
    echo "install-deps: run this script as root (sudo) to install them" >&2
    exit 1
  fi
  echo "install-deps: installing ${#missing[@]} Debian packages..."
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -q
  apt-get install -y -q --no-install-recommends "${missing[@]}"
fi

# npm dev tools exactly as locked: buf, playwright-core (browser tests) and
# chart.js (vendored into ruta-dashboard at build time).
if [[ ! -x $repo_root/node_modules/.bin/buf ]] ||
   [[ ! -f $repo_root/node_modules/playwright-core/package.json ]] ||
   [[ ! -f $repo_root/node_modules/chart.js/dist/chart.umd.js ]] ||
   ! cmp -s "$repo_root/package-lock.json" "$repo_root/node_modules/.package-lock.json.ruta" 2>/dev/null; then
  echo "install-deps: npm ci (buf, playwright-core, chart.js)"
  (cd "$repo_root" && npm ci --no-audit --no-fund --loglevel=error)
  cp "$repo_root/package-lock.json" "$repo_root/node_modules/.package-lock.json.ruta"
fi
echo "install-deps: all dependencies present"
