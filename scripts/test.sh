#!/usr/bin/env bash
# The second README command (and what CI runs): installs the dependencies,
# builds everything and runs the whole test suite with ctest, which ends with
# its summary ("N% tests passed, N tests failed out of N").
# Opt-in long runs are enabled by environment variables (see README).
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RUTA_BUILD_DIR:-$repo_root/build}
"$repo_root/scripts/install-deps.sh"
"$repo_root/scripts/build.sh"
cd "$build_dir"
ctest --output-on-failure --no-tests=error -j "${RUTA_TEST_JOBS:-2}" "$@"
