#!/usr/bin/env bash
# certs/pki.sh - development/operator PKI for ruta (see certs/README.md and
# DESIGN.md section 5). Every region runs its own CA: root -> intermediate ->
# leaves whose only identity is one SPIFFE URI SAN
# spiffe://<region>.ruta.pe/<role>/<name>.
#
# Only the OpenSSL 3 command line, coreutils and util-linux (flock) are used.
# No passwords, no prompts: private keys are protected by file modes only
# (0600 files in 0700 directories), so the output folder must never leave the
# machine it was made on, and is never committed (certs/out/ is git-ignored).
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
readonly SCRIPT_DIR REPO_ROOT
readonly DEFAULT_OUT="$REPO_ROOT/certs/out"
readonly PROG="pki.sh"

readonly TRUST_DOMAIN_SUFFIX="ruta.pe"
readonly ROOT_DAYS=3650         # 10 years
readonly INTERMEDIATE_DAYS=1825 # 5 years
readonly LEAF_DAYS=397          # CA/B forum maximum, a habit worth keeping
readonly CRL_DAYS=30            # a week offline never blocks catch-up
readonly REGION_RE='^[a-z][a-z-]{1,30}[a-z]$'
readonly NAME_RE='^[a-z0-9][a-z0-9-]{0,62}$'
readonly ROLE_RE='^(node|office|partner|dashboard|admin)$'
readonly VERSION_RE='^[1-9][0-9]{0,2}$' # 1..999, as the node's parser accepts
readonly DAYS_RE='^[1-9][0-9]{0,4}$'
readonly REASON_RE='^(unspecified|keyCompromise|CACompromise|affiliationChanged|superseded|cessationOfOperation|certificateHold)$'
readonly REGION_MARKER=".ruta-region" # marks DIR/SLUG as a real (trusted) region
readonly DEV_REGIONS=(cusco madre-de-dios)

VERBOSE=0
QUIET=0
TMPD=""

# Everything we create is private unless explicitly made public (chmod).
umask 077

usage() {
  cat <<EOF
Usage: certs/$PROG SUBCOMMAND [OPTIONS]

Development/operator PKI for ruta: per-region root and intermediate CA,
SPIFFE leaf certificates, CRLs, region signing keys, federation linkage key.
DIR (--out) defaults to $DEFAULT_OUT.

Subcommands:
  init-region --region SLUG [--out DIR] [--force]
      Create region SLUG (^[a-z][a-z-]{1,30}[a-z]\$): root CA (EC P-256, 10 y,
      pathlen:1), intermediate CA (pathlen:0, 5 y), Ed25519 signing key pair
      (signing/signing.key, signing/signing.pub), CA databases, empty CRLs.
      Refuses if the region exists unless --force (which DELETES it first).

  issue --region SLUG --role ROLE --name NAME [--days N] [--hosts H1,H2] [--out DIR]
      Issue (or rotate) the leaf spiffe://SLUG.$TRUST_DOMAIN_SUFFIX/ROLE/NAME,
      ROLE in node|office|partner|dashboard|admin, NAME ^[a-z0-9][a-z0-9-]{0,62}\$,
      default $LEAF_DAYS days. Installs DIR/SLUG/ROLE/NAME.d/<version>/ and then
      atomically swaps the symlink DIR/SLUG/ROLE/NAME -> NAME.d/<version>
      holding cert.pem (leaf + intermediate), key.pem (0600), leaf.pem.

  revoke --region SLUG (--role ROLE --name NAME [--all] | --intermediate)
         [--reason REASON] [--out DIR]
      Revoke the current certificate of a leaf (--all: every still-valid
      certificate ever issued to that identity, including rotated ones), or
      the region's intermediate CA (by the root), then republish the CRLs.
      REASON: unspecified keyCompromise CACompromise affiliationChanged
      superseded cessationOfOperation certificateHold.

  new-intermediate --region SLUG [--reissue] [--out DIR]
      Retire the current intermediate CA (its key is deleted) and create a new
      one under the same root, e.g. after revoke --intermediate. Leaves of the
      old intermediate stop verifying (their CRL is no longer published);
      --reissue re-issues every current leaf of the region.

  publish-crl --region SLUG [--out DIR]
      Write DIR/SLUG/crl/root.crl.pem (by the root: intermediates) and
      DIR/SLUG/crl/intermediate.crl.pem (by the intermediate: leaves), each
      valid $CRL_DAYS days, and the hashed directory DIR/SLUG/crl/hashed/
      (<hash>.r0), atomically replaced. Also refreshes DIR/trust/.

  linkage-key [--version N] [--out DIR]
      Create DIR/linkage/linkage.key (0600): lines "<version> <64 hex>".
      Without --version: version 1, refuses if the file exists. With
      --version N: adds version N (rotation; 1..999, above every existing one).

  dev [--out DIR] [--force]
      One-shot development PKI: regions ${DEV_REGIONS[*]}, their leaves, a
      linkage key, DIR/trust/roots.pem, an untrusted rogue CA (DIR/rogue/)
      and negative test fixtures (DIR/negative/). --force replaces them.

Common options:
  --out DIR     output directory (default: $DEFAULT_OUT)
  --verbose     show the openssl output
  -h, --help    this text

Exit status: 0 success, 1 refused or failed, 2 usage error.
EOF
}

