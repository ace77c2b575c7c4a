#!/usr/bin/env bash
# The README's third command: the gateway on the embedded SQLite store, offline, and a curl that
# talks to it. It starts FakeUpstream (an offline stand-in for OpenAI's API) and the Gateway in
# front of it with one provider key, issues a virtual key through the admin API, sends one chat
# completion with curl as any OpenAI client would, shows the admin API's usage report, and stops
# both. The gateway's state (SQLite), master key and admin token stay in .local/gateway-quickstart.
#
#     scripts/gateway-quickstart.sh                 # gateway on 127.0.0.1:8080
#     GATEWAY_PORT=9090 scripts/gateway-quickstart.sh
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/gateway-processes.sh

# The Gateway links every store (RouterStores), so it builds against all three client libraries.
scripts/install-deps.sh pkg-config libsqlite3-dev libpq-dev libmongoc-dev curl
swift build --product Gateway
swift build --product FakeUpstream
bin=$(swift build --show-bin-path)

port=${GATEWAY_PORT:-8080}
upstream_port=${FAKE_UPSTREAM_PORT:-18090}
state=.local/gateway-quickstart
mkdir -p "$state"
chmod 700 "$state"
# Secrets live in files readable only by this user, and reach the processes through the
# environment, never their command lines.
[ -s "$state/master.key" ] || (umask 077 && head -c 32 /dev/urandom | base64 > "$state/master.key")
[ -s "$state/admin.token" ] || (umask 077 && head -c 24 /dev/urandom | base64 | tr '+/' '-_' > "$state/admin.token")

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true' EXIT
"$bin/FakeUpstream" "$upstream_port" > "$state/upstream.log" 2>&1 &
pids+=($!)
ROUTERSDK_MASTER_KEY=$(cat "$state/master.key") \
GATEWAY_PORT=$port GATEWAY_STORE_URL="sqlite:$state/gateway.db" \
GATEWAY_KEYS="openai-1 openai sk-offline-demo-key" GATEWAY_BASE_URL_OPENAI="http://127.0.0.1:$upstream_port/openai/v1" \
GATEWAY_ADMIN_TOKEN_FILE="$state/admin.token" \
    "$bin/Gateway" > "$state/gateway.log" 2>&1 &
pids+=($!)
wait_until_listening "$state/gateway.log" "$state/upstream.log"

admin=(-H "Authorization: Bearer $(cat "$state/admin.token")")
token=$(issue_virtual_key "$port" "$(cat "$state/admin.token")" '{"name": "quickstart", "tags": ["team:demo"]}')
echo "==> a virtual key was issued through the admin API (its token is shown once; the store keeps a fingerprint)"
echo "==> curl http://127.0.0.1:$port/v1/chat/completions -H 'Authorization: Bearer gk-…' -d '{\"model\": \"gpt-4o-mini\", …}'"
curl -sf "http://127.0.0.1:$port/v1/chat/completions" -H "Authorization: Bearer $token" -H 'content-type: application/json' \
    -d '{"model": "gpt-4o-mini", "messages": [{"role": "user", "content": "Say hello"}]}'
echo
echo "==> the usage report by tag (GET /admin/usage?group_by=tag&format=csv)"
curl -sf "${admin[@]}" "http://127.0.0.1:$port/admin/usage?group_by=tag&format=csv"
echo "==> done; state in $state (rm -rf $state starts over)"
