#!/usr/bin/env bash
# certs/selftest.sh - end-to-end check of certs/pki.sh with the openssl CLI:
# dev PKI, chains, SANs, key modes, rotation, revocation (leaf, --all,
# intermediate), new-intermediate, linkage key rotation, refusals.
set -euo pipefail

usage() {
  cat <<'EOF'
Usage: certs/selftest.sh [--keep] [--help]

Runs certs/pki.sh into a fresh temporary directory and checks the result with
the openssl command line. Prints one line per check; exits 1 on the first
failure. --keep leaves the temporary directory in place and prints its path.
EOF
}

KEEP=0
for arg in "$@"; do
  case $arg in
    --keep) KEEP=1 ;;
    -h | --help) usage; exit 0 ;;
    *) printf 'selftest.sh: unknown argument %s\n' "$arg" >&2; usage >&2; exit 2 ;;
  esac
done

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
PKI="$SCRIPT_DIR/pki.sh"
T=$(mktemp -d "${TMPDIR:-/tmp}/ruta-pki-selftest.XXXXXX")
if ((KEEP)); then
  trap 'echo "kept: $T"' EXIT
else
  trap 'rm -rf -- "$T"' EXIT
fi
O="$T/out"
CHECKS=0

ok() { CHECKS=$((CHECKS + 1)); printf 'ok   %s\n' "$*"; }
fail() { printf 'FAIL %s\n' "$*" >&2; exit 1; }
expect_status() { # WANT DESCRIPTION CMD...
  local want=$1 what=$2 got=0
  shift 2
  "$@" >"$T/last.log" 2>&1 || got=$?
  [[ $got == "$want" ]] || { cat "$T/last.log" >&2; fail "$what (exit $got, want $want)"; }
  ok "$what"
}
# expect_reject PATTERN DESCRIPTION CMD... : openssl verify fails, for the
# reason in PATTERN (so a typo in a path cannot pass as a rejection).
expect_reject() {
  local pattern=$1 what=$2
  shift 2
  expect_status 2 "$what" "$@"
  grep -q -- "$pattern" "$T/last.log" || { cat "$T/last.log" >&2; fail "$what: not rejected for '$pattern'"; }
}

# verify LEAF REGION [crl] : full chain to the trust bundle, optional CRLs.
verify() {
  local leaf=$1 region=$2 crl=${3:-}
  local args=(-CAfile "$O/trust/roots.pem" -untrusted "$O/$region/ca/intermediate.pem")
  [[ -z $crl ]] || args+=(-crl_check_all -CRLfile "$O/$region/crl/root.crl.pem" -CRLfile "$O/$region/crl/intermediate.crl.pem")
  openssl verify "${args[@]}" "$leaf"
}

# ----------------------------------------------------------------- dev --
start=$(date +%s%N)
"$PKI" dev --out "$O" >"$T/dev.log"
ms=$((($(date +%s%N) - start) / 1000000))
((ms < 10000)) || fail "dev took ${ms} ms"
ok "dev PKI generated in ${ms} ms"
[[ $(grep -c . "$T/dev.log") -le 25 ]] || fail "dev is not quiet"
ok "dev prints only its summary ($(grep -c . "$T/dev.log") lines)"
expect_status 1 "dev refuses to overwrite without --force" "$PKI" dev --out "$O"

