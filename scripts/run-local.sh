#!/usr/bin/env bash
# The first README command: installs the dependencies, builds ruta-node, the
# ruta CLI, ruta-dashboard and ruta-console, generates a development PKI for
# Cusco and Madre de Dios (var/pki, never committed), starts one node per
# region, the mayors' dashboard and each region's office console on loopback, and prints how to talk to them. Stop
# them with deploy/local/stop.sh.
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
"$repo_root/scripts/install-deps.sh"
"$repo_root/scripts/build.sh" ruta-node ruta ruta-dashboard ruta-console
exec "$repo_root/deploy/local/start.sh"
