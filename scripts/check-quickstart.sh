#!/usr/bin/env bash
# Proves the README's first command does not depend on what only the test script installs:
# 1. the Quickstart executable's target closure (from `swift package describe`) links no
#    system library but CSQLite, whose apt provider scripts/quickstart.sh installs;
# 2. scripts/quickstart.sh runs the example to the end with a fresh state file.
set -euo pipefail
cd "$(dirname "$0")/.."

describe=$(mktemp)
trap 'rm -f "$describe"' EXIT
swift package describe --type json > "$describe"
python3 - "$describe" <<'PY'
import json, re, sys
package = json.load(open(sys.argv[1]))
targets = {t["name"]: t for t in package["targets"]}
closure, todo = set(), ["Quickstart"]
while todo:
    name = todo.pop()
    if name in closure or name not in targets:
        continue
    closure.add(name)
    todo.extend(targets[name].get("target_dependencies", []))
system = sorted(n for n in closure if targets[n].get("type") == "system-target")
print("Quickstart links system libraries:", ", ".join(system) or "none")
allowed = {"CSQLite": "libsqlite3-dev"}
extra = [n for n in system if n not in allowed]
if extra:
    sys.exit(f"error: Quickstart depends on {extra}; the README's first command must need only libsqlite3-dev")
script = open("scripts/quickstart.sh").read()
listed = set(re.search(r"QUICKSTART_PACKAGES=\(([^)]*)\)", script).group(1).split())
missing = [allowed[n] for n in system if allowed[n] not in listed]
if missing:
    sys.exit(f"error: scripts/quickstart.sh does not install {missing}")
PY

state=$(mktemp -d)
trap 'rm -f "$describe"; rm -rf "$state"' EXIT
echo "==> running scripts/quickstart.sh 400 on a fresh state file"
ROUTERSDK_QUICKSTART_DB="$state/quickstart.db" scripts/quickstart.sh 400 | tail -15

# The README's third command: the gateway on SQLite, offline, answering a curl.
echo "==> running scripts/gateway-quickstart.sh on free ports"
output=$(GATEWAY_PORT=18480 FAKE_UPSTREAM_PORT=18491 scripts/gateway-quickstart.sh 2>&1 | tail -8)
echo "$output"
grep -q '"content":"Hello from the offline upstream."' <<<"$output" || { echo "error: the gateway quick start did not answer the curl" >&2; exit 1; }
