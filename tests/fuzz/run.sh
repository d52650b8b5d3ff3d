#!/usr/bin/env bash
# Runs a libFuzzer target for a bounded time from a fresh seed corpus.
# Usage: run.sh <fuzzer binary> <seed writer> <work dir>
# RUTA_FUZZ_SECONDS (default 30) sets the time; a crash, a leak or a sanitizer
# report fails the run and leaves the reproducer in <work dir>/artifacts/.
set -euo pipefail
fuzzer=$1 seeds=$2 work=$3
seconds=${RUTA_FUZZ_SECONDS:-30}
if [[ ! -x $fuzzer ]]; then
  echo "fuzz target $fuzzer is missing: build it with scripts/build.sh" \
    "(needs clang-14 and libclang-rt-14-dev)" >&2
  exit 1
fi
rm -rf "$work"
mkdir -p "$work/corpus" "$work/artifacts"
"$seeds" "$work/corpus"
# -error_exitcode: any finding fails; -rss_limit_mb keeps a runaway input
# from taking the machine.
"$fuzzer" "$work/corpus" -max_total_time="$seconds" -rss_limit_mb=2048 \
  -timeout=10 -error_exitcode=77 -print_final_stats=1 \
  -artifact_prefix="$work/artifacts/" 2>&1 | tail -n 25
status=${PIPESTATUS[0]}
if [[ $status -ne 0 ]]; then
  echo "fuzzing found a problem (exit $status); reproducer in $work/artifacts" >&2
  exit "$status"
fi
echo "fuzzing ran ${seconds}s without a crash, leak or sanitizer report"
