#!/usr/bin/env bash
# Configures (once) and builds ruta into build/ with Ninja and ccache.
# Usage: scripts/build.sh [ninja targets...]   (default: everything)
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RUTA_BUILD_DIR:-$repo_root/build}
# Lets ccache reuse objects across clones of the repository.
export CCACHE_BASEDIR=$repo_root
export CCACHE_NOHASHDIR=1

if [[ ! -f $build_dir/build.ninja ]]; then
  cmake -S "$repo_root" -B "$build_dir" -G Ninja \
    -DCMAKE_BUILD_TYPE="${RUTA_BUILD_TYPE:-RelWithDebInfo}"
fi
jobs=${RUTA_BUILD_JOBS:-$(nproc)}
ninja -C "$build_dir" -j "$jobs" "$@"

# The libFuzzer targets (tests/fuzz) need their own clang build with the
# sanitizers; made with a full build whenever clang is installed.
if [[ $# -eq 0 && ${RUTA_BUILD_FUZZ:-1} == 1 ]] && command -v clang++ >/dev/null; then
  fuzz_dir=$build_dir/fuzz
  if [[ ! -f $fuzz_dir/build.ninja ]]; then
    CC=clang CXX=clang++ cmake -S "$repo_root" -B "$fuzz_dir" -G Ninja \
      -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRUTA_FUZZ=ON \
      -DRUTA_BUILD_TESTS=OFF -DRUTA_BUILD_BENCH=OFF -DRUTA_WERROR=OFF
  fi
  ninja -C "$fuzz_dir" -j "$jobs" request_fuzzer form_fuzzer
fi