# ---------------------------------------------------------------- helpers --

die() {
  printf '%s: error: %s\n' "$PROG" "$*" >&2
  exit 1
}

usage_error() {
  printf '%s: %s\n' "$PROG" "$*" >&2
  printf "Run 'certs/%s --help' for usage.\n" "$PROG" >&2
  exit 2
}

info() {
  if ((!QUIET)); then printf '%s\n' "$*"; fi
}

# run CMD... : run quietly; show the output on failure (or always if verbose).
run() {
  local log
  log=$(mktemp "$TMPD/log.XXXXXX")
  if ! "$@" >"$log" 2>&1; then
    cat "$log" >&2
    die "command failed: $*"
  fi
  if ((VERBOSE)); then cat "$log" >&2; fi
}

setup_tmp() {
  TMPD=$(mktemp -d "${TMPDIR:-/tmp}/ruta-pki.XXXXXX")
  trap 'rm -rf -- "$TMPD"' EXIT
}

# One mutating pki.sh at a time per DIR (the openssl ca databases are not
# safe for concurrent writers).
lock_out() {
  local out=$1
  [[ -d $out ]] || mkdir_public "$out"
  exec 9>"$out/.pki.lock"
  flock -w 120 9 || die "timed out waiting for the lock on $out/.pki.lock"
}

mkdir_private() { mkdir -p -- "$@" && chmod 0700 -- "$@"; }
mkdir_public() { mkdir -p -- "$@" && chmod 0755 -- "$@"; }

# install_public SRC DST : atomic copy, mode 0644.
install_public() {
  local tmp
  tmp=$(mktemp "$(dirname -- "$2")/.tmp.XXXXXX")
  cat -- "$1" >"$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$2"
}

# swap_symlink LINK TARGET : point LINK at TARGET atomically (rename(2)).
swap_symlink() {
  local link=$1 target=$2 tmp
  tmp="$(dirname -- "$link")/.$(basename -- "$link").lnk.$$"
  ln -sfn -- "$target" "$tmp"
  mv -T -- "$tmp" "$link"
}

new_ec_key() {
  run openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 \
    -pkeyopt ec_param_enc:named_curve -out "$1"
  chmod 0600 "$1"
}

cert_serial() {
  local s
  s=$(openssl x509 -noout -serial -in "$1")
  printf '%s\n' "${s#serial=}"
}

spiffe_id() { printf 'spiffe://%s.%s/%s/%s' "$1" "$TRUST_DOMAIN_SUFFIX" "$2" "$3"; }

# ------------------------------------------------------- option parsing --

OPT_OUT="" OPT_REGION="" OPT_ROLE="" OPT_NAME="" OPT_DAYS="" OPT_VERSION=""
OPT_REASON="" OPT_HOSTS="" OPT_FORCE=0 OPT_INTERMEDIATE=0 OPT_ALL=0 OPT_REISSUE=0

# parse_opts "ALLOWED OPTIONS" ARGS... (options not in ALLOWED are errors)
parse_opts() {
  local allowed=" $1 --out --verbose --help " opt val
  shift
  while (($#)); do
    opt=$1
    val=""
    if [[ $opt == --*=* ]]; then
      val=${opt#*=}
      opt=${opt%%=*}
      set -- "$opt" "$val" "${@:2}"
    fi
    [[ $opt == -h ]] && opt=--help
    [[ $allowed == *" $opt "* ]] || usage_error "unknown option for this subcommand: $1"
    case $opt in
      --help) usage; exit 0 ;;
      --verbose) VERBOSE=1 ;;
      --force) OPT_FORCE=1 ;;
      --intermediate) OPT_INTERMEDIATE=1 ;;
      --all) OPT_ALL=1 ;;
      --reissue) OPT_REISSUE=1 ;;
      --out | --region | --role | --name | --days | --version | --reason | --hosts)
        (($# >= 2)) || usage_error "option $opt needs a value"
        val=$2
        shift
        case $opt in
          --out) OPT_OUT=$val ;;
          --region) OPT_REGION=$val ;;
          --role) OPT_ROLE=$val ;;
          --name) OPT_NAME=$val ;;
          --days) OPT_DAYS=$val ;;
          --version) OPT_VERSION=$val ;;
          --reason) OPT_REASON=$val ;;
          --hosts) OPT_HOSTS=$val ;;
        esac
        ;;
    esac
    shift
  done
  [[ -n $OPT_OUT ]] || OPT_OUT=$DEFAULT_OUT
  OPT_OUT=$(realpath -m -- "$OPT_OUT")
  return 0
}

need_region() {
  [[ -n $OPT_REGION ]] || usage_error "--region SLUG is required"
  [[ $OPT_REGION =~ $REGION_RE ]] || usage_error "invalid region slug '$OPT_REGION' (must match $REGION_RE)"
  [[ $OPT_REGION != *--* ]] || usage_error "invalid region slug '$OPT_REGION' (no '--')"
  case $OPT_REGION in
    trust | linkage | rogue | negative) usage_error "'$OPT_REGION' is reserved" ;;
  esac
}

