#!/usr/bin/env bash
# Prints the Debian packages that hold the shared libraries the given
# executables link (one per line, sorted): what the runtime image installs
# instead of the -dev packages of the build stage. Fails when a library
# belongs to no package (it would be missing at run time).
# Usage: runtime-packages.sh BINARY...
set -euo pipefail
(($# > 0)) || { echo "usage: runtime-packages.sh BINARY..." >&2; exit 2; }
libs=$(for bin in "$@"; do
  if ldd "$bin" | grep -q 'not found'; then
    echo "runtime-packages: $bin: $(ldd "$bin" | grep 'not found')" >&2
    exit 1
  fi
  ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 }'
done | sort -u)
for lib in $libs; do
  # Merged /usr: dpkg knows a library under /lib or /usr/lib, whichever its
  # package ships.
  pkg=$(dpkg -S "$lib" 2>/dev/null || dpkg -S "/usr$lib" 2>/dev/null ||
    dpkg -S "${lib#/usr}" 2>/dev/null || true)
  [[ -n $pkg ]] || { echo "runtime-packages: $lib belongs to no package" >&2; exit 1; }
  echo "${pkg%%:*}"
done | sed 's/,.*//' | sort -u
