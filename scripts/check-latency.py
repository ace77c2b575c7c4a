#!/usr/bin/env python3
"""Checks the latency ceilings of a package-benchmark baseline exported as markdown on stdin.

Fails (exit 1) if any benchmark's per-operation latency p99 reaches 1 ms, the card's hard
line for routing overhead (or its own ceiling in CEILINGS_NS), a p50 in P50_CEILINGS_NS, a
throughput floor in P50_FLOORS or an allocation cap in MALLOC_CAPS. Per-decision latency (the custom "decision latency (ns)" metric) and
route+settle latency are checked where recorded; otherwise the wall-clock time per iteration.
The design targets (p50 <= 2 us / p99 <= 10 us at 1k keys, p99 <= 20 us at 10k keys and for
route+settle) are reported alongside: wall clock on a shared CI machine is too noisy to gate on
them, which is why CI also gates on allocation counts (Benchmarks/Thresholds).
"""
import sys

CEILING_NS = 1_000_000
# Per-benchmark p99 ceilings (ns per operation) where the 1 ms line does not apply. The MongoDB
# benchmarks run against SecantusDB, a MongoDB wire-compatible server written in Python (Debian
# ships no MongoDB): a round trip costs it ~1 ms on its own (pymongo measures p50 0.9 ms for the
# same findAndModify), so its ceilings guard against regressions of ours, not against its speed.
CEILINGS_NS = {
    "store-mongo-atomic-add-spend": 20_000_000,
    # One durable commit per iteration (the WAL's fsync on this machine's disk): a store round
    # trip, not routing overhead — a decision never waits for it (route-fleet-*, 0-2 round trips
    # per 1,000 decisions). Its p99 spiked to 1.6 ms on a CI run with p50 0.28 ms.
    "store-postgres-atomic-add-spend": 10_000_000,
    "store-sqlite-atomic-add-spend": 10_000_000,
    # A real HTTP round trip through AsyncHTTPClient to the NIO fake server on loopback; the
    # router's own share is gated by chat-1k-keys-mock-transport at the 1 ms line.
    "chat-1k-keys-fake-server-loopback": 20_000_000,
    # The whole ChatClient path over MockTransport (route, encode, decode, settle): issue 10's
    # targets, p50 <= 10 us and p99 <= 40 us per call at 1,000 keys.
    "chat-1k-keys-mock-transport": 40_000,
}
# Enforced p50 ceilings (ns per operation): throughput targets are about the typical operation.
P50_CEILINGS_NS = {
    # >= 20,000 usage events persisted per second means <= 50 us per event.
    "store-sqlite-append-usage-per-event": 50_000,
    "store-postgres-append-usage-per-event": 50_000,
    # >= 2,000 events/s on SecantusDB (it persists ~7,000/s here).
    "store-mongo-append-usage-per-event": 500_000,
    "chat-1k-keys-mock-transport": 10_000,
}
# Enforced p50 floors of throughput metrics: benchmark -> (metric, at least).
P50_FLOORS = {
    # A streamed reply of 200 chunk events decoded at >= 2 M events/s.
    "chat-stream-decode-200-chunks": ("chunk events per second", 2_000_000),
}
# Enforced allocation caps per operation (p50 of package-benchmark's scaled malloc count).
MALLOC_CAPS = {
    "chat-1k-keys-mock-transport": 40,
}
# Relative p50 targets, reported (not enforced): issue 11 asks a decision with fleet leasing on a
# real backend to stay within 2x of in memory. Each fleet benchmark times two decisions an
# iteration (Benchmarks/Benchmarks/StoreBenchmarks/FleetBenchmarks.swift): "warm" — no store round
# trip since the caller's previous decision — is compared with in memory; the first, right after
# the caller's committed settles, is compared with the same loop without leasing on the same
# backend (route-unleased-*), because there the store's commit has just run on the same 2 cores
# and costs the caller's caches with or without leasing. Its ratio to in memory is shown too.
RELATIVE_P50 = {
    f"route-fleet-1k-keys-{backend}": [
        ("warm decision latency (ns)", "route-fleet-1k-keys-memory", 2.0, "warm vs in memory"),
        ("warm decision latency (ns)", f"route-unleased-1k-keys-{backend}", 2.0, "warm vs unleased"),
        ("decision latency (ns)", f"route-unleased-1k-keys-{backend}", 2.0, "after a commit vs unleased"),
        ("decision latency (ns)", "route-fleet-1k-keys-memory", None, "after a commit vs in memory"),
    ]
    for backend in ("sqlite", "postgres", "mongo")
}
TARGETS_NS = {  # benchmark name prefix -> (p50 target, p99 target)
    "route-1k-keys": (2_000, 10_000),
    "route-10k-keys": (None, 20_000),
    "route-needle": (None, 20_000),
    "route+settle": (None, 20_000),
}


UNITS_NS = {"ns": 1, "μs": 1_000, "us": 1_000, "ms": 1_000_000, "s": 1_000_000_000}