need_leaf_id() {
  [[ -n $OPT_ROLE ]] || usage_error "--role ROLE is required"
  [[ $OPT_ROLE =~ $ROLE_RE ]] || usage_error "invalid role '$OPT_ROLE' (node, office, partner, dashboard, admin)"
  [[ -n $OPT_NAME ]] || usage_error "--name NAME is required"
  [[ $OPT_NAME =~ $NAME_RE ]] || usage_error "invalid name '$OPT_NAME' (must match $NAME_RE)"
}

# The region directory must be an initialized region.
existing_region_dir() {
  local rdir="$OPT_OUT/$OPT_REGION"
  [[ -f $rdir/$REGION_MARKER && -f $rdir/intermediate/ca.pem ]] ||
    die "region '$OPT_REGION' does not exist in $OPT_OUT (run: certs/$PROG init-region --region $OPT_REGION --out $OPT_OUT)"
  printf '%s\n' "$rdir"
}

# ------------------------------------------------------------ CA basics --

# write_ca_config CADIR : openssl ca/req configuration of one CA. Paths are
# relative to the CA directory (openssl always runs there), so DIR can move.
write_ca_config() {
  cat >"$1/openssl.cnf" <<'EOF'
# Generated by certs/pki.sh. openssl is always run from this directory.
[ ca ]
default_ca = ruta_ca

[ ruta_ca ]
dir              = .
database         = $dir/index.txt
new_certs_dir    = $dir/newcerts
certificate      = $dir/ca.pem
private_key      = $dir/ca.key
serial           = $dir/serial
crlnumber        = $dir/crlnumber
default_md       = sha256
default_days     = 397
default_crl_days = 30
policy           = ruta_policy
unique_subject   = no
copy_extensions  = none
email_in_dn      = no
preserve         = no
name_opt         = ca_default
cert_opt         = ca_default
crl_extensions   = crl_ext

# A CA only signs requests of its own organisation and region.
[ ruta_policy ]
organizationName       = match
organizationalUnitName = match
commonName             = supplied

[ crl_ext ]
authorityKeyIdentifier = keyid:always

[ req ]
distinguished_name = req_dn
prompt             = no
utf8               = yes
string_mask        = utf8only

[ req_dn ]
# unused: subjects are always given with -subj

[ v3_root ]
basicConstraints       = critical, CA:true, pathlen:1
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash

[ v3_intermediate ]
basicConstraints       = critical, CA:true, pathlen:0
keyUsage               = critical, keyCertSign, cRLSign
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF
}

init_ca_db() {
  local cadir=$1
  mkdir_private "$cadir" "$cadir/newcerts"
  write_ca_config "$cadir"
  : >"$cadir/index.txt"
  echo "unique_subject = no" >"$cadir/index.txt.attr"
  # Random start (first bit clear: positive, <= 16 octets), then sequential.
  printf '%02X%s\n' $((RANDOM % 128)) "$(openssl rand -hex 15 | tr 'a-f' 'A-F')" >"$cadir/serial"
  echo 1000 >"$cadir/crlnumber"
}

# ca_sign CADIR CSR OUT DAYS EXTFILE|- SECTION [openssl ca options...]
ca_sign() {
  local cadir=$1 csr=$2 out=$3 days=$4 extfile=$5 section=$6
  shift 6
  local ext=(-extensions "$section")
  [[ $extfile == - ]] || ext+=(-extfile "$extfile")
  run env -C "$cadir" openssl ca -batch -notext -config openssl.cnf \
    "${ext[@]}" -days "$days" -in "$csr" -out "$out" "$@"
}

# ca_status CADIR CERT : V (valid), R (revoked), E (expired) or ? (unknown)
ca_status() {
  local serial
  serial=$(cert_serial "$2")
  awk -F '\t' -v s="$serial" '
    function norm(x) { x = toupper(x); sub(/^0+/, "", x); return x }
    norm($4) == norm(s) { st = $1 }
    END { print (st == "" ? "?" : st) }' "$1/index.txt"
}

# revoke_cert CADIR CERT [REASON]
revoke_cert() {
  local cadir=$1 cert=$2 reason=${3:-} st
  st=$(ca_status "$cadir" "$cert")
  case $st in
    R) info "already revoked: serial $(cert_serial "$cert")"; return 0 ;;
    \?) die "$cert was not issued by $cadir" ;;
  esac
  local extra=()
  [[ -z $reason ]] || extra=(-crl_reason "$reason")
  run env -C "$cadir" openssl ca -batch -config openssl.cnf -revoke "$cert" "${extra[@]}"
  info "revoked serial $(cert_serial "$cert") ($(openssl x509 -noout -subject -nameopt compat -in "$cert" | sed 's/^subject=//'))"
}

# create_root RDIR SLUG
create_root() {
  local rdir=$1 slug=$2 cadir="$1/root"
  init_ca_db "$cadir"
  new_ec_key "$cadir/ca.key"
  run env -C "$cadir" openssl req -new -x509 -config openssl.cnf -extensions v3_root \
    -key ca.key -sha256 -days "$ROOT_DAYS" -out ca.pem \
    -subj "/O=ruta/OU=$slug/CN=ruta $slug root CA"
  chmod 0644 "$cadir/ca.pem"
}

