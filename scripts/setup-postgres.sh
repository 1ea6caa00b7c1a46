#!/usr/bin/env bash
# PostgreSQL for the tests, set up when missing; idempotent. Source it (scripts/setup.sh does)
# to get DEBRIEF_TEST_DATABASE_URL.
#   - Debian's `postgresql` package is installed when there is no server;
#   - the cluster DEBRIEF_PG_CLUSTER (default `main`) is created on port DEBRIEF_PG_PORT (default
#     5432) when it does not exist, and started when it is down;
#   - a `debrief_test` role that may create databases (each test makes its own) gets a password
#     and a `debrief_test` database. The password is made once and kept in
#     $DEBRIEF_CI_CACHE/postgres-password.
# An existing server's authentication is left as it is: the role is made over the server's local
# socket as the `postgres` system user (Debian's `peer` rule), and the tests connect over TCP
# with the password (Debian's `scram-sha-256` rule for 127.0.0.1).
set -euo pipefail

pg_cluster="${DEBRIEF_PG_CLUSTER:-main}"
pg_port="${DEBRIEF_PG_PORT:-5432}"
pg_cache="${DEBRIEF_CI_CACHE:-$HOME/.cache/debrief-ci}"

if ! command -v pg_createcluster >/dev/null; then
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null \
    || { apt-get update -q >/dev/null && \
         DEBIAN_FRONTEND=noninteractive apt-get install -y -q postgresql >/dev/null; }
fi

pg_cluster_line() {
  pg_lsclusters --no-header | awk -v cluster="$pg_cluster" '$2 == cluster { print; exit }'
}
if [ -z "$(pg_cluster_line)" ]; then
  pg_version="$(ls /usr/lib/postgresql | sort -V | tail -n 1)"
  pg_createcluster "$pg_version" "$pg_cluster" --port "$pg_port" >/dev/null
fi
read -r pg_version _ pg_port pg_status _ <<<"$(pg_cluster_line)"
if [ "$pg_status" != online ]; then
  pg_ctlcluster --skip-systemctl-redirect "$pg_version" "$pg_cluster" start
fi
for _ in $(seq 1 30); do
  pg_isready -q -h 127.0.0.1 -p "$pg_port" && break
  sleep 1
done

mkdir -p "$pg_cache"
if [ ! -s "$pg_cache/postgres-password" ]; then
  head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' >"$pg_cache/postgres-password"
fi
pg_password="$(cat "$pg_cache/postgres-password")"

pg_admin() {
  (cd / && runuser -u postgres -- psql -p "$pg_port" -v ON_ERROR_STOP=1 -qtAc "$1")
}
if [ "$(pg_admin "select 1 from pg_roles where rolname = 'debrief_test'")" = 1 ]; then
  pg_admin "alter role debrief_test with login createdb password '$pg_password'"
else
  pg_admin "create role debrief_test with login createdb password '$pg_password'"
fi
if [ "$(pg_admin "select 1 from pg_database where datname = 'debrief_test'")" != 1 ]; then
  pg_admin "create database debrief_test owner debrief_test"
fi
export DEBRIEF_TEST_DATABASE_URL="postgres://debrief_test:$pg_password@127.0.0.1:$pg_port/debrief_test"
