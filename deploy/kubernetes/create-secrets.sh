#!/usr/bin/env bash
# Creates (or updates) the Secrets one region's ruta-node Deployment reads,
# in its namespace, from a certs/pki.sh folder; nothing secret is ever in the
# manifests or in git:
#
#   ruta-node-tls    node-cert.pem node-key.pem
#   ruta-node-trust  roots.pem, <r>-root.pem, <r>-root.crl.pem,
#                    <r>-intermediate.crl.pem, <r>-signing.pub of every region
#   ruta-node-keys   signing.key linkage.key partner.key backup.key
#   ruta-db          db-password (the PostgreSQL password of the node's role)
#   ruta-admin-client  admin-cert.pem admin-key.pem roots.pem: the region's
#                    admin certificate (DIR/SLUG/admin/NAME, --admin-name,
#                    default operator) for the daily audit verification job
#
# The files are first laid out by deploy/region-files.sh into
# deploy/kubernetes/secrets/<region>/ (git-ignored, 0700): partner.key and
# backup.key are generated there the first time and kept (keep a copy of
# backup.key away from the backups: without it no backup can be restored).
# The database password is read from --db-password-file (the one your
# PostgreSQL administrator set for the role), or generated there at random
# when none exists yet (then give it to the database: ALTER ROLE ruta
# PASSWORD ...).
#
# Usage: deploy/kubernetes/create-secrets.sh --pki DIR --region SLUG
#          [--namespace NS (default ruta-SLUG)] [--db-password-file FILE]
#          [--admin-name NAME] [--context CONTEXT]
# Run it again after a rotation or publish-crl: the Secrets are updated in
# place and the pods' secrets-sync container copies them within a minute;
# the node re-reads them every tls.refresh_interval_seconds.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
pki= region= namespace= db_password_file= context=() admin_name=operator
while (($#)); do
  case $1 in
    --pki) pki=${2:?}; shift 2 ;;
    --region) region=${2:?}; shift 2 ;;
    --namespace) namespace=${2:?}; shift 2 ;;
    --db-password-file) db_password_file=${2:?}; shift 2 ;;
    --context) context=(--context "${2:?}"); shift 2 ;;
    --admin-name) admin_name=${2:?}; shift 2 ;;
    *)
      sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//' >&2
      exit 2
      ;;
  esac
done
[[ -n $pki && -n $region ]] || { echo "create-secrets: --pki and --region are required" >&2; exit 2; }
namespace=${namespace:-ruta-$region}
command -v kubectl >/dev/null || { echo "create-secrets: kubectl is not installed" >&2; exit 1; }

files=$here/secrets/$region
umask 077
mkdir -p "$here/secrets"
bash "$here/../region-files.sh" --pki "$pki" --region "$region" --out "$files"
if [[ -n $db_password_file ]]; then
  install -m 0600 "$db_password_file" "$files/db-password"
elif [[ ! -s $files/db-password ]]; then
  openssl rand -hex 24 >"$files/db-password"
  echo "create-secrets: generated a database password in $files/db-password:" \
    "set it on the PostgreSQL role the node uses"
fi

# apply NAME FILE...: creates or replaces Secret NAME from the files; the
# content goes to kubectl on a pipe, never to the terminal.
apply() {
  local name=$1
  shift
  local args=()
  for f in "$@"; do args+=(--from-file="$(basename "$f")=$f"); done
  kubectl "${context[@]}" -n "$namespace" create secret generic "$name" \
    "${args[@]}" --dry-run=client -o yaml |
    kubectl "${context[@]}" -n "$namespace" apply -f - >/dev/null
  echo "create-secrets: $namespace/$name: $(printf '%s ' "${@##*/}")"
}

kubectl "${context[@]}" get namespace "$namespace" >/dev/null 2>&1 ||
  kubectl "${context[@]}" create namespace "$namespace" >/dev/null
apply ruta-node-tls "$files/node-cert.pem" "$files/node-key.pem"
trust=("$files/roots.pem")
for f in "$files"/*-root.pem "$files"/*.crl.pem "$files"/*-signing.pub; do trust+=("$f"); done
apply ruta-node-trust "${trust[@]}"
apply ruta-node-keys "$files/signing.key" "$files/linkage.key" \
  "$files/partner.key" "$files/backup.key"
apply ruta-db "$files/db-password"
admin=$pki/$region/admin/$admin_name
if [[ -r $admin/cert.pem && -r $admin/key.pem ]]; then
  install -m 0644 "$admin/cert.pem" "$files/admin-cert.pem"
  install -m 0600 "$admin/key.pem" "$files/admin-key.pem"
  apply ruta-admin-client "$files/admin-cert.pem" "$files/admin-key.pem" "$files/roots.pem"
else
  echo "create-secrets: WARNING: no admin certificate $admin (certs/pki.sh issue" \
    "--region $region --role admin --name $admin_name): the audit verification" \
    "job will fail until Secret ruta-admin-client exists" >&2
fi
