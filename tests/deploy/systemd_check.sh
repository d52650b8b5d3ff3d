#!/usr/bin/env bash
# Checks the systemd units of deploy/systemd:
# * `systemd-analyze verify` on a temporary copy of each unit in which
#   /usr/local/bin/ruta-* are replaced by the build tree's binaries (verify
#   checks that ExecStart exists), instantiated for both regions;
# * every hardening setting the operator's guide promises is present (a unit
#   losing LimitCORE=0 or ProtectSystem=strict fails here);
# * TimeoutStopSec is above the shutdown grace of every example node.json;
# * the sysusers.d and tmpfiles.d files apply to an empty root;
# * prints `systemd-analyze security --offline=yes` exposure of each unit
#   (reported, never a failure).
# Usage: systemd_check.sh SOURCE_DIR NODE_BIN CONSOLE_BIN DASHBOARD_BIN CLI_BIN
# Exit 77 (ctest SKIP) when systemd-analyze is not installed.
set -euo pipefail

src=${1:?source dir} node_bin=${2:?ruta-node} console_bin=${3:?ruta-console}
dash_bin=${4:?ruta-dashboard} cli_bin=${5:?ruta}
units=$src/deploy/systemd

if ! command -v systemd-analyze >/dev/null; then
  echo "systemd_check: SKIPPED: systemd-analyze is not installed (Debian: apt-get install systemd)"
  exit 77
