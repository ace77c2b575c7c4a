#!/usr/bin/env bash
# Runs a command with throwaway local database servers for the live-server tests, each on
# 127.0.0.1 and a free port, in a temporary directory:
# - PostgreSQL (Debian's server) with a random password -> ROUTERSDK_POSTGRES_URL;
# - SecantusDB (secantusdb==0.7.0b3 from PyPI, a MongoDB wire-compatible server; Debian has no
#   MongoDB) installed into .local/venv on first use -> ROUTERSDK_MONGO_URL;
# - the official openai, anthropic and google-genai SDKs in the same venv -> ROUTERSDK_PYTHON
#   (the fake provider server is checked against them).
# Waits until both answer, exports their URLs for the command, and stops and deletes the
# servers when it exits, however it exits.
#
# The outage test stops and restarts servers of its own mid-run — a second PostgreSQL
# (ROUTERSDK_OUTAGE_POSTGRES_URL) and a second SecantusDB (ROUTERSDK_OUTAGE_MONGO_URL) — through
# ROUTERSDK_OUTAGE_POSTGRES_CTL / ROUTERSDK_OUTAGE_MONGO_CTL, scripts taking `stop` or `start`
# (same data directory, same port), so the other tests never see a server go away.
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

ROOT=$(cd "$(dirname "$0")/.." && pwd)
SECANTUS_VERSION=0.7.0b3
VENV="$ROOT/.local/venv"

PG_DIR=$(mktemp -d /tmp/routersdk-pg.XXXXXX)
OUTAGE_PG_DIR=$(mktemp -d /tmp/routersdk-pg-outage.XXXXXX)
MONGO_DIR=$(mktemp -d /tmp/routersdk-mongo.XXXXXX)
OUTAGE_MONGO_DIR=$(mktemp -d /tmp/routersdk-mongo-outage.XXXXXX)
PROCESS_MONGO_DIR=$(mktemp -d /tmp/routersdk-mongo-process.XXXXXX)
cleanup() {
    for dir in "$PG_DIR" "$OUTAGE_PG_DIR"; do
        as_db_user "$PG_BIN/pg_ctl" -D "$dir/data" -m immediate stop >/dev/null 2>&1 || true
    done
    for dir in "$MONGO_DIR" "$OUTAGE_MONGO_DIR" "$PROCESS_MONGO_DIR"; do
        [ -x "$dir/ctl.sh" ] && "$dir/ctl.sh" stop >/dev/null 2>&1 || true
    done
    rm -rf "$PG_DIR" "$OUTAGE_PG_DIR" "$MONGO_DIR" "$OUTAGE_MONGO_DIR" "$PROCESS_MONGO_DIR"
}
trap cleanup EXIT

# Starts a throwaway PostgreSQL cluster in directory $1 on a free port with a random password,
# writes $1/ctl.sh (stop | start, same data and port), and prints its URL.
start_postgres() {
    local dir=$1 port password
    port=$(free_port)
    password=$(python3 -c 'import secrets; print(secrets.token_hex(16))')
    printf '%s\n' "$password" > "$dir/password"
    cat > "$dir/ctl.sh" <<CTL
#!/usr/bin/env bash
# stop | start a throwaway PostgreSQL server of scripts/with-services.sh.
set -euo pipefail
run() { if [ "\$(id -u)" -eq 0 ]; then runuser -u postgres -- "\$@"; else "\$@"; fi; }
case "\$1" in
    stop) run "$PG_BIN/pg_ctl" -D "$dir/data" -m fast -w stop >/dev/null ;;
    start) run "$PG_BIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \\
        -o "-c listen_addresses=127.0.0.1 -p $port -k $dir -c fsync=off -c max_connections=200" start >/dev/null ;;
    *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
CTL
    chmod +x "$dir/ctl.sh"
    [ "$(id -u)" -eq 0 ] && chown -R postgres:postgres "$dir"
    as_db_user "$PG_BIN/initdb" -D "$dir/data" -U routersdk --pwfile="$dir/password" -A scram-sha-256 --no-sync >"$dir/initdb.log" 2>&1 \
        || { cat "$dir/initdb.log" >&2; return 1; }
    "$dir/ctl.sh" start || { cat "$dir/server.log" >&2; return 1; }
    echo "postgres://routersdk:$password@127.0.0.1:$port/postgres"
}

echo "==> starting PostgreSQL on 127.0.0.1 (shared by the tests, and one the outage test stops)"
ROUTERSDK_POSTGRES_URL=$(start_postgres "$PG_DIR")
export ROUTERSDK_POSTGRES_URL
ROUTERSDK_OUTAGE_POSTGRES_URL=$(start_postgres "$OUTAGE_PG_DIR")
export ROUTERSDK_OUTAGE_POSTGRES_URL
export ROUTERSDK_OUTAGE_POSTGRES_CTL="$OUTAGE_PG_DIR/ctl.sh"

