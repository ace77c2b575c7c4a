import CoreMetrics
import Metrics
import MetricsTestKit
import RouterSDK
import RouterTesting
import Testing

/// swift-metrics can be bootstrapped once per process; every router created afterwards reports here.
let testMetrics: TestMetrics = {
    let metrics = TestMetrics()
    MetricsSystem.bootstrap(metrics)
    return metrics
}()

@Suite struct MetricsTests {
    @Test func decisionsOutcomesCostAndKeyStatesAreCounted() async throws {
        let metrics = testMetrics
        let router = try makeRouter()
        try await router.register(key("metrics-key", models: ["small"]))
        let before = try metrics.expectCounter("routersdk_decisions_total").totalValue
        try await router.settle(try await router.route(.small()), usage: Usage(inputTokens: 1000, outputTokens: 0))
        try await router.release(try await router.route(.small()), failure: .rateLimited(retryAfter: .seconds(1)))
        #expect(try metrics.expectCounter("routersdk_decisions_total").totalValue >= before + 2)
        #expect(try metrics.expectCounter("routersdk_requests_total", [("outcome", "rate_limited")]).totalValue >= 1)
        #expect(try metrics.expectCounter("routersdk_cost_nanodollars_total").totalValue >= 1_000_000)
        #expect(try metrics.expectGauge("routersdk_keys", [("state", "throttled")]).lastValue != nil)
        // Labels carry ids only, never secrets.
        for counter in metrics.counters { #expect(!counter.dimensions.description.contains("sk-secret")) }
    }
}