# create_intermediate RDIR SLUG : new intermediate CA signed by the root.
create_intermediate() {
  local rdir=$1 slug=$2 cadir="$1/intermediate"
  init_ca_db "$cadir"
  new_ec_key "$cadir/ca.key"
  run env -C "$cadir" openssl req -new -config openssl.cnf -key ca.key \
    -subj "/O=ruta/OU=$slug/CN=ruta $slug intermediate CA" -out "$TMPD/intermediate.csr"
  ca_sign "$rdir/root" "$TMPD/intermediate.csr" "$cadir/ca.pem" "$INTERMEDIATE_DAYS" - v3_intermediate
  chmod 0644 "$cadir/ca.pem"
}

# publish_ca_material RDIR : public files a peer needs, in RDIR/ca/.
publish_ca_material() {
  local rdir=$1
  mkdir_public "$rdir/ca"
  install_public "$rdir/root/ca.pem" "$rdir/ca/root.pem"
  install_public "$rdir/intermediate/ca.pem" "$rdir/ca/intermediate.pem"
  cat "$rdir/intermediate/ca.pem" "$rdir/root/ca.pem" >"$TMPD/chain.pem"
  install_public "$TMPD/chain.pem" "$rdir/ca/chain.pem"
  install_public "$rdir/signing/signing.pub" "$rdir/ca/signing.pub"
}

# ------------------------------------------------------------------ CRLs --

# make_hashed_dir PARENT NAME CRL... : PARENT/NAME becomes (atomically, by a
# symlink swap) a directory holding each CRL as <issuer hash>.r<n>.
make_hashed_dir() {
  local parent=$1 name=$2 link old dir f h n
  shift 2
  link="$parent/$name"
  dir=$(mktemp -d "$parent/.$name.XXXXXX")
  for f in "$@"; do
    h=$(openssl crl -hash -noout -in "$f")
    n=0
    while [[ -e $dir/$h.r$n ]]; do n=$((n + 1)); done
    install_public "$f" "$dir/$h.r$n"
  done
  chmod 0755 "$dir"
  old=""
  if [[ -L $link ]]; then
    old=$(readlink -- "$link")
  elif [[ -e $link ]]; then
    rm -rf -- "$link" # not ours to keep: a plain directory from elsewhere
  fi
  swap_symlink "$link" "$(basename -- "$dir")"
  # Keep the previous directory (a reader may be listing it); drop older ones
  # and leftovers of interrupted runs.
  local d
  for d in "$parent/.$name".*; do
    [[ -d $d && ! -L $d ]] || continue
    [[ $(basename -- "$d") == "$(basename -- "$dir")" || $(basename -- "$d") == "$old" ]] || rm -rf -- "$d"
  done
}

# gen_crl CADIR OUT
gen_crl() {
  local tmp
  tmp=$(mktemp "$(dirname -- "$2")/.crl.XXXXXX")
  run env -C "$1" openssl ca -batch -config openssl.cnf -gencrl -crldays "$CRL_DAYS" -out "$tmp"
  chmod 0644 "$tmp"
  mv -f -- "$tmp" "$2"
}

# publish_crls RDIR
publish_crls() {
  local rdir=$1 crldir="$1/crl"
  mkdir_public "$crldir"
  gen_crl "$rdir/root" "$crldir/root.crl.pem"
  gen_crl "$rdir/intermediate" "$crldir/intermediate.crl.pem"
  make_hashed_dir "$crldir" hashed "$crldir/root.crl.pem" "$crldir/intermediate.crl.pem"
}