# The venv also holds the official provider SDKs the fake server is checked against
# (scripts/official-sdk-check.py, run by ProviderTests' OfficialSDKTests).
PYTHON_PACKAGES=("secantusdb==$SECANTUS_VERSION" "openai==3.54.0" "anthropic==2.12.0" "google-genai==3.4.0" "ollama==0.6.3" "schemathesis==4.32.5" "openapi-spec-validator==0.9.0")
missing=()
for package in "${PYTHON_PACKAGES[@]}"; do
    installed=$("$VENV/bin/python" -m pip show "${package%%==*}" 2>/dev/null || true)
    grep -qx "Version: ${package##*==}" <<<"$installed" || missing+=("$package")
done
if [ ! -x "$VENV/bin/secantusd-py" ] || [ ${#missing[@]} -gt 0 ]; then
    echo "==> installing ${missing[*]:-secantusdb} into $VENV"
    python3 -m venv "$VENV"
    "$VENV/bin/python" -m pip install --quiet --disable-pip-version-check "${PYTHON_PACKAGES[@]}"
fi
export ROUTERSDK_PYTHON="$VENV/bin/python"
# Starts SecantusDB in directory $1 on a free port, writes $1/ctl.sh (stop | start, same data and
# port; start waits until the port answers), and prints its URL. Stop: TERM, KILL after ten
# seconds — with $2 = kill, KILL at once; with $2 = crash, KILL at once, the server syncing its
# log on every commit.
#
# Why crash for the outage server: SecantusDB 0.7.0b3 does not sync its log on commit by default,
# so commits it acknowledged just before being killed are lost; and once restarted on an existing
# data directory it ignores TERM (it keeps serving until killed — seen in every second and third
# outage run). A stop that is a kill, of a server that loses nothing it acknowledged, is a real
# outage the tests can count on; the others keep the fast default.
start_mongo() {
    local dir=$1 mode=${2:-} port flags="" stop
    port=$(free_port)
    if [ "$mode" = crash ] || [ "$mode" = kill ]; then
        [ "$mode" = crash ] && flags="--sync-on-commit"
        stop='kill -KILL "$pid" 2>/dev/null || true; while kill -0 "$pid" 2>/dev/null; do sleep 0.05; done'
    else
        stop='kill -TERM "$pid" 2>/dev/null || true
        for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$pid" 2>/dev/null || true'
    fi
    cat > "$dir/ctl.sh" <<CTL
#!/usr/bin/env bash
# stop | start a throwaway SecantusDB server of scripts/with-services.sh.
set -euo pipefail
case "\$1" in
    start)
        setsid "$VENV/bin/secantusd-py" --host 127.0.0.1 --port $port --storage-path "$dir/data" --log-level WARNING $flags \\
            </dev/null >>"$dir/server.log" 2>&1 &
        echo \$! > "$dir/pid"
        for _ in \$(seq 1 600); do
            kill -0 "\$(cat "$dir/pid")" 2>/dev/null || { cat "$dir/server.log" >&2; exit 1; }
            python3 -c 'import socket; socket.create_connection(("127.0.0.1", $port), 1).close()' 2>/dev/null && exit 0
            sleep 0.1
        done
        echo "SecantusDB did not start on 127.0.0.1:$port" >&2; exit 1 ;;
    stop)
        pid=\$(cat "$dir/pid" 2>/dev/null || true)
        [ -n "\$pid" ] || exit 0
        $stop
        rm -f "$dir/pid" ;;
    *) echo "usage: \$0 stop|start" >&2; exit 2 ;;
esac
CTL
    chmod +x "$dir/ctl.sh"
    "$dir/ctl.sh" start || return 1
    echo "mongodb://127.0.0.1:$port/routersdk"
}

echo "==> starting SecantusDB (MongoDB wire protocol) on 127.0.0.1 (shared, and one the outage test stops)"
ROUTERSDK_MONGO_URL=$(start_mongo "$MONGO_DIR")
export ROUTERSDK_MONGO_URL
ROUTERSDK_OUTAGE_MONGO_URL=$(start_mongo "$OUTAGE_MONGO_DIR" crash)
export ROUTERSDK_OUTAGE_MONGO_URL
export ROUTERSDK_OUTAGE_MONGO_CTL="$OUTAGE_MONGO_DIR/ctl.sh"
# The process tests get a server of their own: SIGKILLing a client mid-transaction leaves
# SecantusDB holding that transaction and stalling other clients — at times for good (seen: every
# later connection timed out for minutes). Those tests restart it through
# ROUTERSDK_PROCESS_MONGO_CTL after each kill, once their checks are done.
ROUTERSDK_PROCESS_MONGO_URL=$(start_mongo "$PROCESS_MONGO_DIR" kill)
export ROUTERSDK_PROCESS_MONGO_URL
export ROUTERSDK_PROCESS_MONGO_CTL="$PROCESS_MONGO_DIR/ctl.sh"

"$@"
