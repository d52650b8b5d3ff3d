#!/usr/bin/env bash
# Lays out the files one region's ruta-node reads, flat in one folder, from a
# PKI folder made by certs/pki.sh. The systemd, Docker and Kubernetes
# deployments all use this layout (file names are also valid Kubernetes
# Secret keys and compose secret names):
#
#   node-cert.pem node-key.pem               the node's TLS identity (key 0600)
#   roots.pem                                root CAs of every region (trust bundle)
#   <slug>-root.pem                          each region's root CA
#   <slug>-root.crl.pem <slug>-intermediate.crl.pem   each region's CRLs
#   <slug>-signing.pub                       each region's signing public key
#   signing.key                              this region's signing key (0600)
#   linkage.key                              the federation linkage key (0600)
#   partner.key                              this region's partner master secret (0600)
#   backup.key                               this region's backup encryption key (0600)
#
# Usage: deploy/region-files.sh --pki DIR --region SLUG --out DIR [--owner UID:GID]
#
# --pki DIR holds the region's own PKI (DIR/SLUG/: CA, node leaf, signing key)
# and, for every peer region, at least its public files in the same layout:
# DIR/PEER/ca/root.pem, DIR/PEER/ca/signing.pub, DIR/PEER/crl/*.crl.pem (what
# the peer's operator sends; see docs/operations.md, "Joining the peer"). Every
# region folder with a ca/root.pem is taken as a region to trust.
# partner.key and backup.key are generated (random, 32 bytes as 64 hex) the
# first time and then kept: they are this region's secrets, never shared.
# Running it again refreshes the certificates, CRLs and keys from DIR (after a
# rotation or publish-crl) and keeps the generated secrets. --owner (as root)
# chowns every file to the account the node runs as. Nothing is printed that
# is secret.
set -euo pipefail

usage() {
  sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
  exit 2
}

pki= region= out= owner=
while (($#)); do
  case $1 in
    --pki) pki=${2:?}; shift 2 ;;
    --region) region=${2:?}; shift 2 ;;
    --out) out=${2:?}; shift 2 ;;
    --owner) owner=${2:?}; shift 2 ;;
    -h | --help) usage ;;
    *) echo "region-files: unknown argument $1" >&2; usage ;;
  esac
done
[[ -n $pki && -n $region && -n $out ]] || usage
[[ $region =~ ^[a-z][a-z-]{1,30}[a-z]$ ]] ||
  { echo "region-files: --region $region is not a region slug" >&2; exit 2; }

fail() { echo "region-files: $*" >&2; exit 1; }
own=$pki/$region
for f in ca/root.pem node/node/cert.pem node/node/key.pem signing/signing.key \
  crl/root.crl.pem crl/intermediate.crl.pem; do
  [[ -r $own/$f ]] || fail "$own/$f is missing: run certs/pki.sh init-region and" \
    "issue --role node --name node for $region first"
done
[[ -r $pki/linkage/linkage.key ]] ||
  fail "$pki/linkage/linkage.key is missing (certs/pki.sh linkage-key, once for" \
    "both regions, then copy it to the other region over a secure channel)"

umask 077
mkdir -p "$out"
chmod 700 "$out"

# copy SRC NAME MODE: replaces OUT/NAME atomically.
copy() {
  install -m "$3" "$1" "$out/.$2.tmp"
  mv -f "$out/.$2.tmp" "$out/$2"
}

copy "$own/node/node/cert.pem" node-cert.pem 0644
copy "$own/node/node/key.pem" node-key.pem 0600
copy "$own/signing/signing.key" signing.key 0600
copy "$pki/linkage/linkage.key" linkage.key 0600

regions=()
: >"$out/.roots.pem.tmp"
for dir in "$pki"/*/; do
  slug=$(basename "$dir")
  [[ -r $dir/ca/root.pem ]] || continue
  [[ -e $dir/.ruta-region || $slug == "$region" || ! -e $dir/root ]] || continue
  [[ $slug == rogue || $slug == negative ]] && continue
  for f in crl/root.crl.pem crl/intermediate.crl.pem ca/signing.pub; do
    [[ -r $dir/$f ]] || fail "$dir$f is missing (the region's public files are" \
      "ca/root.pem, ca/signing.pub, crl/root.crl.pem, crl/intermediate.crl.pem)"
  done
  copy "$dir/ca/root.pem" "$slug-root.pem" 0644
  copy "$dir/crl/root.crl.pem" "$slug-root.crl.pem" 0644
  copy "$dir/crl/intermediate.crl.pem" "$slug-intermediate.crl.pem" 0644
  copy "$dir/ca/signing.pub" "$slug-signing.pub" 0644
  cat "$dir/ca/root.pem" >>"$out/.roots.pem.tmp"
  regions+=("$slug")
done
chmod 644 "$out/.roots.pem.tmp"
mv -f "$out/.roots.pem.tmp" "$out/roots.pem"

# This region's own secrets: generated once, never overwritten.
for secret in partner.key backup.key; do
  if [[ ! -s $out/$secret ]]; then
    openssl rand -hex 32 >"$out/.$secret.tmp"
    chmod 600 "$out/.$secret.tmp"
    mv "$out/.$secret.tmp" "$out/$secret"
  fi
done

if [[ -n $owner ]]; then
  chown -R "$owner" "$out"
fi
echo "region-files: $out holds $region's node files (trusts: ${regions[*]})"
