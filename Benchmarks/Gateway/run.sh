#!/usr/bin/env bash
# The gateway's load benchmark: the latency the gateway adds to a chat completion, measured from
# outside with wrk. Both FakeUpstream (the provider stand-in) and the Gateway run as release
# builds on fixed ports on 127.0.0.1; the Gateway on the embedded SQLite store with virtual-key
# authentication, as deployed. For each case wrk runs once straight at FakeUpstream and once
# through the Gateway; the added latency is the difference at each percentile.
#
#     Benchmarks/Gateway/run.sh                # 15 s a run
#     GATEWAY_BENCH_SECONDS=30 Benchmarks/Gateway/run.sh
#     GATEWAY_BENCH_CHECK=1 Benchmarks/Gateway/run.sh   # also fail when a target is missed
#
# Cases: 1,000 requests/s (10 connections, each pausing 10 ms between requests; wrk has no
# exact fixed rate, so the measured rate is reported), and the most requests/s 64 connections
# get; each non-streamed and streamed. Targets (2-core machine): added p50 <= 100 us and p99 <=
# 1 ms at 1,000 requests/s.
set -euo pipefail
cd "$(dirname "$0")/../.."
source scripts/lib/gateway-processes.sh

scripts/install-deps.sh pkg-config libsqlite3-dev libpq-dev libmongoc-dev wrk curl
swift build -c release --product Gateway
swift build -c release --product FakeUpstream
bin=$(swift build -c release --show-bin-path)
seconds=${GATEWAY_BENCH_SECONDS:-15}
upstream_port=18190
gateway_port=18180
work=$(mktemp -d)
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; rm -rf "$work"' EXIT

"$bin/FakeUpstream" "$upstream_port" > "$work/upstream.log" 2>&1 &
pids+=($!)
admin_token=$(head -c 24 /dev/urandom | base64 | tr '+/' '-_')
ROUTERSDK_MASTER_KEY=$(head -c 32 /dev/urandom | base64) GATEWAY_ADMIN_TOKEN=$admin_token \
GATEWAY_PORT=$gateway_port GATEWAY_STORE_URL="sqlite:$work/gateway.db" GATEWAY_LOG_LEVEL=warning \
GATEWAY_KEYS="openai-1 openai sk-bench-0001; openai-2 openai sk-bench-0002; openai-3 openai sk-bench-0003; openai-4 openai sk-bench-0004" \
GATEWAY_BASE_URL_OPENAI="http://127.0.0.1:$upstream_port/openai/v1" \
    "$bin/Gateway" > "$work/gateway.log" 2>&1 &
pids+=($!)
wait_until_listening "$work/gateway.log" "$work/upstream.log"
token=$(issue_virtual_key "$gateway_port" "$admin_token" '{"name": "bench"}')

direct="http://127.0.0.1:$upstream_port/openai/v1/chat/completions"
gateway="http://127.0.0.1:$gateway_port/v1/chat/completions"
# run NAME URL TOKEN STREAM CONNECTIONS DELAY_MS: one wrk run, its output kept as $work/NAME.
run() {
    WRK_TOKEN=$3 WRK_STREAM=$4 WRK_DELAY_MS=$6 wrk -t2 -c"$5" -d"${seconds}s" --timeout 10s --latency \
        -s Benchmarks/Gateway/request.lua "$2" > "$work/$1"
}
# Warm both up (connections, caches, the gateway's first requests), then measure.
run warmup-direct "$direct" "" 0 8 0
run warmup-gateway "$gateway" "$token" 0 8 0
for stream in 0 1; do
    run "fixed-direct-$stream" "$direct" "sk-bench-0001" "$stream" 10 10
    run "fixed-gateway-$stream" "$gateway" "$token" "$stream" 10 10
    run "max-direct-$stream" "$direct" "sk-bench-0001" "$stream" 64 0
    run "max-gateway-$stream" "$gateway" "$token" "$stream" 64 0
done

python3 - "$work" "${GATEWAY_BENCH_CHECK:-0}" <<'PY'
import re, sys
work, check = sys.argv[1], sys.argv[2] == "1"
UNITS = {"us": 1, "ms": 1_000, "s": 1_000_000}

def parse(name):
    text = open(f"{work}/{name}").read()
    latency = {p: float(v) * UNITS[u] for p, v, u in re.findall(r"^\s+(50|90|99)%\s+([\d.]+)(us|ms|s)\s*$", text, re.M)}
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", text).group(1))
    bad = int(re.search(r"non-200: (\d+)", text).group(1))
    errors = re.search(r"Socket errors: (.*)", text)
    return latency, rate, bad, errors.group(1) if errors else ""

rows, failures = [], []
for load, label in (("fixed", "~1,000 req/s"), ("max", "max req/s")):
    for stream, kind in (("0", "non-streaming"), ("1", "streaming")):
        d, d_rate, d_bad, d_err = parse(f"{load}-direct-{stream}")
        g, g_rate, g_bad, g_err = parse(f"{load}-gateway-{stream}")
        added = {p: g[p] - d[p] for p in ("50", "90", "99")}
        rows.append(f"| {label}, {kind} | {d_rate:,.0f} / {g_rate:,.0f} | {d['50']:.0f} / {g['50']:.0f} | {d['99']:.0f} / {g['99']:.0f} | "
                    f"**{added['50']:.0f}** | {added['90']:.0f} | **{added['99']:.0f}** |")
        for name, bad, err in ((f"{load}-direct-{stream}", d_bad, d_err), (f"{load}-gateway-{stream}", g_bad, g_err)):
            if bad or err:
                failures.append(f"{name}: {bad} non-200 answers {err}")
        if load == "fixed" and (added["50"] > 100 or added["99"] > 1_000):
            failures.append(f"{label}, {kind}: added p50 {added['50']:.0f} us (<= 100) / p99 {added['99']:.0f} us (<= 1,000)")
print("| load | req/s direct / gateway | p50 µs direct / gateway | p99 µs direct / gateway | added p50 µs | added p90 µs | added p99 µs |")
print("| --- | --- | --- | --- | --- | --- | --- |")
print("\n".join(rows))
for failure in failures:
    print("MISSED:", failure)
if check and failures:
    sys.exit(1)
PY
