#!/usr/bin/env bash
# setup-postgres.sh installs and starts PostgreSQL for reehub's tests on
# Debian 12 and writes a libpq URL for them to /tmp/reehub-postgres-url.
#
# It creates a role (LOGIN CREATEDB, password) and a database for it, makes
# the cluster listen on 127.0.0.1 only, and checks the URL by connecting
# through TCP with the password. The test suite creates a fresh database per
# run from that URL. Idempotent: a second run, or a run after a reboot (cluster
# stopped, /var/run/postgresql gone), ends in the same state. No systemd is
# needed: the cluster is started with pg_ctlcluster.
#
# Environment (all optional):
#   REEHUB_PG_ROLE      role name (default reehub)
#   REEHUB_PG_DATABASE  database name (default reehub_test)
#   REEHUB_PG_URL_FILE  where to write the URL (default /tmp/reehub-postgres-url)
#   REEHUB_PG_PORT      the cluster's port (default: the port it has, 5432 for a
#                       new cluster); set it when another PostgreSQL on this
#                       network namespace holds 5432 (a CI chroot on a host that
#                       runs one)
set -euo pipefail

ROLE=${REEHUB_PG_ROLE:-reehub}
DB=${REEHUB_PG_DATABASE:-reehub_test}
URL_FILE=${REEHUB_PG_URL_FILE:-/tmp/reehub-postgres-url}
WANT_PORT=${REEHUB_PG_PORT:-}
[ -z "$WANT_PORT" ] || [[ "$WANT_PORT" =~ ^[1-9][0-9]{0,4}$ ]] || { echo "setup-postgres: REEHUB_PG_PORT=$WANT_PORT is not a port" >&2; exit 1; }
# The password lives beside the cluster's data, readable by root and postgres only.
PW_FILE=/var/lib/postgresql/.reehub-test-password

SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"

die() { echo "setup-postgres: $*" >&2; exit 1; }

# as_postgres runs a command as the postgres OS user from a directory it can read.
as_postgres() {
  if [ "$(id -u)" -eq 0 ]; then
    (cd / && runuser -u postgres -- "$@")
  else
    (cd / && sudo -u postgres -- "$@")
  fi
}

# 1. Install the server if absent (the "postgres" group of scripts/packages.txt).
bash "$(dirname "${BASH_SOURCE[0]}")/setup-packages.sh" postgres

# 2. Find (or create) the cluster: Debian's default is <newest version>/main.
VERSION=$(find /usr/lib/postgresql -mindepth 1 -maxdepth 1 -printf '%f\n' 2>/dev/null | sort -n | tail -1 || true)
[ -n "$VERSION" ] || die "no PostgreSQL version under /usr/lib/postgresql"
CLUSTER=main
if ! pg_lsclusters -h 2>/dev/null | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {found=1} END {exit !found}'; then
  echo "setup-postgres: creating cluster $VERSION/$CLUSTER"
  $SUDO pg_createcluster ${WANT_PORT:+-p "$WANT_PORT"} "$VERSION" "$CLUSTER" >/dev/null
fi
CONF_DIR=/etc/postgresql/$VERSION/$CLUSTER
PORT=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $3}')
[ -n "$PORT" ] || die "cannot read the port of cluster $VERSION/$CLUSTER from pg_lsclusters"
restart=no
if [ -n "$WANT_PORT" ] && [ "$PORT" != "$WANT_PORT" ]; then
  echo "setup-postgres: moving cluster $VERSION/$CLUSTER from port $PORT to $WANT_PORT"
  $SUDO pg_conftool "$VERSION" "$CLUSTER" set port "$WANT_PORT"
  PORT=$WANT_PORT
  restart=yes
fi

# 3. Listen on loopback only. A drop-in in conf.d (included by Debian's
# postgresql.conf) keeps the packaged file untouched.
DROPIN=$CONF_DIR/conf.d/reehub.conf
WANT="# Written by reehub scripts/setup-postgres.sh: tests connect over loopback only.
listen_addresses = '127.0.0.1'"
if [ "$($SUDO cat "$DROPIN" 2>/dev/null || true)" != "$WANT" ]; then
  echo "setup-postgres: writing $DROPIN (listen on 127.0.0.1 only)"
  $SUDO mkdir -p "$CONF_DIR/conf.d"
  printf '%s\n' "$WANT" | $SUDO tee "$DROPIN" >/dev/null
  $SUDO chown postgres:postgres "$DROPIN"
  restart=yes
fi

# 4. Start the cluster (no systemd here: pg_ctlcluster runs pg_ctl directly and
# recreates /var/run/postgresql after a reboot).
status=$(pg_lsclusters -h | awk -v v="$VERSION" -v c="$CLUSTER" '$1 == v && $2 == c {print $4}')
if [ "$status" = online ] && [ "$restart" = yes ]; then
  echo "setup-postgres: restarting cluster $VERSION/$CLUSTER"
  $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" restart
elif [ "$status" != online ]; then
  echo "setup-postgres: starting cluster $VERSION/$CLUSTER on port $PORT"
  $SUDO pg_ctlcluster "$VERSION" "$CLUSTER" start
fi
for _ in $(seq 1 100); do
  pg_isready -q -h 127.0.0.1 -p "$PORT" && break
  sleep 0.2
done
pg_isready -q -h 127.0.0.1 -p "$PORT" ||
  die "cluster $VERSION/$CLUSTER does not accept connections on 127.0.0.1:$PORT; see /var/log/postgresql/postgresql-$VERSION-$CLUSTER.log"

# 5. Role and database. The password is made once and kept; the role is
# (re)set to it on every run so that the two can never disagree.
if ! $SUDO test -s "$PW_FILE"; then
  head -c 18 /dev/urandom | od -An -tx1 | tr -d ' \n' | $SUDO tee "$PW_FILE" >/dev/null
  $SUDO chown postgres:postgres "$PW_FILE"
  $SUDO chmod 600 "$PW_FILE"
fi
PASSWORD=$($SUDO cat "$PW_FILE")
[[ "$PASSWORD" =~ ^[0-9a-f]{36}$ ]] || die "$PW_FILE does not hold a password made by this script; remove it and run again"

psql_admin() { as_postgres psql -X -q -v ON_ERROR_STOP=1 -p "$PORT" "$@"; }
psql_admin -d postgres <<SQL
SELECT format('CREATE ROLE %I LOGIN', '$ROLE')
  WHERE NOT EXISTS (SELECT FROM pg_roles WHERE rolname = '$ROLE') \gexec
ALTER ROLE "$ROLE" LOGIN CREATEDB PASSWORD '$PASSWORD';
SELECT format('CREATE DATABASE %I OWNER %I', '$DB', '$ROLE')
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = '$DB') \gexec
SQL

# 6. Check the URL the tests will use, over TCP with the password, then publish it.
URL="postgres://$ROLE:$PASSWORD@127.0.0.1:$PORT/$DB?sslmode=disable"
got=$(psql -X -q -A -t "$URL" -c "SELECT current_user || ' ' || (SELECT rolcreatedb FROM pg_roles WHERE rolname = current_user)") ||
  die "cannot connect with the test URL as $ROLE on 127.0.0.1:$PORT/$DB"
[ "$got" = "$ROLE true" ] || die "connected as '$got', want '$ROLE true' (role with CREATEDB)"
(umask 077 && printf '%s\n' "$URL" >"$URL_FILE.tmp.$$" && mv -f "$URL_FILE.tmp.$$" "$URL_FILE")
echo "setup-postgres: PostgreSQL $VERSION ready on 127.0.0.1:$PORT; URL for role $ROLE (CREATEDB) in $URL_FILE"
