#!/usr/bin/env bash
# The second README command (and what CI runs): installs the dependencies,
# builds everything and runs the whole test suite with ctest, which ends with
# its summary ("N% tests passed, N tests failed out of N").
# Opt-in long runs are enabled by environment variables (see README).
#
# The PostgreSQL tests (the store conformance suite on PostgreSQL, the replica
# failover test) use the server named by RUTA_TEST_POSTGRES (a libpq
# connection string whose role may create databases). When it is not set,
# this script uses Debian's local cluster: it starts it if it is down (and
# stops it again at exit), gives the user running the tests a login role with
# CREATEDB, and sets RUTA_TEST_POSTGRES to its socket. That needs root (or
# password-less sudo) unless the cluster is up and the role exists already.
set -euo pipefail

repo_root=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)
build_dir=${RUTA_BUILD_DIR:-$repo_root/build}

# Runs "$@" as root: directly, or through password-less sudo; fails otherwise.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
    sudo -n "$@"
  else
    return 1
  fi
}

started_cluster=""
stop_started_cluster() {
  if [[ -n $started_cluster ]]; then
    echo "test: stopping the PostgreSQL cluster $started_cluster started for the tests"
    # shellcheck disable=SC2086  # "<version> <name>"
    as_root pg_ctlcluster $started_cluster stop || true
  fi
}

local_postgres() {
  local cluster version name port status user
  # The first local cluster (Debian's postgresql package makes 15/main).
  cluster=$(pg_lsclusters -h 2>/dev/null | head -n 1 || true)
  if [[ -z $cluster ]]; then
    echo "test: no local PostgreSQL cluster; creating 15/main"
    as_root pg_createcluster 15 main >/dev/null || {
      echo "test: cannot create a PostgreSQL cluster (run as root, or set RUTA_TEST_POSTGRES)" >&2
      return 1
    }
    cluster=$(pg_lsclusters -h | head -n 1)
  fi
  read -r version name port status _ <<<"$cluster"
  if [[ $status != online* ]]; then
    echo "test: starting the PostgreSQL cluster $version/$name"
    as_root pg_ctlcluster "$version" "$name" start || {
      echo "test: cannot start the PostgreSQL cluster $version/$name (run as root, or set RUTA_TEST_POSTGRES)" >&2
      return 1
    }
    started_cluster="$version $name"
  fi
  user=$(id -un)
  # A login role for the user running the tests, allowed to create the
  # tests' scratch databases (peer authentication over the socket).
  as_root runuser -u postgres -- psql -X -q -v ON_ERROR_STOP=1 -p "$port" \
    -d postgres -c "DO \$\$ BEGIN
      IF NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$user') THEN
        CREATE ROLE \"$user\" LOGIN CREATEDB;
      ELSE
        ALTER ROLE \"$user\" LOGIN CREATEDB;
      END IF; END \$\$;" </dev/null ||
    echo "test: could not create the role $user (not root?); trying it as it is" >&2
  RUTA_TEST_POSTGRES="host=/var/run/postgresql dbname=postgres"
  [[ $port == 5432 ]] || RUTA_TEST_POSTGRES+=" port=$port"
  export RUTA_TEST_POSTGRES
  if ! psql -X -q -d "$RUTA_TEST_POSTGRES" -c 'SELECT 1' >/dev/null </dev/null; then
    echo "test: cannot connect to PostgreSQL with \"$RUTA_TEST_POSTGRES\" as $user" >&2
    return 1
  fi
}

"$repo_root/scripts/install-deps.sh"
"$repo_root/scripts/build.sh"
if [[ -z ${RUTA_TEST_POSTGRES:-} ]]; then
  trap stop_started_cluster EXIT
  local_postgres
fi
echo "test: PostgreSQL tests use \"$RUTA_TEST_POSTGRES\""
cd "$build_dir"
ctest --output-on-failure --no-tests=error -j "${RUTA_TEST_JOBS:-2}" "$@"
