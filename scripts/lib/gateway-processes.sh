# Sourced by the scripts that run the Gateway and FakeUpstream as processes
# (scripts/gateway-quickstart.sh, Benchmarks/Gateway/run.sh).

# wait_until_listening LOG...: waits up to 10 s for every log to hold the "listening on" line
# both executables print once they serve; otherwise prints the logs and exits 1.
wait_until_listening() {
    local log
    for _ in $(seq 1 100); do
        local all=1
        for log in "$@"; do grep -q "listening on" "$log" 2>/dev/null || all=0; done
        [ "$all" = 1 ] && return 0
        sleep 0.1
    done
    for log in "$@"; do echo "--- $log"; cat "$log"; done >&2
    echo "error: a process did not start (no 'listening on' line)" >&2
    exit 1
}

# issue_virtual_key PORT ADMIN_TOKEN SPEC_JSON: issues a virtual key through the admin API and
# prints its token (shown only in this answer).
issue_virtual_key() {
    curl -sf -H "Authorization: Bearer $2" -H 'content-type: application/json' -d "$3" "http://127.0.0.1:$1/admin/virtual-keys" \
        | python3 -c 'import json, sys; print(json.load(sys.stdin)["token"])'
}