# The regions of DIR (directories carrying the region marker), sorted.
list_regions() {
  local out=$1 d
  for d in "$out"/*/; do
    [[ -f $d$REGION_MARKER ]] && basename -- "$d"
  done
  return 0
}

# refresh_trust OUT : DIR/trust/ = what a node of any region in DIR trusts:
# roots.pem (all regions' roots), signing/<slug>.pub, crl/hashed/ (all CRLs).
refresh_trust() {
  local out=$1 t="$1/trust" slug crls=() regions
  mapfile -t regions < <(list_regions "$out")
  ((${#regions[@]})) || return 0
  mkdir_public "$t" "$t/signing" "$t/crl"
  : >"$TMPD/roots.pem"
  for slug in "${regions[@]}"; do
    cat "$out/$slug/ca/root.pem" >>"$TMPD/roots.pem"
    install_public "$out/$slug/ca/signing.pub" "$t/signing/$slug.pub"
    crls+=("$out/$slug/crl/root.crl.pem" "$out/$slug/crl/intermediate.crl.pem")
  done
  install_public "$TMPD/roots.pem" "$t/roots.pem"
  cat "${crls[@]}" >"$TMPD/all.crl.pem"
  install_public "$TMPD/all.crl.pem" "$t/crl/all.crl.pem"
  make_hashed_dir "$t/crl" hashed "${crls[@]}"
}

# ----------------------------------------------------------------- leaves --

# write_leaf_ext FILE SAN EKU [BASIC_CONSTRAINTS KEY_USAGE]
write_leaf_ext() {
  cat >"$1" <<EOF
[ ruta_leaf ]
basicConstraints       = ${4:-critical, CA:false}
keyUsage               = ${5:-critical, digitalSignature}
extendedKeyUsage       = $3
subjectAltName         = $2
subjectKeyIdentifier   = hash
authorityKeyIdentifier = keyid:always
EOF
}

# make_leaf RDIR SLUG CN SAN EKU DESTDIR DAYS BC KU [openssl ca options...]
# Writes DESTDIR/{key.pem,leaf.pem,cert.pem} signed by RDIR/intermediate.
# BC and KU: basicConstraints and keyUsage, empty for the leaf defaults.
make_leaf() {
  local rdir=$1 slug=$2 cn=$3 san=$4 eku=$5 dest=$6 days=$7 bc=$8 ku=$9
  shift 9
  new_ec_key "$dest/key.pem"
  run env -C "$rdir/intermediate" openssl req -new -config openssl.cnf -key "$dest/key.pem" \
    -subj "/O=ruta/OU=$slug/CN=${cn//\//\\/}" -out "$TMPD/leaf.csr"
  write_leaf_ext "$TMPD/leaf.ext" "$san" "$eku" "$bc" "$ku"
  ca_sign "$rdir/intermediate" "$TMPD/leaf.csr" "$dest/leaf.pem" "$days" "$TMPD/leaf.ext" ruta_leaf "$@"
  cat "$dest/leaf.pem" "$rdir/intermediate/ca.pem" >"$dest/cert.pem"
  chmod 0644 "$dest/leaf.pem" "$dest/cert.pem"
}

intermediate_usable() { # RDIR DAYS
  local rdir=$1 days=$2
  [[ $(ca_status "$rdir/root" "$rdir/intermediate/ca.pem") == V ]] ||
    die "the intermediate CA of $(basename -- "$rdir") is revoked (run: certs/$PROG new-intermediate --region $(basename -- "$rdir"))"
  openssl x509 -noout -checkend $((days * 86400)) -in "$rdir/intermediate/ca.pem" >/dev/null ||
    die "a $days-day leaf would outlive the intermediate CA of $(basename -- "$rdir"); use fewer --days or new-intermediate"
}

# host_sans HOSTS : "a.example,127.0.0.1" -> ", DNS:a.example, IP:127.0.0.1"
host_sans() {
  local host out=""
  local -a hosts
  IFS=, read -r -a hosts <<<"$1"
  for host in "${hosts[@]}"; do
    if [[ $host =~ ^[0-9]{1,3}(\.[0-9]{1,3}){3}$ ]]; then
      out+=", IP:$host"
    elif [[ $host =~ ^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$ ]]; then
      out+=", DNS:$host"
    else
      usage_error "invalid host name in --hosts: '$host'"
    fi
  done
  printf '%s' "$out"
}

# issue_leaf RDIR SLUG ROLE NAME DAYS [HOSTS] : versioned install + atomic
# swap. HOSTS (node role only) adds DNS/IP SANs so that generic TLS clients
# (buf curl, browsers) can check the host name; the identity stays the one URI.
issue_leaf() {
  local rdir=$1 slug=$2 role=$3 name=$4 days=$5 hosts=${6:-}
  local roledir="$1/$3" link="$1/$3/$4" vparent="$1/$3/$4.d" staging serial version old eku v
  intermediate_usable "$rdir" "$days"
  [[ ! -e $link || -L $link ]] || die "$link exists and is not a symlink; refusing to replace it"
  mkdir_private "$roledir" "$vparent"
  rm -rf -- "$vparent"/.staging.* # leftovers of an interrupted issue (we hold the lock)
  staging=$(mktemp -d "$vparent/.staging.XXXXXX")
  eku=clientAuth
  [[ $role != node ]] || eku="serverAuth, clientAuth"
  [[ -z $hosts || $role == node ]] || usage_error "--hosts applies to node certificates only"
  make_leaf "$rdir" "$slug" "$role/$name" "URI:$(spiffe_id "$slug" "$role" "$name")$(host_sans "$hosts")" "$eku" "$staging" "$days" "" ""
  serial=$(cert_serial "$staging/leaf.pem")
  version="$(date -u +%Y%m%dT%H%M%SZ)-$serial"
  mv -T -- "$staging" "$vparent/$version"
  old=""
  [[ ! -L $link ]] || old=$(basename -- "$(readlink -- "$link")")
  swap_symlink "$link" "$name.d/$version"
  # Keep the new and the previous version (a reader may still hold the old
  # files open); older private keys are deleted. Every issued certificate
  # stays on record in intermediate/newcerts/.
  for v in "$vparent"/*; do
    v=$(basename -- "$v")
    [[ $v == "$version" || $v == "$old" ]] || rm -rf -- "${vparent:?}/$v"
  done
  info "issued $(spiffe_id "$slug" "$role" "$name") serial $serial, $days days -> $link/{cert,key,leaf}.pem"
}

# init_region_dir RDIR SLUG : a complete CA hierarchy + signing key in RDIR.
init_region_dir() {
  local rdir=$1 slug=$2
  mkdir_public "$rdir"
  create_root "$rdir" "$slug"
  create_intermediate "$rdir" "$slug"
  mkdir_private "$rdir/signing"
  run openssl genpkey -algorithm ed25519 -out "$rdir/signing/signing.key"
  chmod 0600 "$rdir/signing/signing.key"
  run openssl pkey -in "$rdir/signing/signing.key" -pubout -out "$rdir/signing/signing.pub"
  chmod 0644 "$rdir/signing/signing.pub"
  publish_ca_material "$rdir"
  publish_crls "$rdir"
}

init_region() { # OUT SLUG FORCE
  local out=$1 slug=$2 force=$3 rdir="$1/$2"
  if [[ -e $rdir || -L $rdir ]]; then
    ((force)) || die "region '$slug' already exists in $out (use --force to DELETE and recreate it)"
    info "--force: deleting $rdir"
    rm -rf -- "${rdir:?}"
  fi
  init_region_dir "$rdir" "$slug"
  echo "$slug" >"$rdir/$REGION_MARKER"
  chmod 0644 "$rdir/$REGION_MARKER"
  refresh_trust "$out"
  info "region $slug: root CA $rdir/ca/root.pem, intermediate $rdir/ca/intermediate.pem, signing key $rdir/signing/signing.key"
}

# linkage_key OUT VERSION|"" 
linkage_key() {
  local out=$1 version=$2 dir="$1/linkage" file="$1/linkage/linkage.key" tmp max
  mkdir_private "$dir"
  if [[ -e $file ]]; then
    [[ -n $version ]] || die "$file already exists (use --version N to add a new key version)"
    max=$(awk '!/^#/ && NF { if ($1 + 0 > m) m = $1 + 0 } END { print m + 0 }' "$file")
    ((version > max)) || die "--version $version must be greater than the highest existing version ($max)"
  fi
  [[ -n $version ]] || version=1
  tmp=$(mktemp "$dir/.linkage.XXXXXX")
  if [[ -e $file ]]; then
    cat -- "$file" >"$tmp"
  else
    cat >"$tmp" <<'EOF'
# ruta federation linkage key (HMAC-SHA-256 key of person_ref). SECRET: mode 0600, never commit, never log. Format: one line per key version, "<version> <64 lowercase hex chars = 32 random bytes>"; the highest version is current, older ones are kept for rotation; lines starting with '#' are comments.
EOF
  fi
  local hex
  hex=$(openssl rand -hex 32)
  [[ $hex =~ ^[0-9a-f]{64}$ ]] || die "openssl rand -hex 32 returned something unexpected"
  printf '%s %s\n' "$version" "$hex" >>"$tmp"
  chmod 0600 "$tmp"
  mv -f -- "$tmp" "$file"
  info "linkage key version $version added to $file"
}

# partner_key OUT: DIR/linkage/partner.key (0600), the partner master secret
# of a node (one line of 64 hex characters; ruta-node's partner_key_file).
partner_key() {
  local out=$1 dir="$1/linkage" file="$1/linkage/partner.key" tmp hex
  mkdir_private "$dir"
  [[ ! -e $file ]] || die "$file already exists"
  hex=$(openssl rand -hex 32)
  [[ $hex =~ ^[0-9a-f]{64}$ ]] || die "openssl rand -hex 32 returned something unexpected"
  tmp=$(mktemp "$dir/.partner.XXXXXX")
  {
    echo "# ruta partner master secret (partner_case_ref pseudonyms). SECRET: mode 0600, never commit, never log. One line of 64 lowercase hex chars = 32 random bytes; replacing it changes every partner's refs."
    echo "$hex"
  } >"$tmp"
  chmod 0600 "$tmp"
  mv -f -- "$tmp" "$file"
  info "partner master secret written to $file"
}

# ------------------------------------------------------------ subcommands --

cmd_init_region() {
  parse_opts "--region --force" "$@"
  need_region
  setup_tmp
  lock_out "$OPT_OUT"
  init_region "$OPT_OUT" "$OPT_REGION" "$OPT_FORCE"
}

cmd_issue() {
  parse_opts "--region --role --name --days --hosts" "$@"
  need_region
  need_leaf_id
  local days=${OPT_DAYS:-$LEAF_DAYS} rdir
  [[ $days =~ $DAYS_RE ]] || usage_error "invalid --days '$days'"
  setup_tmp
  lock_out "$OPT_OUT"
  rdir=$(existing_region_dir)
  issue_leaf "$rdir" "$OPT_REGION" "$OPT_ROLE" "$OPT_NAME" "$days" "${OPT_HOSTS:-}"
}

cmd_revoke() {
  parse_opts "--region --role --name --intermediate --all --reason" "$@"
  need_region
  [[ -z $OPT_REASON || $OPT_REASON =~ $REASON_RE ]] || usage_error "invalid --reason '$OPT_REASON'"
  if ((OPT_INTERMEDIATE)); then
    if [[ -n $OPT_ROLE || -n $OPT_NAME ]] || ((OPT_ALL)); then
      usage_error "--intermediate excludes --role/--name/--all"
    fi
  else
    need_leaf_id
  fi
  setup_tmp
  lock_out "$OPT_OUT"
  local rdir
  rdir=$(existing_region_dir)
  if ((OPT_INTERMEDIATE)); then
    revoke_cert "$rdir/root" "$rdir/intermediate/ca.pem" "$OPT_REASON"
    info "every leaf of region $OPT_REGION is now invalid; next: certs/$PROG new-intermediate --region $OPT_REGION --reissue"
  elif ((OPT_ALL)); then
    # index.txt holds the one-line subject, where the '/' inside CN is escaped.
    local subject="/O=ruta/OU=$OPT_REGION/CN=$OPT_ROLE\\/$OPT_NAME" serial serials count=0
    mapfile -t serials < <(awk -F '\t' -v s="$subject" '$1 == "V" && $6 == s { print $4 }' "$rdir/intermediate/index.txt")
    for serial in "${serials[@]}"; do
      revoke_cert "$rdir/intermediate" "$rdir/intermediate/newcerts/$serial.pem" "$OPT_REASON"
      count=$((count + 1))
    done
    ((count)) || info "no valid certificate of $(spiffe_id "$OPT_REGION" "$OPT_ROLE" "$OPT_NAME") to revoke"
  else
    local leaf="$rdir/$OPT_ROLE/$OPT_NAME/leaf.pem"
    [[ -f $leaf ]] || die "no current certificate for $(spiffe_id "$OPT_REGION" "$OPT_ROLE" "$OPT_NAME") ($leaf)"
    revoke_cert "$rdir/intermediate" "$leaf" "$OPT_REASON"
  fi
  publish_crls "$rdir"
  refresh_trust "$OPT_OUT"
  info "CRLs republished in $rdir/crl/"
}

cmd_new_intermediate() {
  parse_opts "--region --reissue" "$@"
  need_region
  setup_tmp
  lock_out "$OPT_OUT"
  local rdir old_serial retired link role name
  rdir=$(existing_region_dir)
  old_serial=$(cert_serial "$rdir/intermediate/ca.pem")
  retired="$rdir/intermediate.retired/$(date -u +%Y%m%dT%H%M%SZ)-$old_serial"
  mkdir_private "$rdir/intermediate.retired"
  mv -T -- "$rdir/intermediate" "$retired"
  rm -f -- "$retired/ca.key" # a retired CA never signs again
  create_intermediate "$rdir" "$OPT_REGION"
  publish_ca_material "$rdir"
  publish_crls "$rdir"
  refresh_trust "$OPT_OUT"
  info "new intermediate CA serial $(cert_serial "$rdir/intermediate/ca.pem") for $OPT_REGION; old one kept (without key) in $retired"
  if ((OPT_REISSUE)); then
    for link in "$rdir"/*/*; do
      [[ -L $link ]] || continue
      role=$(basename -- "$(dirname -- "$link")")
      name=$(basename -- "$link")
      [[ $role =~ $ROLE_RE && $name =~ $NAME_RE ]] || continue
      issue_leaf "$rdir" "$OPT_REGION" "$role" "$name" "$LEAF_DAYS"
    done
  else
    info "leaves issued by the old intermediate no longer verify: re-issue them (certs/$PROG issue ...)"
  fi
}

