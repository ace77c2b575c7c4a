import Benchmark
import Logging
import RouterSDK

// Routing overhead benchmarks. Each measures only the router: no network, no real store I/O.
//
// Names carry no spaces: package-benchmark 1.38 writes threshold files with spaces replaced but
// reads them with spaces kept, so only space-free names round-trip.
//
// Thresholds: CI gates on malloc counts (stable on shared machines; Thresholds/ holds p90 per
// benchmark, instructions too where the machine exposes perf counters) and separately checks the
// card's hard line, p99 < 1 ms per operation, on every benchmark (scripts/check-latency.py).

/// Per-decision latency measured around the `route` call alone (two clock reads), so the
/// harness's own start/stop bookkeeping does not inflate it.
let decisionMetric = BenchmarkMetric.custom("decision latency (ns)", polarity: .prefersSmaller, useScalingFactor: false)

/// Latency of one route + settle pair, timed inside each task of the concurrent benchmark.
let cycleMetric = BenchmarkMetric.custom("route+settle latency (ns)", polarity: .prefersSmaller, useScalingFactor: false)

let defaultMetrics: [BenchmarkMetric] = [.wallClock, .instructions, .mallocCountTotal, .throughput]

/// Instruction counts may drift 10 %; allocations 20 per iteration — less than one extra allocation
/// per decision in the 1,000-decision iterations, which is the regression this catches.
var gates: [BenchmarkMetric: BenchmarkThresholds] {
    [
        .instructions: BenchmarkThresholds(relative: [.p90: 10.0]),
        .mallocCountTotal: BenchmarkThresholds(absolute: [.p90: 20]),
    ]
}

/// A catalog with one model per provider, so pools are large.
func benchmarkCatalog() throws -> ModelCatalog {
    var catalog = ModelCatalog()
    catalog.setProvider(ProviderInfo(id: .openai, displayName: "OpenAI", wireFormat: .openAIChat, baseURL: "https://api.openai.com/v1"))
    try catalog.setModel(ModelInfo(
        ref: ModelRef(provider: .openai, name: "gpt-4o-mini"),
        price: ModelPrice(inputPerMillion: Money(decimal: "0.15")!, outputPerMillion: Money(decimal: "0.60")!),
        contextWindow: 128_000, maxOutputTokens: 16_384))
    return catalog
}

/// A router with `count` keys serving gpt-4o-mini, weights and priorities spread out.
func makeRouter(keys count: Int, strategy: RoutingStrategy, budgets: Bool = false) async throws -> LLMRouter {
    let configuration = RouterConfiguration(strategy: strategy, masterKey: MasterKey.random(), randomSeed: 1)
    var logger = Logger(label: "RoutingBenchmarks")
    logger.logLevel = .warning
    let router = try LLMRouter(configuration: configuration, catalog: benchmarkCatalog(), logger: logger)
    for index in 0..<count {
        try await router.register(APIKey(
            id: KeyID("key-\(index)"), provider: .openai, secret: Secret("sk-bench-\(index)"), models: ["gpt-4o-mini"],
            weight: 1 + index % 5, priority: index % 3, tags: ["team-\(index % 4)"]))
    }
    if budgets {
        try await router.setBudget(Budget(id: "global", period: .month, limit: Money(dollars: 1_000_000)))
        try await router.setBudget(Budget(id: "tenant", scope: .tag("tenant-1"), period: .day, limit: Money(dollars: 1_000_000)))
        try await router.setBudget(Budget(id: "provider", scope: .provider(.openai), period: .hour, limit: Money(dollars: 1_000_000)))
    }
    return router
}

let request = RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 800, maxOutputTokens: 400, tags: ["tenant-1"])
let usage = Usage(inputTokens: 750, outputTokens: 320, latency: .milliseconds(420))

/// Decisions per measured iteration: routing back to back keeps caches as warm as a busy server's,
/// and amortises the harness's per-iteration bookkeeping (wall clock is reported per decision).
let batch = 1_000