fi
for bin in "$node_bin" "$console_bin" "$dash_bin" "$cli_bin"; do
  [[ -x $bin ]] || { echo "systemd_check: $bin is not built" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failures=0
fail() { echo "systemd_check: FAIL: $*" >&2; failures=$((failures + 1)); }

# instantiate TEMPLATE NAME: a copy with the build tree's binaries.
instantiate() {
  sed -e "s#/usr/local/bin/ruta-node#$node_bin#g" \
    -e "s#/usr/local/bin/ruta-console#$console_bin#g" \
    -e "s#/usr/local/bin/ruta-dashboard#$dash_bin#g" \
    -e "s#/usr/local/bin/ruta #$cli_bin #g" \
    "$units/$1" >"$tmp/$2"
}
checked=()
for region in cusco madre-de-dios; do
  instantiate ruta-node@.service "ruta-node@$region.service"
  instantiate ruta-console@.service "ruta-console@$region.service"
  instantiate ruta-audit-verify@.service "ruta-audit-verify@$region.service"
  instantiate ruta-audit-verify@.timer "ruta-audit-verify@$region.timer"
  checked+=("ruta-node@$region.service" "ruta-console@$region.service"
    "ruta-audit-verify@$region.service" "ruta-audit-verify@$region.timer")
done
instantiate ruta-dashboard.service ruta-dashboard.service
checked+=(ruta-dashboard.service)

for unit in "${checked[@]}"; do
  # verify prints nothing for a clean unit; any line is a finding.
  if ! out=$(cd "$tmp" && systemd-analyze verify --man=no "$tmp/$unit" 2>&1) ||
    [[ -n $out ]]; then
    fail "systemd-analyze verify $unit:"$'\n'"$out"
  else
    echo "systemd_check: verify $unit: ok"
  fi
done

# The hardening every unit must keep (docs/operations.md promises it).
required=(
  "User=ruta" "NoNewPrivileges=yes" "ProtectSystem=strict" "ProtectHome=yes"
  "PrivateTmp=yes" "CapabilityBoundingSet=" "MemoryDenyWriteExecute=yes"
  "LimitCORE=0" "SystemCallFilter=@system-service" "UMask=0077"
  "RestrictAddressFamilies=AF_INET AF_INET6 AF_UNIX"
)
for unit in ruta-node@.service ruta-console@.service ruta-dashboard.service; do
  for setting in "StateDirectory=" "ConfigurationDirectory=" "TimeoutStopSec="; do
    grep -q "^${setting}" "$units/$unit" || fail "$unit lacks $setting"
  done
done
for unit in ruta-node@.service ruta-console@.service ruta-dashboard.service \
  ruta-audit-verify@.service; do
  for setting in "${required[@]}"; do
    grep -q "^${setting}" "$units/$unit" || fail "$unit lacks $setting"
  done
done
grep -q '^ExecReload=/bin/kill -HUP \$MAINPID$' "$units/ruta-node@.service" ||
  fail "ruta-node@.service: ExecReload must send SIGHUP (policy reload)"

# TimeoutStopSec must leave the node its shutdown grace.
stop=$(sed -n 's/^TimeoutStopSec=\([0-9]*\)s\{0,1\}$/\1/p' "$units/ruta-node@.service")
[[ -n $stop ]] || fail "ruta-node@.service: TimeoutStopSec is not a number of seconds"
for config in "$units"/etc/ruta/*/node.json; do
  grace=$(python3 -c 'import json,sys; print(json.load(open(sys.argv[1])).get("limits", {}).get("shutdown_grace_seconds", 10))' "$config")
  if [[ -n $stop ]] && ((stop <= grace + 5)); then
    fail "TimeoutStopSec=$stop is not above $config's shutdown grace ($grace s) plus 5 s"
  fi
done

# sysusers.d and tmpfiles.d apply to an empty root.
root=$tmp/root
mkdir -p "$root/etc"
if out=$(systemd-sysusers --root="$root" "$units/ruta.sysusers.conf" 2>&1) &&
  grep -q '^ruta:x:[0-9]*:[0-9]*:.*:/var/lib/ruta:/usr/sbin/nologin$' "$root/etc/passwd"; then
  echo "systemd_check: sysusers: $(grep '^ruta:' "$root/etc/passwd")"
else
  fail "systemd-sysusers ruta.sysusers.conf: $out"
fi
if out=$(systemd-tmpfiles --root="$root" --create "$units/ruta.tmpfiles.conf" 2>&1) &&
  [[ -d $root/etc/ruta && -d $root/var/lib/ruta && -d $root/var/lib/ruta-backups ]]; then
  echo "systemd_check: tmpfiles: /etc/ruta /var/lib/ruta /var/lib/ruta-backups created"
else
  fail "systemd-tmpfiles ruta.tmpfiles.conf: $out"
fi

# The example configurations are accepted by the real node, with the files
# deploy/region-files.sh lays out from a development PKI (the database
# switched to SQLite and the backup folder to a temporary one: no
# PostgreSQL here).
pki=$tmp/pki
if out=$(bash "$src/certs/pki.sh" dev --out "$pki" 2>&1); then
  for config in "$units"/etc/ruta/*/node.json; do
    region=$(basename "$(dirname "$config")")
    etc=$tmp/etc/$region
    bash "$src/deploy/region-files.sh" --pki "$pki" --region "$region" --out "$etc" >/dev/null
    mkdir -p "$tmp/state" && install -d -m 0700 "$tmp/backups/$region"
    python3 - "$config" "$etc/node.json" "$tmp/state/$region.db" "$tmp/backups/$region" <<'PY'
import json, sys
config = json.load(open(sys.argv[1]))
config["storage"] = {"database": "sqlite:" + sys.argv[3]}
config.setdefault("backup", {})["directory"] = sys.argv[4]
json.dump(config, open(sys.argv[2], "w"), indent=2)
PY
    if out=$("$node_bin" --config "$etc/node.json" --check_config 2>&1); then
      echo "systemd_check: ruta-node --check_config $region example (SQLite): $out"
    else
      fail "ruta-node --check_config on the $region example with region-files.sh's layout: $out"
    fi
  done
else
  fail "certs/pki.sh dev: $out"
fi

# The exposure score, reported (lower is better; 0-10).
for unit in ruta-node@cusco.service ruta-console@cusco.service ruta-dashboard.service \
  ruta-audit-verify@cusco.service; do
  score=$(cd "$tmp" && systemd-analyze security --offline=yes --no-pager "$tmp/$unit" 2>&1 |
    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\) \([A-Z]*\).*/\1 \2/p')
  echo "systemd_check: systemd-analyze security exposure $unit: ${score:-unknown}"
done

if ((failures > 0)); then
  echo "systemd_check: $failures failure(s)" >&2
  exit 1
fi
echo "systemd_check: ${#checked[@]} units verified, hardening present"
