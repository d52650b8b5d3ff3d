#!/usr/bin/env bash
# Stops the local two-region exchange gracefully (SIGTERM: the nodes and the
# dashboard stop accepting calls, finish in-flight ones, and exit 0).
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
# The dashboard first: it is a client of the Cusco node.
for name in dashboard cusco madre-de-dios; do
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
    if [[ $name == dashboard ]]; then
      echo "stop: dashboard stopped"
    else
      echo "stop: $name node stopped"
    fi
  fi
  rm -f "$pid_file"
done
