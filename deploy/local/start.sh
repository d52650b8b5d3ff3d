#!/usr/bin/env bash
# Starts the two-region exchange on loopback: a Cusco node on 127.0.0.1:7443
# and a Madre de Dios node on 127.0.0.1:7444, each a ruta-node process with
# its own SQLite database (var/<region>/) and certificates (var/pki/).
# Expects build/ to hold ruta-node and ruta (scripts/run-local.sh does all).
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=${RUTA_BUILD_DIR:-$repo_root/build}
var=$repo_root/var
node_bin=$build_dir/services/node/ruta-node
cli_bin=$build_dir/clients/cli/ruta
regions=(cusco madre-de-dios)
declare -A office=([cusco]=main-office [madre-de-dios]=puerto-maldonado)

for bin in "$node_bin" "$cli_bin"; do
  [[ -x $bin ]] || { echo "start: $bin is not built; run scripts/run-local.sh" >&2; exit 1; }
done

mkdir -p "$var"
chmod 700 "$var"
if [[ ! -d $var/pki ]]; then
  echo "start: generating the development PKI in var/pki"
  bash "$repo_root/certs/pki.sh" dev --out "$var/pki"
fi
# A PKI generated before partners existed has no partner master secret.
if [[ ! -f $var/pki/linkage/partner.key ]]; then
  (umask 077 && openssl rand -hex 32 >"$var/pki/linkage/partner.key")
fi

for region in "${regions[@]}"; do
  mkdir -p "$var/$region"
  pid_file=$var/$region/pid
  if [[ -f $pid_file ]] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
    echo "start: $region node already running (pid $(cat "$pid_file"))"
    continue
  fi
  rm -f "$var/$region/port"
  "$node_bin" --config "$repo_root/deploy/local/$region.json" \
    >"$var/$region/node.log" 2>&1 &
  echo $! >"$pid_file"
done

for region in "${regions[@]}"; do
  for _ in $(seq 100); do
    [[ -s $var/$region/port ]] && break
    if ! kill -0 "$(cat "$var/$region/pid")" 2>/dev/null; then
      echo "start: the $region node exited; its log ($var/$region/node.log):" >&2
      cat "$var/$region/node.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  [[ -s $var/$region/port ]] || { echo "start: $region node did not start in 10 s" >&2; exit 1; }
  # A CLI configuration per office, for the commands printed below.
  cat >"$var/$region/office.json" <<JSON
{
  "node": "127.0.0.1:$(cat "$var/$region/port")",
  "cert": "../pki/$region/office/${office[$region]}/cert.pem",
  "key": "../pki/$region/office/${office[$region]}/key.pem",
  "ca": "../pki/trust/roots.pem",
  "server_region": "$region"
}
JSON
  # One for the region's partner Terre des Hommes (partner certificate).
  if [[ -d $var/pki/$region/partner/tdh ]]; then
    cat >"$var/$region/partner.json" <<JSON
{
  "node": "127.0.0.1:$(cat "$var/$region/port")",
  "cert": "../pki/$region/partner/tdh/cert.pem",
  "key": "../pki/$region/partner/tdh/key.pem",
  "ca": "../pki/trust/roots.pem",
  "server_region": "$region"
}
JSON
  fi
  # And one for the region's operator (admin certificate).
  cat >"$var/$region/admin.json" <<JSON
{
  "node": "127.0.0.1:$(cat "$var/$region/port")",
  "cert": "../pki/$region/admin/operator/cert.pem",
  "key": "../pki/$region/admin/operator/key.pem",
  "ca": "../pki/trust/roots.pem",
  "server_region": "$region"
}
JSON
done

cli=${cli_bin#"$repo_root"/}
cat <<TEXT

Two regional nodes are running on loopback:
  Cusco          127.0.0.1:$(cat "$var/cusco/port")   data var/cusco/          log var/cusco/node.log
  Madre de Dios  127.0.0.1:$(cat "$var/madre-de-dios/port")   data var/madre-de-dios/  log var/madre-de-dios/node.log

Talk to them with the ruta CLI as an office of each region, e.g. the UPE
office of Puerto Maldonado opens the case of a child identified in a mining
camp bar (identifiers are read from a file or stdin, never from flags):

  echo '{"dni": "45678912"}' | $cli --config var/madre-de-dios/office.json \\
      case open --kind victim --stage identified --age-band 15-17 --sex female \\
      --origin-province 0812 --exploitation sexual --setting bar \\
      --recruitment false-job-offer --identified-month 2026-10 \\
      --legal-basis upe-protective-measure --identifiers-file -
  $cli --config var/madre-de-dios/office.json case list
  $cli --config var/madre-de-dios/office.json case stage CASE_ID immediate-protection
  $cli --config var/cusco/office.json case list

Hand the case over to Cusco (move it to residential-care first), and walk
the transfer: each step is taken by its region's office, and each region's
node relays it to the other (they are peers of each other):

  $cli --config var/madre-de-dios/office.json case stage CASE_ID residential-care
  $cli --config var/madre-de-dios/office.json transfer request CASE_ID \\
      --to cusco --province 0801 --service education-support
  $cli --config var/cusco/office.json transfer list --incoming
  $cli --config var/cusco/office.json transfer accept TRANSFER_ID
  $cli --config var/madre-de-dios/office.json transfer depart TRANSFER_ID
  $cli --config var/cusco/office.json transfer receive TRANSFER_ID
  $cli --config var/cusco/office.json service add CASE_ID \\
      --type vocational-training --status ongoing --start 2026-11
  $cli --config var/madre-de-dios/office.json service list CASE_ID
  $cli --config var/madre-de-dios/admin.json admin relay status

Refer a case to an NGO partner (Terre des Hommes), which then follows it
under its own pseudonym and records the services it delivers:

  $cli --config var/cusco/office.json case refer CASE_ID cusco/tdh
  $cli --config var/cusco/partner.json partner cases
  $cli --config var/cusco/partner.json partner watch

  $cli --help        every command, its flags and exit codes

Stop both nodes with: deploy/local/stop.sh
TEXT
