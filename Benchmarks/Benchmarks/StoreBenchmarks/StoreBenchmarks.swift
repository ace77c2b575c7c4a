import Benchmark
import Foundation
import Logging
import MongoStateStore
import RouterSDK
import PostgresStateStore
import SQLiteStateStore

// State store benchmarks: how fast each backend persists the usage ledger in batches, how long an
// atomic budget increment takes, and that routing latency does not change with a store attached.
// Wall clock is reported per event / per operation (scaling factor), so the 1 ms ceiling of
// scripts/check-latency.py applies to each, and ≥ 20,000 events/s means ≤ 50 µs per event.

let quiet = Logger(label: "StoreBenchmarks") { _ in SwiftLogNoOpLogHandler() }
let storeMetrics: [BenchmarkMetric] = [.wallClock, .throughput, .mallocCountTotal]

func temporaryDatabase() throws -> String {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("routersdk-bench-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    return directory.appendingPathComponent("bench.db").path
}

func usageBatch(_ count: Int, startingAt lease: UInt64) -> StoreBatch {
    let at = Timestamp(secondsSinceEpoch: 1_767_225_600)
    return StoreBatch(usage: (0..<count).map { offset in
        UsageEvent(
            leaseID: lease + UInt64(offset), keyID: KeyID("key-\(offset % 100)"), model: ModelRef(provider: .openai, name: "gpt-4o-mini"),
            inputTokens: 800, outputTokens: 300, cost: Money(nanodollars: 300_000), latencyNanoseconds: 420_000_000,
            outcome: .success, failure: nil, tags: ["tenant-\(offset % 7)"], at: at + .milliseconds(Int64(offset)))
    })
}

/// Registers the two store benchmarks of one backend: batched usage-event writes (per event) and
/// the atomic conditional budget increment. Each opens its own store with `open` in its setup.
func storeBenchmarks(_ backend: String, open: @escaping @Sendable () async throws -> any StateStore) {
    nonisolated(unsafe) var appendStore: (any StateStore)!
    nonisolated(unsafe) var nextLease: UInt64 = 0
    Benchmark("store-\(backend)-append-usage-per-event", configuration: .init(metrics: storeMetrics, scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 200, setup: {
        appendStore = try await open()
    })) { benchmark in
        let batch = usageBatch(benchmark.scaledIterations.count, startingAt: nextLease)
        nextLease += UInt64(batch.usage.count)
        benchmark.startMeasurement()
        try await appendStore.append(batch)
        benchmark.stopMeasurement()
    }

    nonisolated(unsafe) var spendStore: (any StateStore)!
    Benchmark("store-\(backend)-atomic-add-spend", configuration: .init(metrics: storeMetrics, maxDuration: .seconds(1), maxIterations: 20_000, setup: {
        spendStore = try await open()
    })) { benchmark in
        blackHole(try await spendStore.addSpend(Money(nanodollars: 1), to: "bench-budget", periodStart: Timestamp(nanosecondsSinceEpoch: 0), limit: Money(dollars: 1_000_000)))
    }
}

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration.timeUnits = .microseconds

    storeBenchmarks("sqlite") { try await SQLiteStateStore.open(path: try temporaryDatabase(), logger: quiet) }
    // PostgreSQL and MongoDB (SecantusDB, the wire-compatible server) join when
    // scripts/with-services.sh (scripts/check-benchmarks.sh) provides their servers.
    if let url = ProcessInfo.processInfo.environment["ROUTERSDK_POSTGRES_URL"], !url.isEmpty {
        storeBenchmarks("postgres") { try await PostgresStateStore.open(.init(url: url), logger: quiet) }
    }
    if let url = ProcessInfo.processInfo.environment["ROUTERSDK_MONGO_URL"], !url.isEmpty {
        storeBenchmarks("mongo") { try await MongoStateStore.open(.init(url: url), logger: quiet) }
    }

    nonisolated(unsafe) var router: LLMRouter!
    // Routing with a store attached, in buffered mode: the decision path must not change.
    Benchmark("route+settle-1k-keys-sqlite-attached", configuration: .init(metrics: storeMetrics, scalingFactor: .kilo, maxDuration: .seconds(1), maxIterations: 500, setup: {
        let store = try await SQLiteStateStore.open(path: try temporaryDatabase(), logger: quiet)
        var configuration = RouterConfiguration(masterKey: benchmarkMasterKey)
        configuration.persistence.acknowledgement = .buffered
        router = try LLMRouter(configuration: configuration, store: store, logger: quiet)
        for index in 0..<1_000 {
            try await router.register(APIKey(id: KeyID("key-\(index)"), provider: .openai, secret: Secret("sk-\(index)"), models: ["gpt-4o-mini"]))
        }
        try await router.setBudget(Budget(id: "global", period: .month, limit: Money(dollars: 1_000_000)))
    })) { benchmark in
        let request = RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 800, maxOutputTokens: 400)
        for _ in benchmark.scaledIterations {
            let lease = try await router.route(request)
            blackHole(try await router.settle(lease, usage: Usage(inputTokens: 750, outputTokens: 320)))
        }
    }

    fleetDecisionBenchmark("memory") { InMemoryStateStore() }
    for leasing in [true, false] {
        fleetDecisionBenchmark("sqlite", leasing: leasing) { try await SQLiteStateStore.open(path: try temporaryDatabase(), logger: quiet) }
        if let url = ProcessInfo.processInfo.environment["ROUTERSDK_POSTGRES_URL"], !url.isEmpty {
            fleetDecisionBenchmark("postgres", leasing: leasing) { try await PostgresStateStore.open(.init(url: url), logger: quiet) }
        }
        if let url = ProcessInfo.processInfo.environment["ROUTERSDK_MONGO_URL"], !url.isEmpty {
            fleetDecisionBenchmark("mongo", leasing: leasing, pairs: 100) { try await MongoStateStore.open(.init(url: url), logger: quiet) }
        }
    }

    settleThroughputBenchmarks("sqlite") { try await SQLiteStateStore.open(path: try temporaryDatabase(), logger: quiet) }
    if let url = ProcessInfo.processInfo.environment["ROUTERSDK_POSTGRES_URL"], !url.isEmpty {
        settleThroughputBenchmarks("postgres") { try await PostgresStateStore.open(.init(url: url), logger: quiet) }
    }
    if let url = ProcessInfo.processInfo.environment["ROUTERSDK_MONGO_URL"], !url.isEmpty {
        settleThroughputBenchmarks("mongo") { try await MongoStateStore.open(.init(url: url), logger: quiet) }
    }
}

