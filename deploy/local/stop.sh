#!/usr/bin/env bash
# Stops the local two-region exchange gracefully (SIGTERM: the nodes, the
# dashboard and the consoles stop accepting calls, finish in-flight ones,
# and exit 0).
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
# The web clients first: they are clients of the nodes.
for name in console-cusco console-madre-de-dios dashboard cusco madre-de-dios; do
  pid_file=$repo_root/var/$name/pid
  [[ -f $pid_file ]] || continue
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      echo "stop: $name (pid $pid) did not exit in 15 s" >&2
      continue
    fi
    if [[ $name == dashboard || $name == console-* ]]; then
      echo "stop: $name stopped"
    else
      echo "stop: $name node stopped"
    fi
  fi
  rm -f "$pid_file"
done
