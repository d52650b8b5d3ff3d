#!/usr/bin/env bash
# Stops the local two-region exchange gracefully (SIGTERM: the nodes stop
# accepting calls, finish in-flight ones, and exit 0).
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
for region in cusco madre-de-dios; do
  pid_file=$repo_root/var/$region/pid
  [[ -f $pid_file ]] || continue
  pid=$(cat "$pid_file")
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid"
    for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    echo "stop: $region node stopped"
  fi
  rm -f "$pid_file"
done