let benchmarkMasterKey = try! MasterKey(id: "bench", bytes: Array(repeating: 1, count: 32))

/// Settles per second from 64 concurrent tasks on one backend, in both acknowledgement modes:
/// committed (each settle returns once stored; group commit) and buffered. Reported per settle
/// (scaling factor), so 20,000 settles/s is 50 µs.
func settleThroughputBenchmarks(_ backend: String, open: @escaping @Sendable () async throws -> any StateStore) {
    for mode in [RouterConfiguration.Persistence.Acknowledgement.committed, .buffered] {
        let name = mode == .committed ? "committed" : "buffered"
        nonisolated(unsafe) var router: LLMRouter!
        Benchmark("settle-64-tasks-\(backend)-\(name)", configuration: .init(metrics: storeMetrics, scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 100, setup: {
            var configuration = RouterConfiguration(masterKey: benchmarkMasterKey)
            configuration.persistence.acknowledgement = mode
            router = try LLMRouter(configuration: configuration, store: try await open(), logger: quiet)
            for index in 0..<100 {
                try await router.register(APIKey(id: KeyID("\(backend)-\(name)-\(UUID().uuidString.prefix(8))-\(index)"), provider: .openai, secret: Secret("sk-\(index)"), models: ["gpt-4o-mini"]))
            }
        }, teardown: {
            try await router.shutdown()
        })) { benchmark in
            let total = benchmark.scaledIterations.count
            let request = RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 800, maxOutputTokens: 400)
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<64 {
                    group.addTask {
                        for _ in stride(from: task, to: total, by: 64) {
                            let lease = try await router.route(request)
                            blackHole(try await router.settle(lease, usage: Usage(inputTokens: 750, outputTokens: 320)))
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
    }
}