def parse_markdown(text):
    """Returns {benchmark: {metric: {"p50": ns_or_count, "p99": ...}}} from package-benchmark's markdown export."""
    results = {}
    current = None
    for line in text.splitlines():
        if line.startswith("### "):
            current = line[4:].strip()
            results[current] = {}
        elif current and line.startswith("|") and not line.startswith("|:") and "Metric" not in line:
            cells = [cell.strip() for cell in line.strip("|").split("|")]
            name = cells[0].rstrip(" *")
            # Custom metrics get a scale suffix ("call latency (ns) (K)"): values are in thousands.
            scale = 1
            for suffix, multiplier in ((" (K)", 1_000), (" (M)", 1_000_000)):
                if name.endswith(suffix):
                    name, scale = name[: -len(suffix)], multiplier
            unit = name[name.rfind("(") + 1 : -1] if name.endswith(")") else ""
            factor = UNITS_NS.get(unit, 1) * scale
            values = [int(cell.replace(",", "")) for cell in cells[1:8]]
            results[current][name] = {"p50": values[2] * factor, "p99": values[5] * factor}
    return results


def main() -> int:
    results = parse_markdown(sys.stdin.read())
    if not results:
        print("error: no benchmark results in the export", file=sys.stderr)
        return 1
    failures = 0
    rows = []
    for name in sorted(results):
        metrics = results[name]
        latency = next((metrics[key] for key in metrics if key.endswith("latency (ns)") and not key.startswith(("transport", "warm"))), None)
        transport = next((metrics[key] for key in metrics if key.startswith("transport latency (ns)")), None)
        if latency is not None:
            p50, p99, source = latency["p50"], latency["p99"], "per operation"
        else:
            wall = next(metrics[key] for key in metrics if key.startswith("Time (wall clock)"))
            p50, p99, source = wall["p50"], wall["p99"], "per iteration"
        ceiling = CEILINGS_NS.get(name, CEILING_NS)
        verdict = "ok" if p99 < ceiling else f"p99 OVER {ceiling:,} ns"
        if p99 >= ceiling:
            failures += 1
        p50_ceiling = P50_CEILINGS_NS.get(name)
        if p50_ceiling is not None and p50 > p50_ceiling:
            verdict = f"p50 OVER {p50_ceiling:,} ns"
            failures += 1
        if name in P50_FLOORS:
            metric, floor = P50_FLOORS[name]
            rate = next((metrics[key]["p50"] for key in metrics if key.startswith(metric)), None)
            if rate is None or rate < floor:
                verdict = f"{metric} p50 {rate:,} UNDER {floor:,}" if rate is not None else f"no {metric}"
                failures += 1
        if name in MALLOC_CAPS:
            mallocs = next((metrics[key]["p50"] for key in metrics if key.startswith("Malloc (total)")), None)
            if mallocs is None or mallocs > MALLOC_CAPS[name]:
                verdict = f"{mallocs} allocations OVER {MALLOC_CAPS[name]}"
                failures += 1
        relatives = []
        for metric, reference, factor, label in RELATIVE_P50.get(name, []):
            mine, theirs = metrics.get(metric), results.get(reference, {}).get(metric)
            if mine is not None and theirs is not None:
                ratio = mine["p50"] / max(1, theirs["p50"])
                verdict_text = "" if factor is None else f", {'meets' if ratio <= factor else 'misses'} {factor}x"
                relatives.append(f"{label} {ratio:.2f}x{verdict_text}")
        target = next((t for prefix, t in TARGETS_NS.items() if name.startswith(prefix)), None)
        note = ""
        if target:
            p50_target, p99_target = target
            misses = []
            if p50_target and p50 > p50_target:
                misses.append(f"p50 target {p50_target} ns")
            if p99 > p99_target:
                misses.append(f"p99 target {p99_target} ns")
            note = "meets design target" if not misses else "misses " + ", ".join(misses)
        if name in P50_FLOORS:
            metric, _ = P50_FLOORS[name]
            rate = next((metrics[key]["p50"] for key in metrics if key.startswith(metric)), 0)
            note = f"{metric} p50 {rate:,.0f}"
        if name in MALLOC_CAPS:
            mallocs = next((metrics[key]["p50"] for key in metrics if key.startswith("Malloc (total)")), 0)
            note = f"{mallocs:,.0f} allocations per call"
        round_trips = next((metrics[key]["p50"] for key in metrics if key.startswith("store round trips")), None)
        if round_trips is not None:
            note = f"{round_trips:,.0f} store round trips per 1,000 decisions"
            warm = metrics.get("warm decision latency (ns)")
            if warm is not None:
                note += f"; warm p50 {warm['p50']:,.0f} ns"
            if relatives:
                note += "; p50 " + "; ".join(relatives)
        if transport is not None:
            # The router's share of an HTTP call: the whole call minus the time inside the transport.
            note = f"HTTP p50 {transport['p50']:,} ns; router share p50 {p50 - transport['p50']:,} ns"
        rows.append((name, f"{p50:,.0f}", f"{p99:,.0f}", source, verdict, note))
    widths = [max(len(str(row[i])) for row in rows + [("benchmark", "p50 ns", "p99 ns", "measured", "ceiling", "")]) for i in range(6)]
    header = ("benchmark", "p50 ns", "p99 ns", "measured", "ceiling", "")
    for row in [header] + rows:
        print("  ".join(str(cell).ljust(widths[i]) if i in (0, 3, 4, 5) else str(cell).rjust(widths[i]) for i, cell in enumerate(row)))
    if failures:
        print(f"error: {failures} benchmark(s) missed a ceiling, floor or allocation cap", file=sys.stderr)
        return 1
    print(f"latency ceilings: all {len(rows)} benchmark(s) below their p99 ceiling (1 ms unless stricter)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
