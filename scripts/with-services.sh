#!/usr/bin/env bash
# Runs a command with throwaway local database servers for the live-server tests:
# PostgreSQL (Debian's server) on 127.0.0.1 and a free port, in a temporary directory, with a
# random password. Exports ROUTERSDK_POSTGRES_URL for the command and stops and deletes the
# servers when it exits, however it exits.
#
#     scripts/with-services.sh swift test
set -euo pipefail

PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1 || true)
if [ -z "$PG_BIN" ] || [ ! -x "$PG_BIN/initdb" ]; then
    echo "error: PostgreSQL server binaries not found (scripts/install-deps.sh installs postgresql)" >&2
    exit 1
fi

free_port() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }

# The server refuses to run as root: run it as the postgres user when we are root.
as_db_user() {
    if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}

PG_DIR=$(mktemp -d /tmp/routersdk-pg.XXXXXX)
cleanup() {
    as_db_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
    rm -rf "$PG_DIR"
}
trap cleanup EXIT

PG_PORT=$(free_port)
PG_PASSWORD=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
printf '%s\n' "$PG_PASSWORD" > "$PG_DIR/password"
[ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$PG_DIR"
echo "==> starting PostgreSQL on 127.0.0.1:$PG_PORT"
as_db_user "$PG_BIN/initdb" -D "$PG_DIR/data" -U routersdk --pwfile="$PG_DIR/password" -A scram-sha-256 --no-sync >"$PG_DIR/initdb.log" 2>&1 \
    || { cat "$PG_DIR/initdb.log" >&2; exit 1; }
as_db_user "$PG_BIN/pg_ctl" -D "$PG_DIR/data" -l "$PG_DIR/server.log" -w -t 60 \
    -o "-c listen_addresses=127.0.0.1 -p $PG_PORT -k $PG_DIR -c fsync=off -c max_connections=200" start >/dev/null \
    || { cat "$PG_DIR/server.log" >&2; exit 1; }
export ROUTERSDK_POSTGRES_URL="postgres://routersdk:$PG_PASSWORD@127.0.0.1:$PG_PORT/postgres"

"$@"
