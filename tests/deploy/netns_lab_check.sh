#!/usr/bin/env bash
# deploy/netns/lab.sh end to end: up (with netem when the kernel has it,
# else the lab's own loud fallback), both nodes serving and each relay
# connected to the other over the wan link, the link cut and restored, a
# change of impairment, down: nodes stopped, namespaces and links gone.
# Runs in its own id, subnet and folder, so a lab the developer has up is
# not touched. Exit 77 (ctest SKIP, with the reason) without root or
# network namespaces.
# Usage: netns_lab_check.sh SOURCE_DIR BUILD_DIR
set -euo pipefail
src=${1:?source dir} build=${2:?build dir}
lab=$src/deploy/netns/lab.sh
[[ $(id -u) -eq 0 ]] || { echo "netns_lab_check: SKIPPED: needs root"; exit 77; }
command -v ip >/dev/null && command -v tc >/dev/null ||
  { echo "netns_lab_check: SKIPPED: iproute2 (ip, tc) is not installed"; exit 77; }
probe=rutaprobe$$
ip netns add "$probe" 2>/dev/null ||
  { echo "netns_lab_check: SKIPPED: cannot create network namespaces here"; exit 77; }
ip netns del "$probe"

export RUTA_BUILD_DIR=$build RUTA_LAB_ID=t$(($$ % 100000)) RUTA_LAB_NET=$((100 + $$ % 100))
export RUTA_LAB_RUN
RUTA_LAB_RUN=$(mktemp -d)
trap 'bash "$lab" down --purge >/dev/null 2>&1 || true' EXIT

set +e
bash "$lab" check
check=$?
set -e
case $check in
  0) echo "netns_lab_check: netem available: the lab runs with its default impairment" ;;
  3) echo "netns_lab_check: NOTE: no netem in this kernel: the lab is checked without delay or loss (its fallback)" ;;
  *) echo "netns_lab_check: lab.sh check failed ($check)" >&2; exit 1 ;;
esac

bash "$lab" up
# Both relays connect over the wan link (the reconnect backoff starts at
# 200 ms; allow 60 s for a lossy link).
for _ in $(seq 120); do
  out=$(bash "$lab" status 2>&1) || true
  [[ $(grep -cE '^ +(cusco|madre-de-dios) +yes ' <<<"$out") -eq 2 ]] && break
  sleep 0.5
done
echo "$out"
[[ $(grep -cE '^ +(cusco|madre-de-dios) +yes ' <<<"$out") -eq 2 ]] ||
  { echo "netns_lab_check: the relays did not connect" >&2; exit 1; }
if ((check == 0)); then
  [[ $(grep -c 'qdisc netem' <<<"$out") -eq 2 ]] ||
    { echo "netns_lab_check: netem is not on both ends" >&2; exit 1; }
fi

bash "$lab" link down
ip -n "$RUTA_LAB_ID-mdd" -br link show wan-mdd | grep -q DOWN ||
  { echo "netns_lab_check: link down did not take the wan link down" >&2; exit 1; }
bash "$lab" link up
bash "$lab" impair --none
bash "$lab" down --purge
trap - EXIT
if ip netns list | grep -q "^$RUTA_LAB_ID-"; then
  echo "netns_lab_check: namespaces left after down" >&2
  exit 1
fi
if ip -br link | grep -q "^${RUTA_LAB_ID}h-"; then
  echo "netns_lab_check: host links left after down" >&2
  exit 1
fi
echo "netns_lab_check: ok: up, relays connected, link down/up, impair, down"
