#!/usr/bin/env bash
# Generates every secret deploy/docker/compose.yaml reads, into
# deploy/docker/secrets/ (git-ignored, never in the image, 0700/0600):
#
#   secrets/pki/                  the PKI of both regions (certs/pki.sh): CA
#                                 keys included, so this folder stands for
#                                 both authorities in a demonstration only
#   secrets/<region>/             one region's node files (deploy/region-files.sh):
#                                 node-cert.pem node-key.pem roots.pem
#                                 <r>-root.pem <r>-root.crl.pem
#                                 <r>-intermediate.crl.pem <r>-signing.pub
#                                 signing.key linkage.key partner.key backup.key
#                                 db-password (random, for the region's PostgreSQL)
#   secrets/clients/<region>/     admin and office client certificates for the
#                                 ruta CLI from the host
#
# Nothing has a default value: keys and passwords are random, made here. Run
# it again after certs/pki.sh rotated or re-published something in
# secrets/pki: it refreshes the copies and keeps the passwords and keys, then
# `docker compose up -d --force-recreate` (secrets are bind mounts of single
# files, which a rename on the host does not reach).
#
# The node runs as uid 10001 in the container and refuses key files readable
# by anyone else: run as root, this script gives the region folders to
# 10001:10001 (RUTA_UID/RUTA_GID to change it); otherwise it says what to
# run.
#
# Usage: deploy/docker/make-secrets.sh [--force-new-pki]
#        (RUTA_SECRETS_DIR=DIR to write elsewhere than deploy/docker/secrets)
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$here/../.." && pwd)
# RUTA_SECRETS_DIR: another folder (the deploy tests use a temporary one).
out=${RUTA_SECRETS_DIR:-$here/secrets}
pki=$out/pki
uid=${RUTA_UID:-10001} gid=${RUTA_GID:-10001}
regions=(cusco madre-de-dios)
if [[ ${1:-} == --force-new-pki ]]; then
  rm -rf "$pki"
elif (($#)); then
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
fi

umask 077
mkdir -p "$out"
chmod 700 "$out"

if [[ ! -d $pki ]]; then
  echo "make-secrets: creating both regions' PKI in $pki"
  for region in "${regions[@]}"; do
    bash "$repo_root/certs/pki.sh" init-region --region "$region" --out "$pki"
    # Host names: the container name on the compose networks, and the host's
    # loopback where compose publishes the port.
    bash "$repo_root/certs/pki.sh" issue --region "$region" --role node \
      --name node --hosts "$region-node,localhost,127.0.0.1" --out "$pki"
    bash "$repo_root/certs/pki.sh" issue --region "$region" --role admin \
      --name operator --out "$pki"
    bash "$repo_root/certs/pki.sh" issue --region "$region" --role office \
      --name main-office --out "$pki"
  done
  bash "$repo_root/certs/pki.sh" linkage-key --out "$pki"
fi

for region in "${regions[@]}"; do
  dir=$out/$region
  bash "$repo_root/deploy/region-files.sh" --pki "$pki" --region "$region" --out "$dir"
  if [[ ! -s $dir/db-password ]]; then
    # Hex: nothing a connection string or a shell would need to escape.
    openssl rand -hex 24 >"$dir/.db-password.tmp"
    mv "$dir/.db-password.tmp" "$dir/db-password"
  fi
  chmod 600 "$dir"/*.key "$dir/node-key.pem" "$dir/db-password"
  # The ruta CLI on the host: the region's admin and office certificates.
  clients=$out/clients/$region
  mkdir -p "$clients"
  for leaf in admin/operator office/main-office; do
    name=${leaf%/*}
    install -m 0644 "$pki/$region/$leaf/cert.pem" "$clients/$name-cert.pem"
    install -m 0600 "$pki/$region/$leaf/key.pem" "$clients/$name-key.pem"
  done
  install -m 0644 "$dir/roots.pem" "$clients/roots.pem"
done

if [[ $(id -u) -eq 0 ]]; then
  for region in "${regions[@]}"; do chown -R "$uid:$gid" "$out/$region"; done
  echo "make-secrets: secrets/<region>/ owned by $uid:$gid (the node's user in the image)"
else
  echo "make-secrets: not root: the node (uid $uid in the container) cannot read"
  echo "  its 0600 keys until you run:"
  for region in "${regions[@]}"; do
    echo "    sudo chown -R $uid:$gid $out/$region"
  done
fi
echo "make-secrets: done; start with: docker compose -f deploy/docker/compose.yaml up -d"