LEAVES=(
  cusco:node/node cusco:office/main-office cusco:office/second-office cusco:partner/tdh
  cusco:dashboard/mayors cusco:admin/operator
  madre-de-dios:node/node madre-de-dios:office/puerto-maldonado madre-de-dios:office/second-office
  madre-de-dios:partner/tdh madre-de-dios:dashboard/mayors madre-de-dios:admin/operator
)
for entry in "${LEAVES[@]}"; do
  region=${entry%%:*} id=${entry#*:} role=${entry#*:} d="$O/${entry%%:*}/${entry#*:}"
  role=${role%/*}
  [[ -L $d ]] || fail "$d is not a symlink"
  openssl verify -CAfile "$O/$region/ca/root.pem" -untrusted "$O/$region/ca/intermediate.pem" "$d/leaf.pem" >/dev/null ||
    fail "$region $id does not verify"
  verify "$d/leaf.pem" "$region" crl >/dev/null || fail "$region $id does not verify with CRLs"
  # cert.pem = leaf + intermediate, and the key matches
  [[ $(grep -c 'BEGIN CERTIFICATE' "$d/cert.pem") == 2 ]] || fail "$d/cert.pem is not leaf+intermediate"
  cmp -s <(openssl x509 -in "$d/cert.pem" -noout -pubkey) <(openssl pkey -in "$d/key.pem" -pubout) ||
    fail "$d key does not match"
  # exactly one URI SAN; node certificates add the dev host names
  sans=$(openssl x509 -in "$d/leaf.pem" -noout -ext subjectAltName | tail -n +2 | sed 's/^ *//')
  want_sans="URI:spiffe://$region.ruta.pe/$id"
  [[ $role != node ]] || want_sans+=", DNS:localhost, IP Address:127.0.0.1"
  [[ $sans == "$want_sans" ]] || fail "$d SAN is '$sans'"
  ext=$(openssl x509 -in "$d/leaf.pem" -noout -ext basicConstraints,extendedKeyUsage,keyUsage)
  if ! grep -q 'Basic Constraints: critical' <<<"$ext" || ! grep -q 'CA:FALSE' <<<"$ext"; then fail "$d basicConstraints"; fi
  grep -qx ' *Digital Signature' <<<"$ext" || fail "$d keyUsage"
  if [[ $role == node ]]; then want='TLS Web Server Authentication, TLS Web Client Authentication'; else want='TLS Web Client Authentication'; fi
  grep -qx " *$want" <<<"$ext" || fail "$d EKU"
  subj=$(openssl x509 -in "$d/leaf.pem" -noout -subject -nameopt compat)
  [[ $subj == "subject=/O=ruta/OU=$region/CN=${id/\//\\/}" ]] || fail "$d subject $subj"
done
ok "${#LEAVES[@]} leaves: chain, CRLs, cert.pem=leaf+intermediate, key matches, one URI SAN, CA:false, EKU, subject"

expect_reject "unable to get local issuer" "cusco leaf does not chain to the madre-de-dios root" \
  openssl verify -CAfile "$O/madre-de-dios/ca/root.pem" -untrusted "$O/cusco/ca/intermediate.pem" "$O/cusco/node/node/leaf.pem"
expect_reject "unable to get local issuer" "rogue leaf (own chain) does not verify against trust/roots.pem" \
  openssl verify -CAfile "$O/trust/roots.pem" -untrusted "$O/rogue/office/rogue/cert.pem" "$O/rogue/office/rogue/leaf.pem"
expect_reject "unable to get local issuer" "rogue leaf with cusco's intermediate does not verify" \
  openssl verify -CAfile "$O/trust/roots.pem" -untrusted "$O/cusco/ca/intermediate.pem" "$O/rogue/office/rogue/leaf.pem"
[[ $(grep -c 'BEGIN CERTIFICATE' "$O/trust/roots.pem") == 2 ]] || fail "trust/roots.pem should hold 2 roots"
ok "trust/roots.pem holds exactly the 2 region roots"
expect_reject "certificate revoked" "negative/revoked is rejected with CRLs" verify "$O/negative/revoked/leaf.pem" cusco crl
expect_reject "certificate has expired" "negative/expired is rejected" verify "$O/negative/expired/leaf.pem" cusco
expect_reject "certificate is not yet valid" "negative/not-yet-valid is rejected" verify "$O/negative/not-yet-valid/leaf.pem" cusco
expect_reject "self-signed certificate" "negative/self-signed is rejected" verify "$O/negative/self-signed/leaf.pem" cusco
[[ $(openssl x509 -in "$O/negative/self-signed/leaf.pem" -noout -ext subjectAltName | tail -n +2 | sed 's/^ *//') == "URI:spiffe://cusco.ruta.pe/office/self-signed" ]] ||
  fail "negative/self-signed SAN"
ok "negative/self-signed carries one cusco URI SAN"
verify "$O/negative/no-uri-san/leaf.pem" cusco crl >/dev/null || fail "negative/no-uri-san should chain"
[[ $(openssl x509 -in "$O/negative/no-uri-san/leaf.pem" -noout -ext subjectAltName | tail -n +2 | sed 's/^ *//') == "DNS:main-office.cusco.ruta.pe" ]] ||
  fail "negative/no-uri-san SAN"
ok "negative/no-uri-san chains and has a DNS SAN only"
expect_reject "CRL has expired" "negative/crl-expired/intermediate.crl.pem is an expired CRL of the cusco intermediate" \
  openssl verify -CAfile "$O/trust/roots.pem" -untrusted "$O/cusco/ca/intermediate.pem" -crl_check_all \
  -CRLfile "$O/cusco/crl/root.crl.pem" -CRLfile "$O/negative/crl-expired/intermediate.crl.pem" "$O/cusco/office/main-office/leaf.pem"
expect_reject "unable to get certificate CRL" "without the intermediate CRL a leaf fails -crl_check_all" \
  openssl verify -CAfile "$O/trust/roots.pem" -untrusted "$O/cusco/ca/intermediate.pem" -crl_check_all \
  -CRLfile "$O/cusco/crl/root.crl.pem" "$O/cusco/office/main-office/leaf.pem"
expect_status 0 "CRLs via the hashed dir trust/crl/hashed (-CApath)" \
  openssl verify -CAfile "$O/trust/roots.pem" -CApath "$O/trust/crl/hashed" -crl_check_all \
  -untrusted "$O/madre-de-dios/ca/intermediate.pem" "$O/madre-de-dios/node/node/leaf.pem"

# CRL validity 30 days
for crl in "$O"/cusco/crl/root.crl.pem "$O"/madre-de-dios/crl/intermediate.crl.pem; do
  last=$(date -d "$(openssl crl -in "$crl" -noout -lastupdate | cut -d= -f2)" +%s)
  next=$(date -d "$(openssl crl -in "$crl" -noout -nextupdate | cut -d= -f2)" +%s)
  (((next - last) == 30 * 86400)) || fail "$crl validity $(((next - last) / 86400)) days"
done
ok "CRLs are valid 30 days"
for dir in "$O"/cusco/crl/hashed "$O"/madre-de-dios/crl/hashed; do
  n=$(find -L "$dir" -maxdepth 1 -name '*.r0' | wc -l)
  [[ $n == 2 ]] || fail "$dir has $n .r0 files"
done
ok "crl/hashed/ holds <hash>.r0 for root and intermediate"

# modes
bad=$(find "$O" \( -name '*.key' -o -name key.pem \) ! -perm 0600)
[[ -z $bad ]] || fail "key files not 0600: $bad"
bad=$(find "$O" \( -name '*.key' -o -name key.pem \) -printf '%h\n' | sort -u | xargs -r stat -c '%a %n' | grep -v '^700 ' || true)
[[ -z $bad ]] || fail "key directories not 0700: $bad"
ok "$(find "$O" \( -name '*.key' -o -name key.pem \) | wc -l) private keys 0600 in 0700 directories"
openssl pkey -in "$O/cusco/signing/signing.key" -noout -text 2>/dev/null | head -1 | grep -q 'ED25519 Private-Key' ||
  fail "signing key is not an Ed25519 private key"
openssl pkey -in "$O/cusco/signing/signing.key" -noout -text | grep -q ED25519 || fail "signing key is not Ed25519"
cmp -s "$O/cusco/signing/signing.pub" <(openssl pkey -in "$O/cusco/signing/signing.key" -pubout) || fail "signing.pub mismatch"
ok "signing key Ed25519 PKCS#8, signing.pub matches"

# ------------------------------------------------------------ linkage --
grep -Eq '^1 [0-9a-f]{64}$' "$O/linkage/linkage.key" || fail "linkage key format"
expect_status 1 "linkage-key refuses to overwrite" "$PKI" linkage-key --out "$O"
expect_status 0 "linkage-key --version 2 appends" "$PKI" linkage-key --out "$O" --version 2
expect_status 1 "linkage-key --version 2 again is refused" "$PKI" linkage-key --out "$O" --version 2
[[ $(grep -Ec '^[12] [0-9a-f]{64}$' "$O/linkage/linkage.key") == 2 && $(stat -c %a "$O/linkage/linkage.key") == 600 ]] ||
  fail "linkage key after rotation"
ok "linkage key has versions 1 and 2, mode 0600"

# ---------------------------------------------------------- rotation --
link="$O/cusco/office/second-office"
v1=$(readlink "$link")
old_serial=$(openssl x509 -in "$link/leaf.pem" -noout -serial)
"$PKI" issue --out "$O" --region cusco --role office --name second-office >/dev/null
v2=$(readlink "$link")
[[ $v1 != "$v2" && -d "$O/cusco/office/$v1" ]] || fail "rotation did not swap the symlink"
[[ $(openssl x509 -in "$link/leaf.pem" -noout -serial) != "$old_serial" ]] || fail "rotation kept the serial"
verify "$link/leaf.pem" cusco crl >/dev/null || fail "rotated leaf does not verify"
"$PKI" issue --out "$O" --region cusco --role office --name second-office --days 30 >/dev/null
[[ ! -e "$O/cusco/office/$v1" && -d "$O/cusco/office/$v2" ]] || fail "pruning keeps current+previous"
ok "issue rotates by symlink swap ($v1 -> $v2 -> $(readlink "$link")), keeps the previous version"
expect_status 2 "issue rejects a bad role" "$PKI" issue --out "$O" --region cusco --role mayor --name x
expect_status 2 "issue rejects a bad name" "$PKI" issue --out "$O" --region cusco --role office --name Bad_Name
expect_status 1 "issue refuses an unknown region" "$PKI" issue --out "$O" --region lima --role office --name x
expect_status 2 "init-region rejects a bad slug" "$PKI" init-region --out "$O" --region Cusco
expect_status 1 "init-region refuses an existing region" "$PKI" init-region --out "$O" --region cusco

# -------------------------------------------------------- revocation --
"$PKI" revoke --out "$O" --region cusco --role office --name main-office --reason keyCompromise >/dev/null
expect_reject "error 23 at 0 depth" "revoked leaf office/main-office fails -crl_check_all" verify "$O/cusco/office/main-office/leaf.pem" cusco crl
expect_status 0 "office/second-office still verifies with CRLs" verify "$O/cusco/office/second-office/leaf.pem" cusco crl
expect_status 0 "madre-de-dios unaffected" verify "$O/madre-de-dios/office/puerto-maldonado/leaf.pem" madre-de-dios crl
expect_reject "error 23 at 0 depth" "trust/crl/hashed also rejects it" openssl verify -CAfile "$O/trust/roots.pem" -CApath "$O/trust/crl/hashed" \
  -crl_check_all -untrusted "$O/cusco/ca/intermediate.pem" "$O/cusco/office/main-office/leaf.pem"
prev_version=$(find "$O/cusco/office/second-office.d" -mindepth 1 -maxdepth 1 ! -name "$(basename "$(readlink "$link")")" | head -1)
"$PKI" revoke --out "$O" --region cusco --role office --name second-office --all >/dev/null
expect_reject "error 23 at 0 depth" "revoke --all: current second-office fails" verify "$link/leaf.pem" cusco crl
expect_reject "error 23 at 0 depth" "revoke --all: previous second-office version fails too" verify "$prev_version/leaf.pem" cusco crl

"$PKI" revoke --out "$O" --region cusco --intermediate >/dev/null
openssl crl -in "$O/cusco/crl/root.crl.pem" -noout -text | grep -q "Serial Number: $(openssl x509 -in "$O/cusco/ca/intermediate.pem" -noout -serial | cut -d= -f2)" ||
  fail "root CRL does not list the intermediate"
for id in node/node partner/tdh dashboard/mayors admin/operator; do
  expect_reject "error 23 at 1 depth" "intermediate revoked: cusco $id fails" verify "$O/cusco/$id/leaf.pem" cusco crl
done
expect_status 0 "intermediate revoked: madre-de-dios node still verifies" verify "$O/madre-de-dios/node/node/leaf.pem" madre-de-dios crl
expect_status 1 "issue refuses under a revoked intermediate" "$PKI" issue --out "$O" --region cusco --role office --name x

"$PKI" new-intermediate --out "$O" --region cusco --reissue >/dev/null
[[ ! -e $(find "$O/cusco/intermediate.retired" -name ca.key | head -1) ]] || fail "retired intermediate key kept"
for id in node/node office/main-office partner/tdh dashboard/mayors admin/operator; do
  verify "$O/cusco/$id/leaf.pem" cusco crl >/dev/null || fail "after new-intermediate --reissue cusco $id fails"
done
ok "new-intermediate --reissue: all cusco leaves verify again, old intermediate key deleted"

cp "$O/madre-de-dios/node/node/leaf.pem" "$T/old-mdd-node.pem"
expect_status 0 "init-region --force recreates a region" "$PKI" init-region --out "$O" --region madre-de-dios --force
expect_reject "unable to get local issuer" "old madre-de-dios leaf no longer chains to the new root" verify "$T/old-mdd-node.pem" madre-de-dios
if [[ $(grep -c 'BEGIN CERTIFICATE' "$O/trust/roots.pem") != 2 ]] ||
  ! grep -q "$(sed -n 2p "$O/madre-de-dios/ca/root.pem")" "$O/trust/roots.pem"; then
  fail "trust/roots.pem not refreshed after init-region --force"
fi
ok "trust/roots.pem refreshed with the new madre-de-dios root"
expect_status 0 "--help" "$PKI" --help
expect_status 0 "issue --help" "$PKI" issue --help
expect_status 2 "unknown subcommand" "$PKI" frobnicate

echo "all $CHECKS checks passed"
