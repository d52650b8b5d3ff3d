#!/usr/bin/env bash
# Starts the two-region exchange on loopback: a Cusco node on 127.0.0.1:7443
# and a Madre de Dios node on 127.0.0.1:7444, each a ruta-node process with
# its own SQLite database (var/<region>/) and certificates (var/pki/); and
# the mayors' dashboard (ruta-dashboard) on https://127.0.0.1:8443/, a client
# of the Cusco node, with its files in var/dashboard/; and the office console
# (ruta-console) of each region, Cusco on https://127.0.0.1:8444/ and Madre de
# Dios on https://127.0.0.1:8445/, with their files in var/console-<region>/.
# Each node also serves Prometheus metrics (Cusco http://127.0.0.1:9464/metrics,
# Madre de Dios :9465), a plaintext health-only port (127.0.0.1:7480, :7481)
# and writes encrypted backups to var/<region>/backups/ (key
# var/<region>/backup.key, made here once).
# Expects build/ to hold ruta-node, ruta, ruta-dashboard and ruta-console
# (scripts/run-local.sh does all). Running it again keeps what exists.
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/../.." && pwd)
build_dir=${RUTA_BUILD_DIR:-$repo_root/build}
var=$repo_root/var
node_bin=$build_dir/services/node/ruta-node
cli_bin=$build_dir/clients/cli/ruta
dash_bin=$build_dir/clients/dashboard/ruta-dashboard
console_bin=$build_dir/clients/console/ruta-console
# A fixed port, so the URL printed below stays the same from run to run.
dash_port=8443
dash_user=alcaldia
regions=(cusco madre-de-dios)
declare -A office=([cusco]=main-office [madre-de-dios]=puerto-maldonado)
# The office consoles: fixed ports and one clerk account per region.
declare -A console_port=([cusco]=8444 [madre-de-dios]=8445)
declare -A clerk=([cusco]=ana [madre-de-dios]=luis)

for bin in "$node_bin" "$cli_bin" "$dash_bin" "$console_bin"; do
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
# Nor, one generated before the dashboard existed, a dashboard certificate.
if [[ ! -e $var/pki/cusco/dashboard/mayors/cert.pem ]]; then
  bash "$repo_root/certs/pki.sh" issue --region cusco --role dashboard \
    --name mayors --out "$var/pki"
fi

for region in "${regions[@]}"; do
  mkdir -p "$var/$region"
  # Backups (`ruta admin backup`): the directory the node writes them to
  # (no permission for others, or the node refuses it) and the encryption
  # key, 32 random bytes as 64 hex characters, mode 0600, made once and kept
  # (a new key could not open the backups made before). In production the key
  # is kept away from the backups (docs/backup.md); here both are in var/.
  mkdir -p "$var/$region/backups"
  chmod 700 "$var/$region/backups"
  if [[ ! -s $var/$region/backup.key ]]; then
    (umask 077 && openssl rand -hex 32 >"$var/$region/backup.key")
  fi
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

# The mayors' CLI configuration (dashboard certificate), for `ruta stats`.
cat >"$var/cusco/mayors.json" <<JSON
{
  "node": "127.0.0.1:$(cat "$var/cusco/port")",
  "cert": "../pki/cusco/dashboard/mayors/cert.pem",
  "key": "../pki/cusco/dashboard/mayors/key.pem",
  "ca": "../pki/trust/roots.pem",
  "server_region": "cusco"
}
JSON

# The web clients' HTTPS certificate is a self-signed one for loopback only
# (the browser warns once): it is a web certificate for the staff's
# browsers, not a ruta SPIFFE identity, so it is not made by pki.sh.
web_tls=$var/web-tls
mkdir -p "$web_tls"
chmod 700 "$web_tls"
if [[ ! -s $web_tls/https-key.pem || ! -s $web_tls/https-cert.pem ]]; then
  echo "start: generating a self-signed HTTPS certificate in var/web-tls"
  (umask 077 && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 \
    -nodes -days 825 -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -keyout "$web_tls/https-key.pem" -out "$web_tls/https-cert.pem" 2>/dev/null)
  chmod 600 "$web_tls/https-key.pem"
fi

