#!/usr/bin/env bash
# The first README command: installs the dependencies, builds ruta-node and
# the ruta CLI, generates a development PKI for Cusco and Madre de Dios
# (var/pki, never committed), starts one node per region on loopback and
# prints how to talk to them. Stop them with deploy/local/stop.sh.
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
"$repo_root/scripts/install-deps.sh"
"$repo_root/scripts/build.sh" ruta-node ruta
exec "$repo_root/deploy/local/start.sh"
