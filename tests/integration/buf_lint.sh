#!/usr/bin/env bash
# buf lint of the contract (STANDARD + COMMENTS rules, see proto/buf.yaml).
set -euo pipefail
repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
buf=$repo_root/node_modules/.bin/buf
[[ -x $buf ]] || { echo "buf is missing: run scripts/install-deps.sh (npm ci)" >&2; exit 1; }
cd "$repo_root/proto"
"$buf" lint
echo "buf lint: the contract passes"