# account_line BIN DIR USER: makes sure DIR/accounts holds USER, with a
# random password kept in DIR/password (0600) so that it can be read again,
# and prints how to log in. An existing account is kept as it is: adding it
# again would fail, and its password is already in the file.
account_line() {
  local bin=$1 dir=$2 user=$3
  local rel=${dir#"$repo_root"/}
  if [[ -f $dir/accounts ]] && "$bin" account list --accounts "$dir/accounts" |
    cut -f1 | grep -qx "$user"; then
    [[ -s $dir/password ]] || echo "start: account $user exists but" \
      "$rel/password is gone; delete $rel/accounts to reset" >&2
    echo "user $user, password in $rel/password"
    return
  fi
  # Hex: no character a form or a shell would need to escape. The password
  # file is replaced only once the account holds that password.
  (umask 077 && openssl rand -hex 16 >"$dir/password.new")
  "$bin" account add "$user" --accounts "$dir/accounts" \
    --password-stdin <"$dir/password.new" >/dev/null
  mv "$dir/password.new" "$dir/password"
  # Shown this once; later runs only say where it is.
  echo "user $user, password $(cat "$dir/password") (kept in $rel/password)"
}

# start_web NAME DIR BIN ARGS...: starts a web client in the background
# (log DIR/NAME.log, pid DIR/pid) unless it runs, and waits for its port.
start_web() {
  local name=$1 dir=$2 bin=$3
  shift 3
  if [[ -f $dir/pid ]] && kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
    echo "start: $name already running (pid $(cat "$dir/pid"))"
    return
  fi
  rm -f "$dir/port"
  "$bin" "$@" --tls-cert "$web_tls/https-cert.pem" \
    --tls-key "$web_tls/https-key.pem" --accounts "$dir/accounts" \
    --port-file "$dir/port" >"$dir/$name.log" 2>&1 &
  echo $! >"$dir/pid"
  for _ in $(seq 100); do
    [[ -s $dir/port ]] && return
    if ! kill -0 "$(cat "$dir/pid")" 2>/dev/null; then
      echo "start: $name exited; its log ($dir/$name.log):" >&2
      cat "$dir/$name.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  echo "start: $name did not start in 10 s" >&2
  exit 1
}

# The mayors' dashboard, a client of the Cusco node.
dash=$var/dashboard
mkdir -p "$dash"
chmod 700 "$dash"
password_line=$(account_line "$dash_bin" "$dash" "$dash_user")
start_web dashboard "$dash" "$dash_bin" \
  --node "127.0.0.1:$(cat "$var/cusco/port")" --node-region cusco \
  --ca "$var/pki/trust/roots.pem" \
  --cert "$var/pki/cusco/dashboard/mayors/cert.pem" \
  --key "$var/pki/cusco/dashboard/mayors/key.pem" \
  --listen "127.0.0.1:$dash_port"

# One office console per region, each with the office's certificate and one
# clerk account.
declare -A console_line
for region in "${regions[@]}"; do
  dir=$var/console-$region
  mkdir -p "$dir"
  chmod 700 "$dir"
  console_line[$region]=$(account_line "$console_bin" "$dir" "${clerk[$region]}")
  start_web console "$dir" "$console_bin" --region "$region" \
    --node "127.0.0.1:$(cat "$var/$region/port")" \
    --ca "$var/pki/trust/roots.pem" \
    --cert "$var/pki/$region/office/${office[$region]}/cert.pem" \
    --key "$var/pki/$region/office/${office[$region]}/key.pem" \
    --listen "127.0.0.1:${console_port[$region]}"
done

cli=${cli_bin#"$repo_root"/}
cat <<TEXT

The office consoles, where clerks work (open a case, request, accept and
follow transfers, record services and activities); your browser will warn
once about their self-signed certificate:

  Cusco          https://127.0.0.1:${console_port[cusco]}/   ${console_line[cusco]}
  Madre de Dios  https://127.0.0.1:${console_port[madre-de-dios]}/   ${console_line[madre-de-dios]}
  logs var/console-<region>/console.log

Add a clerk: ${console_bin#"$repo_root"/} account add NAME --accounts var/console-cusco/accounts

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

The mayors' dashboard (aggregate tables of both regions, small counts shown
as <k) runs against the Cusco node; your browser will warn once about its
self-signed certificate:

  https://127.0.0.1:$dash_port/   $password_line
  log var/dashboard/dashboard.log

The same tables in the terminal, with the mayors' dashboard certificate:

  $cli --config var/cusco/mayors.json stats
  $cli --config var/cusco/mayors.json stats --table cases_by_stage

Watch and back up the nodes as their operators do (docs/operations.md):
metrics in Prometheus' text format, health on a plaintext port, and an
online encrypted backup into var/<region>/backups/:

  curl -s http://127.0.0.1:9464/metrics | grep ^ruta_     Madre de Dios: 9465
  $cli --config var/cusco/admin.json admin backup
  $cli --config var/cusco/admin.json admin audit verify

Restore one (docs/backup.md): deploy/local/stop.sh, then
  ${node_bin#"$repo_root"/} restore --config deploy/local/cusco.json \\
      --backup var/cusco/backups/FILE.rbk
and deploy/local/start.sh again: the node fetches back from Madre de Dios
what it had acknowledged after the backup (docs/restore.md).

  $cli --help        every command, its flags and exit codes

Stop the nodes, the dashboard and the consoles with: deploy/local/stop.sh
TEXT
