#!/usr/bin/env bash
# Runs the routing benchmarks once and checks them:
#  1. package-benchmark's static thresholds (Benchmarks/Thresholds: malloc counts per benchmark);
#  2. the card's hard line, p99 below 1 ms per operation on every benchmark, and the store
#     ceilings (scripts/check-latency.py).
set -euo pipefail
cd "$(dirname "$0")/../Benchmarks"

rm -rf .benchmarkBaselines
echo "==> running benchmarks"
# The store benchmarks include PostgreSQL, so run them with a local server.
../scripts/with-services.sh swift package --allow-writing-to-package-directory benchmark baseline update ci --no-progress --quiet

echo "==> checking static thresholds"
checked=$(mktemp)
set +e
swift package benchmark thresholds check ci --no-progress 2>&1 | tee "$checked"
status=${PIPESTATUS[0]}
set -e
# 0: equal to thresholds. Fewer allocations than a threshold is an improvement, not a failure
# (the tool still exits non-zero for it): update Benchmarks/Thresholds when it lasts. Anything
# WORSE fails.
if [ "$status" -ne 0 ] && { grep -q "is WORSE than the defined thresholds" "$checked" || ! grep -q "is BETTER than the defined thresholds" "$checked"; }; then
    echo "error: benchmark thresholds check failed (exit $status)" >&2
    exit 1
fi
rm -f "$checked"

echo "==> checking latency ceilings"
swift package benchmark baseline read ci --format markdown --path stdout --no-progress | python3 ../scripts/check-latency.py
