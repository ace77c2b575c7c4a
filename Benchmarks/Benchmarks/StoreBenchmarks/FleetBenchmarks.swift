import Benchmark
import Foundation
import RouterSDK
import RouterTesting

/// Decision latency with fleet budgets on, per backend: `route` alone, timed around the call (two
/// clock reads), while a shared hard budget is leased in slices from the store — the slices held
/// cover most decisions, the next one is taken in the background at half, and a decision waits
/// for the store only when none is left. scripts/check-latency.py enforces p99 under 1 ms and
/// reports each backend's p50 against the in-memory figure (issue 11's 2× target).
///
/// Also reported: the store round trips leasing cost per 1,000 decisions (shared-record reads
/// and writes, spend-counter reads; the batched settle writes are not counted).
let fleetDecisionMetric = BenchmarkMetric.custom("decision latency (ns)", polarity: .prefersSmaller, useScalingFactor: false)
let fleetRoundTripsMetric = BenchmarkMetric.custom("store round trips per 1000 decisions", polarity: .prefersSmaller, useScalingFactor: false)

func fleetDecisionBenchmark(_ backend: String, open: @escaping @Sendable () async throws -> any StateStore) {
    nonisolated(unsafe) var router: LLMRouter!
    nonisolated(unsafe) var store: FaultInjectingStateStore!
    Benchmark("route-fleet-1k-keys-\(backend)", configuration: .init(
        metrics: [.wallClock, .throughput, fleetDecisionMetric, fleetRoundTripsMetric], scalingFactor: .kilo, maxDuration: .seconds(2), maxIterations: 50,
        setup: {
            store = FaultInjectingStateStore(wrapping: try await open())
            var configuration = RouterConfiguration(masterKey: benchmarkMasterKey, fleet: FleetBudgets())
            configuration.persistence.acknowledgement = .committed
            router = try LLMRouter(configuration: configuration, store: store, logger: quiet)
            let run = UUID().uuidString.prefix(8)
            for index in 0..<1_000 {
                try await router.register(APIKey(id: KeyID("fleet-\(run)-\(index)"), provider: .openai, secret: Secret("sk-\(index)"), models: ["gpt-4o-mini"]))
            }
            // $0.00036 a request: 50 iterations of 1,000 spend $18 of $500, in slices of 5% of
            // what is ungranted ($25 down to $23), a new one every ~65,000 decisions.
            try await router.setBudget(Budget(id: BudgetID("fleet-\(run)"), period: .total, limit: Money(dollars: 500)))
        },
        teardown: {
            try await router.shutdown()
        })) { benchmark in
        let request = RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 800, maxOutputTokens: 400)
        let usage = Usage(inputTokens: 750, outputTokens: 320)
        var latencies: [Int] = []
        latencies.reserveCapacity(benchmark.scaledIterations.count)
        let roundTrips = store.sharedRoundTrips
        benchmark.startMeasurement()
        for _ in benchmark.scaledIterations {
            let started = ContinuousClock.now
            let lease = try await router.route(request)
            let took = ContinuousClock.now - started
            latencies.append(Int(took.components.attoseconds / 1_000_000_000) + Int(took.components.seconds) * 1_000_000_000)
            blackHole(try await router.settle(lease, usage: usage))
        }
        benchmark.stopMeasurement()
        for latency in latencies { benchmark.measurement(fleetDecisionMetric, latency) }
        benchmark.measurement(fleetRoundTripsMetric, (store.sharedRoundTrips - roundTrips) * 1_000 / max(1, latencies.count))
    }
}
