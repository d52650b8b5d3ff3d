#!/usr/bin/env bash
# The WAN lab: two "hosts" on one machine, the Madre de Dios node and the
# Cusco node, each in a network namespace of its own, joined by a veth pair
# whose two ends get `tc netem` (delay, jitter, loss, rate): the slow,
# dropping Madre de Dios link of DESIGN.md section 7, to try the federation
# by hand. The same address plan and the same default impairment as the
# automated test tests/fault/netem_test.cc (tests/fault/README-netem.md),
# which builds its own throw-away namespaces; this lab keeps them until
# `down`.
#
#   host (the operator's shell, the ruta CLI)
#    ├─ <id>h-m 10.<n>.1.1/30 ── drv 10.<n>.1.2/30  [netns <id>-mdd]    ruta-node madre-de-dios
#    └─ <id>h-c 10.<n>.2.1/30 ── drv 10.<n>.2.2/30  [netns <id>-cusco]  ruta-node cusco
#                     wan-mdd 10.<n>.0.1/30 ══netem══ wan-cusco 10.<n>.0.2/30
#
# The relays use only the wan link; the host reaches each node on its own
# unimpaired link. Each node: mutual TLS on :7443 with the development PKI
# (certs/pki.sh dev), its SQLite database, its log, in deploy/netns/run/
# (git-ignored).
#
# Usage: deploy/netns/lab.sh COMMAND [OPTIONS]
#   check                    what this machine has and lacks for the lab
#   up [IMPAIRMENT]          namespaces, link, impairment, both nodes
#   impair [IMPAIRMENT]      change the impairment of the running lab
#   link down|up             cut the wan link (a Madre de Dios outage), restore it
#   status                   namespaces, qdiscs with counters, nodes, relays
#   down [--purge]           stop the nodes (SIGTERM), delete the namespaces;
#                            --purge also deletes run/ (databases, PKI)
# IMPAIRMENT (each direction; defaults: --delay 300ms --loss 5%):
#   --delay D --jitter J --loss P --rate R   (tc netem syntax: 300ms, 50ms, 5%, 256kbit)
#   --none                   no impairment
# Environment: RUTA_BUILD_DIR (default build/) for ruta-node and ruta;
# RUTA_LAB_ID (default "ruta", at most 6 letters/digits) and RUTA_LAB_NET
# (default 77, the second octet of 10.x) to run two labs side by side;
# RUTA_LAB_RUN (default deploy/netns/run) for its files.
# Needs root (or CAP_NET_ADMIN + CAP_SYS_ADMIN), iproute2 (ip, tc), veth, and
# for the impairment the sch_netem qdisc (kernel module sch_netem): `check`
# says which is missing. Without netem, `up` still builds the lab, says
# loudly that the link is NOT impaired, and uses tbf for --rate if given.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
repo_root=$(cd -- "$here/../.." && pwd)
build_dir=${RUTA_BUILD_DIR:-$repo_root/build}
node_bin=$build_dir/services/node/ruta-node
cli_bin=$build_dir/clients/cli/ruta
id=${RUTA_LAB_ID:-ruta}
net=${RUTA_LAB_NET:-77}
run=${RUTA_LAB_RUN:-$here/run}
[[ $id =~ ^[a-z0-9]{1,6}$ ]] || { echo "lab: RUTA_LAB_ID must be 1-6 lowercase letters/digits" >&2; exit 2; }
[[ $net =~ ^[0-9]{1,3}$ ]] && ((net < 256)) || { echo "lab: RUTA_LAB_NET must be 0-255" >&2; exit 2; }

regions=(madre-de-dios cusco)
declare -A short=([madre-de-dios]=mdd [cusco]=cusco)
declare -A n=([madre-de-dios]=1 [cusco]=2)
declare -A office=([madre-de-dios]=puerto-maldonado [cusco]=main-office)
ns() { echo "$id-${short[$1]}"; }
host_if() { echo "${id}h-${short[$1]:0:1}"; }
wan_if() { echo "wan-${short[$1]}"; }
wan_ip() { echo "10.$net.0.${n[$1]}"; }
drv_ip() { echo "10.$net.${n[$1]}.2"; }
drv_host_ip() { echo "10.$net.${n[$1]}.1"; }
other() { [[ $1 == cusco ]] && echo madre-de-dios || echo cusco; }

say() { echo "lab: $*"; }
die() { echo "lab: $*" >&2; exit 1; }