cmd_publish_crl() {
  parse_opts "--region" "$@"
  need_region
  setup_tmp
  lock_out "$OPT_OUT"
  local rdir
  rdir=$(existing_region_dir)
  publish_crls "$rdir"
  refresh_trust "$OPT_OUT"
  info "CRLs of $OPT_REGION (valid $CRL_DAYS days): $rdir/crl/root.crl.pem $rdir/crl/intermediate.crl.pem $rdir/crl/hashed/"
}

cmd_linkage_key() {
  parse_opts "--version" "$@"
  [[ -z $OPT_VERSION || $OPT_VERSION =~ $VERSION_RE ]] || usage_error "invalid --version '$OPT_VERSION' (1 to 999)"
  setup_tmp
  lock_out "$OPT_OUT"
  linkage_key "$OPT_OUT" "$OPT_VERSION"
}

# Negative fixtures for the certificate verifier: each breaks exactly one rule
# of DESIGN.md section 5 and is otherwise a valid cusco leaf.
make_negative_fixtures() {
  local out=$1 c="$1/cusco" n="$1/negative" d
  mkdir_public "$n"
  local -A san eku bc ku
  san[cross-domain]="URI:$(spiffe_id madre-de-dios office puerto-maldonado)"
  san[two-uri-sans]="URI:$(spiffe_id cusco office main-office), URI:$(spiffe_id cusco admin operator)"
  san[ca-true]="URI:$(spiffe_id cusco office main-office)"
  bc[ca-true]="critical, CA:true, pathlen:0"
  ku[ca-true]="critical, digitalSignature, keyCertSign"
  san[server-only]="URI:$(spiffe_id cusco office main-office)"
  eku[server-only]="serverAuth"
  san[expired]="URI:$(spiffe_id cusco office main-office)"
  san[not-yet-valid]="URI:$(spiffe_id cusco office main-office)"
  san[no-uri-san]="DNS:main-office.cusco.ruta.pe"
  san[revoked]="URI:$(spiffe_id cusco office revoked)"
  # Valid from 30 to 60 days from now (within the intermediate's lifetime).
  local future_start future_end
  future_start=$(date -u -d '+30 days' +%Y%m%d%H%M%SZ)
  future_end=$(date -u -d '+60 days' +%Y%m%d%H%M%SZ)
  for d in "${!san[@]}"; do
    mkdir_private "$n/$d"
    local extra=()
    case $d in
      expired) extra=(-startdate 20200101000000Z -enddate 20200201000000Z) ;;
      not-yet-valid) extra=(-startdate "$future_start" -enddate "$future_end") ;;
    esac
    make_leaf "$c" cusco "negative/$d" "${san[$d]}" "${eku[$d]:-clientAuth}" "$n/$d" "$LEAF_DAYS" \
      "${bc[$d]:-}" "${ku[$d]:-}" "${extra[@]}"
  done
  revoke_cert "$c/intermediate" "$n/revoked/leaf.pem" keyCompromise

  # A leaf that signs itself (a valid cusco identity and profile otherwise).
  mkdir_private "$n/self-signed"
  new_ec_key "$n/self-signed/key.pem"
  write_leaf_ext "$TMPD/self.ext" "URI:$(spiffe_id cusco office self-signed)" clientAuth
  sed -i '/^authorityKeyIdentifier/d' "$TMPD/self.ext"
  run openssl req -new -x509 -key "$n/self-signed/key.pem" -sha256 -days "$LEAF_DAYS" \
    -subj "/O=ruta/OU=cusco/CN=office\/self-signed" \
    -config "$TMPD/self.ext" -extensions ruta_leaf -out "$n/self-signed/leaf.pem"
  cp -- "$n/self-signed/leaf.pem" "$n/self-signed/cert.pem"
  chmod 0644 "$n/self-signed/leaf.pem" "$n/self-signed/cert.pem"

  # An expired CRL of the cusco intermediate (otherwise like the real one), to
  # configure in place of cusco/crl/intermediate.crl.pem: the verifier must
  # fail closed.
  mkdir_public "$n/crl-expired"
  run env -C "$c/intermediate" openssl ca -batch -config openssl.cnf -gencrl \
    -crl_lastupdate 20200101000000Z -crl_nextupdate 20200201000000Z \
    -out "$n/crl-expired/intermediate.crl.pem"
  chmod 0644 "$n/crl-expired/intermediate.crl.pem"
}