/// Measures `route` alone, `batch` decisions per iteration, each also timed individually into
/// ``decisionMetric``; the settles that free the leases run outside the measurement.
func routeOnly(_ name: String, keys: Int, strategy: RoutingStrategy, budgets: Bool = false, prepare: @escaping @Sendable (LLMRouter) async throws -> Void = { _ in }) {
    nonisolated(unsafe) var router: LLMRouter!
    let configuration = Benchmark.Configuration(
        metrics: defaultMetrics + [decisionMetric], scalingFactor: .kilo, maxDuration: .seconds(1), maxIterations: 500,
        thresholds: gates,
        setup: {
            router = try await makeRouter(keys: keys, strategy: strategy, budgets: budgets)
            try await prepare(router)
        })
    Benchmark(name, configuration: configuration) { benchmark in
        var leases: [Lease] = []
        leases.reserveCapacity(batch)
        var latencies: [Int] = []
        latencies.reserveCapacity(batch)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let started = ContinuousClock.now
            let lease = try await router.route(request)
            latencies.append(nanoseconds(ContinuousClock.now - started))
            leases.append(lease)
        }
        benchmark.stopMeasurement()
        for latency in latencies { benchmark.measurement(decisionMetric, latency) }
        for lease in leases { try await router.settle(lease, usage: usage) }
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.timeUnits = .microseconds

    for strategy in RoutingStrategy.allCases {
        routeOnly("route-1k-keys-\(strategy)", keys: 1_000, strategy: strategy)
    }
    routeOnly("route-10k-keys-cost", keys: 10_000, strategy: .cost)
    routeOnly("route-10k-keys-leastUsed", keys: 10_000, strategy: .leastUsed)
    routeOnly("route-1k-keys-3-budgets", keys: 1_000, strategy: .cost, budgets: true)
    routeOnly("route-needle-1-of-10k-available", keys: 10_000, strategy: .cost) { router in
        // Throttle every key but one for an hour: the decision must not scan them.
        for _ in 1..<10_000 {
            let lease = try await router.route(RouteRequest(model: "gpt-4o-mini", excludedKeys: ["key-0"], strategy: .priority))
            try await router.release(lease, failure: .rateLimited(retryAfter: .seconds(3600)))
        }
    }

    nonisolated(unsafe) var cycleRouter: LLMRouter!
    Benchmark("route+settle-1k-keys", configuration: .init(metrics: defaultMetrics + [cycleMetric], scalingFactor: .kilo, maxDuration: .seconds(1), maxIterations: 500, thresholds: gates, setup: {
        cycleRouter = try await makeRouter(keys: 1_000, strategy: .cost, budgets: true)
    })) { benchmark in
        var latencies: [Int] = []
        latencies.reserveCapacity(batch)
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let started = ContinuousClock.now
            let lease = try await cycleRouter.route(request)
            blackHole(try await cycleRouter.settle(lease, usage: usage))
            latencies.append(nanoseconds(ContinuousClock.now - started))
        }
        benchmark.stopMeasurement()
        for latency in latencies { benchmark.measurement(cycleMetric, latency) }
    }

    nonisolated(unsafe) var concurrentRouter: LLMRouter!
    Benchmark("route+settle-64-concurrent-tasks", configuration: .init(metrics: defaultMetrics + [cycleMetric], maxDuration: .seconds(1), maxIterations: 5_000, thresholds: gates, setup: {
        concurrentRouter = try await makeRouter(keys: 1_000, strategy: .leastUsed, budgets: true)
    })) { benchmark in
        let router = concurrentRouter!
        let latencies = await withTaskGroup(of: Int.self) { group in
            for _ in 0..<64 {
                group.addTask {
                    let started = ContinuousClock.now
                    if let lease = try? await router.route(request) {
                        _ = try? await router.settle(lease, usage: usage)
                    }
                    return nanoseconds(ContinuousClock.now - started)
                }
            }
            var all: [Int] = []
            for await latency in group { all.append(latency) }
            return all
        }
        benchmark.stopMeasurement()
        for latency in latencies { benchmark.measurement(cycleMetric, latency) }
    }
}

func nanoseconds(_ duration: Duration) -> Int {
    let (seconds, attoseconds) = duration.components
    return Int(seconds) * 1_000_000_000 + Int(attoseconds / 1_000_000_000)
}