# ---- check -----------------------------------------------------------------

# netem_available: 0 when a netem qdisc can be added here (probed on a
# throw-away veth in a throw-away namespace).
netem_probe_error=
netem_available() {
  local probe="$id-probe$$" out
  ip netns add "$probe" 2>/dev/null || { netem_probe_error="cannot create a namespace"; return 1; }
  ip -n "$probe" link add probe0 type veth peer name probe1 &&
    ip -n "$probe" link set probe0 up
  if out=$(ip netns exec "$probe" tc qdisc add dev probe0 root netem delay 1ms 2>&1); then
    ip netns del "$probe"
    return 0
  fi
  netem_probe_error=$out
  ip netns del "$probe"
  return 1
}

cmd_check() {
  local missing=0
  if [[ $(id -u) -ne 0 ]]; then
    say "MISSING: root (the lab creates namespaces and links)"
    missing=1
  fi
  for tool in ip tc; do
    command -v "$tool" >/dev/null || { say "MISSING: $tool (Debian: apt-get install iproute2)"; missing=1; }
  done
  [[ -x $node_bin ]] || { say "MISSING: $node_bin (scripts/build.sh ruta-node)"; missing=1; }
  [[ -x $cli_bin ]] || { say "MISSING: $cli_bin (scripts/build.sh ruta)"; missing=1; }
  command -v openssl >/dev/null || { say "MISSING: openssl (certs/pki.sh)"; missing=1; }
  if ((missing == 0)); then
    if netem_available; then
      say "netem: available (tc qdisc netem works in this kernel)"
    else
      say "MISSING: netem: $netem_probe_error"
      say "  the kernel has no sch_netem qdisc (try: modprobe sch_netem; a kernel"
      say "  built without CONFIG_NET_SCH_NETEM cannot impair the link). 'up' still"
      say "  builds the lab, with the link NOT impaired (--rate falls back to tbf)."
      if [[ ! -e /proc/modules ]]; then
        say "  this kernel loads no modules at all (no /proc/modules): sch_netem"
        say "  must be built in; it is not here."
      elif ! command -v modprobe >/dev/null; then
        say "  modprobe is not installed (Debian: apt-get install kmod)."
      fi
      return 3
    fi
    say "everything the lab needs is here"
  fi
  return "$missing"
}

# ---- impairment ------------------------------------------------------------

delay=300ms jitter= loss=5% rate= none=0
parse_impairment() {
  while (($#)); do
    case $1 in
      --delay) delay=${2:?}; shift 2 ;;
      --jitter) jitter=${2:?}; shift 2 ;;
      --loss) loss=${2:?}; shift 2 ;;
      --rate) rate=${2:?}; shift 2 ;;
      --none) none=1; shift ;;
      *) die "unknown option $1 (see: lab.sh --help)" ;;
    esac
  done
}

# apply_impairment: replaces the root qdisc of both ends of the wan link.
apply_impairment() {
  local region dev args
  for region in "${regions[@]}"; do
    dev=$(wan_if "$region")
    ip netns exec "$(ns "$region")" tc qdisc del dev "$dev" root 2>/dev/null || true
  done
  if ((none)); then
    say "impairment: none"
    return
  fi
  if netem_available; then
    args=(delay "$delay")
    [[ -n $jitter ]] && args+=("$jitter" distribution normal)
    [[ -n $loss ]] && args+=(loss "$loss")
    [[ -n $rate ]] && args+=(rate "$rate")
    for region in "${regions[@]}"; do
      ip netns exec "$(ns "$region")" tc qdisc add dev "$(wan_if "$region")" root netem "${args[@]}"
    done
    say "impairment: netem ${args[*]} on both ends (each direction)"
    echo "netem ${args[*]}" >"$run/impairment"
    return
  fi
  echo "lab: ======================================================================" >&2
  echo "lab: WARNING: netem is NOT available here ($netem_probe_error)." >&2
  echo "lab: The wan link has NO delay and NO loss: this is not the Madre de Dios link." >&2
  echo "lab: ======================================================================" >&2
  if [[ -n $rate ]]; then
    for region in "${regions[@]}"; do
      ip netns exec "$(ns "$region")" tc qdisc add dev "$(wan_if "$region")" root \
        tbf rate "$rate" burst 32kbit latency 400ms
    done
    say "impairment: tbf rate $rate only (no delay, no loss)"
    echo "tbf rate $rate (netem missing: no delay, no loss)" >"$run/impairment"
  else
    echo "none (netem missing)" >"$run/impairment"
  fi
}