cmd_dev() {
  parse_opts "--force" "$@"
  setup_tmp
  lock_out "$OPT_OUT"
  QUIET=1
  ((!VERBOSE)) || QUIET=0
  local out=$OPT_OUT p slug leaf
  for p in "${DEV_REGIONS[@]}" linkage trust rogue negative; do
    if [[ -e $out/$p || -L $out/$p ]]; then
      ((OPT_FORCE)) || die "$out/$p already exists (use: certs/$PROG dev --force to regenerate the dev PKI)"
      rm -rf -- "${out:?}/$p"
    fi
  done
  local -A office=([cusco]=main-office [madre-de-dios]=puerto-maldonado)
  for slug in "${DEV_REGIONS[@]}"; do
    init_region "$out" "$slug" 0
    for leaf in node/node "office/${office[$slug]}" office/second-office partner/tdh partner/caritas dashboard/mayors admin/operator; do
      local hosts=""
      [[ $leaf != node/* ]] || hosts="localhost,127.0.0.1"
      issue_leaf "$out/$slug" "$slug" "${leaf%/*}" "${leaf#*/}" "$LEAF_DAYS" "$hosts"
    done
  done
  linkage_key "$out" ""
  partner_key "$out"
  # The rogue CA copies cusco's names exactly, but is trusted by nobody.
  init_region_dir "$out/rogue" cusco
  issue_leaf "$out/rogue" cusco office rogue "$LEAF_DAYS"
  make_negative_fixtures "$out"
  publish_crls "$out/cusco" # include the revoked fixture
  refresh_trust "$out"
  QUIET=0

  cat <<EOF
ruta dev PKI written to $out
  trust bundle (roots of all regions)  trust/roots.pem
  CRLs of all regions                  trust/crl/hashed/ (<hash>.r<n>), trust/crl/all.crl.pem
  region signing public keys           trust/signing/<region>.pub
  linkage key (version 1)              linkage/linkage.key
  partner master secret                linkage/partner.key
EOF
  for slug in "${DEV_REGIONS[@]}"; do
    cat <<EOF
  region $slug
    CA certificates                    $slug/ca/root.pem $slug/ca/intermediate.pem $slug/ca/chain.pem
    signing key                        $slug/signing/signing.key $slug/signing/signing.pub
    CRLs                               $slug/crl/root.crl.pem $slug/crl/intermediate.crl.pem $slug/crl/hashed/
    leaves (cert.pem key.pem leaf.pem) $slug/{node/node,office/${office[$slug]},office/second-office,partner/tdh,partner/caritas,dashboard/mayors,admin/operator}/
EOF
  done
  cat <<EOF
  rogue CA (trusted by nobody)         rogue/ca/root.pem, leaf rogue/office/rogue/ ($(spiffe_id cusco office rogue))
  negative fixtures (cusco CA)         negative/{cross-domain,two-uri-sans,ca-true,server-only,expired,not-yet-valid,no-uri-san,revoked}/
                                       negative/self-signed/, negative/crl-expired/intermediate.crl.pem
EOF
}

main() {
  (($#)) || usage_error "a subcommand is required"
  local cmd=$1
  shift
  case $cmd in
    -h | --help | help) usage ;;
    init-region) cmd_init_region "$@" ;;
    issue) cmd_issue "$@" ;;
    revoke) cmd_revoke "$@" ;;
    new-intermediate) cmd_new_intermediate "$@" ;;
    publish-crl) cmd_publish_crl "$@" ;;
    linkage-key) cmd_linkage_key "$@" ;;
    dev) cmd_dev "$@" ;;
    *) usage_error "unknown subcommand '$cmd'" ;;
  esac
}

main "$@"
