#!/usr/bin/env bash
# Renders a Kubernetes overlay with `kubectl kustomize` and checks the output
# (deploy_check.py kubernetes: probes on the health-only port, security
# contexts, no Secret data, images pinned, NetworkPolicy, PDB, node.json
# against config.proto). Exit 77 (ctest SKIP, with the reason) when kubectl
# is not installed.
# Usage: kustomize_check.sh SOURCE_DIR OVERLAY PYTHON3
set -euo pipefail
src=${1:?source dir} overlay=${2:?overlay} python=${3:-python3}
if ! command -v kubectl >/dev/null; then
  echo "kustomize_check: SKIPPED: kubectl is not installed, the $overlay overlay is not rendered"
  exit 77
fi
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
kubectl kustomize "$src/deploy/kubernetes/overlays/$overlay" >"$tmp/rendered.yaml"
echo "kustomize_check: $(kubectl version --client 2>/dev/null | head -1), $(wc -l <"$tmp/rendered.yaml") lines rendered"
"$python" "$src/tests/deploy/deploy_check.py" kubernetes "$src" "$overlay" "$tmp/rendered.yaml"