# ---- up --------------------------------------------------------------------

write_config() {
  local region=$1 dir=$run/$1 peer
  peer=$(other "$region")
  local entries="" slug dep name
  for slug in cusco madre-de-dios; do
    [[ $slug == cusco ]] && dep=08 name=Cusco || dep=17 name="Madre de Dios"
    entries+="${entries:+,}
    {\"slug\": \"$slug\", \"ubigeo_department\": \"$dep\", \"display_name\": \"$name\",
     \"ca_file\": \"../pki/$slug/ca/root.pem\",
     \"crl_files\": [\"../pki/$slug/crl/root.crl.pem\", \"../pki/$slug/crl/intermediate.crl.pem\"],
     \"signing_public_key_file\": \"../pki/trust/signing/$slug.pub\"}"
  done
  cat >"$dir/node.json" <<JSON
{
  "region": "$region",
  "regions": [$entries
  ],
  "listen_address": "0.0.0.0:7443",
  "tls": {
    "cert_file": "../pki/$region/node/node/cert.pem",
    "key_file": "../pki/$region/node/node/key.pem",
    "trust_bundle_file": "../pki/trust/roots.pem"
  },
  "storage": {"database": "sqlite:$region.db"},
  "linkage_key_file": "../pki/linkage/linkage.key",
  "signing_key_file": "../pki/$region/signing/signing.key",
  "peers": [{"region": "$peer", "address": "$(wan_ip "$peer"):7443"}],
  "port_file": "port"
}
JSON
  # CLI configurations for the host's shell.
  local role name
  for role in office admin; do
    [[ $role == office ]] && name=${office[$region]} || name=operator
    cat >"$dir/$role.json" <<JSON
{
  "node": "$(drv_ip "$region"):7443",
  "cert": "../pki/$region/$role/$name/cert.pem",
  "key": "../pki/$region/$role/$name/key.pem",
  "ca": "../pki/trust/roots.pem",
  "server_region": "$region"
}
JSON
  done
}

cmd_up() {
  parse_impairment "$@"
  [[ $(id -u) -eq 0 ]] || die "needs root (run: sudo $0 up)"
  [[ -x $node_bin && -x $cli_bin ]] || die "build ruta-node and ruta first (scripts/build.sh ruta-node ruta), or set RUTA_BUILD_DIR"
  for region in "${regions[@]}"; do
    ip netns list | grep -qw "$(ns "$region")" &&
      die "namespace $(ns "$region") exists: the lab is up ('status', or 'down' first)"
  done
  mkdir -p "$run"
  chmod 700 "$run"
  if [[ ! -d $run/pki ]]; then
    say "generating the development PKI in $run/pki"
    bash "$repo_root/certs/pki.sh" dev --out "$run/pki" >/dev/null
  fi
  # Namespaces and links.
  for region in "${regions[@]}"; do
    ip netns add "$(ns "$region")"
    ip -n "$(ns "$region")" link set lo up
  done
  ip link add "$(wan_if madre-de-dios)" netns "$(ns madre-de-dios)" type veth \
    peer name "$(wan_if cusco)" netns "$(ns cusco)"
  for region in "${regions[@]}"; do
    local nsn
    nsn=$(ns "$region")
    ip link add "$(host_if "$region")" type veth peer name drv netns "$nsn"
    ip addr add "$(drv_host_ip "$region")/30" dev "$(host_if "$region")"
    ip link set "$(host_if "$region")" up
    ip -n "$nsn" addr add "$(drv_ip "$region")/30" dev drv
    ip -n "$nsn" link set drv up
    ip -n "$nsn" addr add "$(wan_ip "$region")/30" dev "$(wan_if "$region")"
    ip -n "$nsn" link set "$(wan_if "$region")" up
  done
  apply_impairment
  # The nodes.
  for region in "${regions[@]}"; do
    mkdir -p "$run/$region"
    write_config "$region"
    rm -f "$run/$region/port"
    (cd "$run/$region" && exec ip netns exec "$(ns "$region")" "$node_bin" \
      --config "$run/$region/node.json" >>"$run/$region/node.log" 2>&1) &
    echo $! >"$run/$region/pid"
  done
  for region in "${regions[@]}"; do
    for _ in $(seq 150); do
      [[ -s $run/$region/port ]] && break
      kill -0 "$(cat "$run/$region/pid")" 2>/dev/null ||
        { tail -20 "$run/$region/node.log" >&2; die "the $region node exited (log above)"; }
      sleep 0.1
    done
    [[ -s $run/$region/port ]] || die "the $region node did not start in 15 s ($run/$region/node.log)"
    say "$region node: $(drv_ip "$region"):7443 from this shell, $(wan_ip "$region"):7443 on the wan link (netns $(ns "$region"), log $run/$region/node.log)"
  done
  local cli=${cli_bin}
  cat <<TEXT

The lab is up. As each region's office (from this shell):
  $cli --config $run/madre-de-dios/office.json case list
  $cli --config $run/cusco/office.json transfer list --incoming
Relays (lag and backlog over the impaired link):
  $cli --config $run/madre-de-dios/admin.json admin relay status
Cut the link for a while, change the impairment, look, stop:
  $0 link down; $0 link up
  $0 impair --delay 600ms --jitter 100ms --loss 10%
  $0 status
  $0 down
TEXT
}

# ---- the rest --------------------------------------------------------------

cmd_impair() {
  parse_impairment "$@"
  ip netns list | grep -qw "$(ns cusco)" || die "the lab is not up"
  apply_impairment
}

cmd_link() {
  local state=${1:-}
  [[ $state == up || $state == down ]] || die "usage: lab.sh link down|up"
  ip -n "$(ns madre-de-dios)" link set "$(wan_if madre-de-dios)" "$state"
  if [[ $state == down ]]; then
    say "wan link down (on the Madre de Dios side; Cusco's end loses its carrier)"
  else
    say "wan link up"
  fi
}

cmd_status() {
  local region up=0 rc=0
  for region in "${regions[@]}"; do
    if ip netns list 2>/dev/null | grep -qw "$(ns "$region")"; then
      up=$((up + 1))
      echo "== $region: netns $(ns "$region"), wan $(wan_ip "$region") ($(ip -n "$(ns "$region")" -br link show "$(wan_if "$region")" 2>/dev/null | awk '{print $2}'))"
      ip netns exec "$(ns "$region")" tc -s qdisc show dev "$(wan_if "$region")" | sed 's/^/   /'
    else
      echo "== $region: netns $(ns "$region") absent"
    fi
    if [[ -f $run/$region/pid ]] && kill -0 "$(cat "$run/$region/pid")" 2>/dev/null; then
      echo "   node running (pid $(cat "$run/$region/pid")), $(drv_ip "$region"):7443"
      "$cli_bin" --config "$run/$region/admin.json" admin relay status 2>&1 | sed 's/^/   /' || rc=1
    else
      echo "   node not running"
      rc=1
    fi
  done
  [[ -f $run/impairment ]] && echo "impairment: $(cat "$run/impairment")"
  ((up == 2)) || rc=1
  return "$rc"
}

cmd_down() {
  local region pid
  for region in cusco madre-de-dios; do
    [[ -f $run/$region/pid ]] || continue
    pid=$(cat "$run/$region/pid")
    if kill -0 "$pid" 2>/dev/null; then
      # ip netns exec execs the node: the pid is the node's.
      kill -TERM "$pid"
      for _ in $(seq 300); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && { say "$region node did not stop in 30 s: SIGKILL"; kill -KILL "$pid"; }
      say "$region node stopped"
    fi
    rm -f "$run/$region/pid"
  done
  for region in "${regions[@]}"; do
    ip link del "$(host_if "$region")" 2>/dev/null || true
    ip netns del "$(ns "$region")" 2>/dev/null && say "namespace $(ns "$region") deleted" || true
  done
  rm -f "$run/impairment"
  if [[ ${1:-} == --purge ]]; then
    rm -rf "$run"
    say "deleted $run"
  fi
}

command=${1:-}
shift || true
case $command in
  check) cmd_check ;;
  up) cmd_up "$@" ;;
  impair) cmd_impair "$@" ;;
  link) cmd_link "$@" ;;
  status) cmd_status ;;
  down) cmd_down "$@" ;;
  -h | --help | help | "")
    sed -n '2,/^set -euo/p' "${BASH_SOURCE[0]}" | sed '$d; s/^# \{0,1\}//'
    [[ -n $command ]] || exit 2
    ;;
  *) die "unknown command $command (see: lab.sh --help)" ;;
esac
