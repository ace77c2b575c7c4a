import GatewayKit
import HTTPTypes
import Hummingbird
import HummingbirdTesting
import RouterChat
import RouterSDK
import RouterTesting
import Testing

/// `GET /metrics` in Prometheus' text format: RED per endpoint and per provider, budgets read
/// at the scrape. (RouterSDK's own series join it in the executable, which bootstraps
/// swift-metrics onto the same registry: LifecycleTests/GatewayDrainTests scrapes those.)
@Suite struct GatewayMetricsTests {
    static let chat = #"{"model": "openai-model", "messages": [{"role": "user", "content": "Hello"}]}"#

    /// The value of the series whose line starts with `series` (name and labels as emitted).
    static func value(_ text: String, _ series: String) -> Double? {
        text.split(separator: "\n").first { $0.hasPrefix(series + " ") }.flatMap { Double($0.split(separator: " ").last ?? "") }
    }

    @Test func requestsUpstreamCallsAndBudgetsAreReported() async throws {
        let budget = Budget(id: "daily", period: .day, limit: Money(dollars: 5))
        try await GatewayFixture.run(keys: [("k1", .openai), ("k2", .gemini)], budget: budget) { fixture, client in
            for _ in 0..<3 { _ = try await client.post("/v1/chat/completions", json: Self.chat) }
            fixture.upstream.script(secret: GatewayFixture.secret("k2"), Array(repeating: .error(status: 500, body: "{}"), count: 3))
            let failed = try await client.post("/v1/chat/completions", json: #"{"model": "gemini-model", "messages": [{"role": "user", "content": "Hi"}]}"#)
            #expect(failed.status == .badGateway)
            _ = try await client.post("/v1/chat/completions", json: #"{"model": "openai-model", "stream": true, "messages": [{"role": "user", "content": "Hi"}]}"#)
            _ = try await client.execute(uri: "/no/such/path/\(Int.random(in: 0...1_000_000))", method: .get)
            let scrape = try await client.execute(uri: "/metrics", method: .get)
            #expect(scrape.status == .ok)
            #expect(scrape.headers[.contentType]?.hasPrefix("text/plain") == true)
            let text = String(buffer: scrape.body)
            #expect(Self.value(text, #"gateway_requests_total{route="/v1/chat/completions",method="POST",status="200"}"#) == 4)
            #expect(Self.value(text, #"gateway_requests_total{route="/v1/chat/completions",method="POST",status="502"}"#) == 1)
            // A path no route matches is not a series (probes of random paths cannot grow them).
            #expect(!text.contains("/no/such/path"))
            #expect(Self.value(text, #"gateway_request_duration_seconds_count{route="/v1/chat/completions",method="POST"}"#) == 5)
            #expect(Self.value(text, #"gateway_upstream_requests_total{provider="openai",outcome="success"}"#) == 4)
            #expect(text.contains(#"gateway_upstream_requests_total{provider="gemini",outcome="#))
            #expect(Self.value(text, #"gateway_upstream_duration_seconds_count{provider="openai"}"#) == 4)
            #expect(Self.value(text, #"gateway_budget_limit_nanodollars{budget="daily"}"#) == 5_000_000_000)
            let spent = try #require(Self.value(text, #"gateway_budget_spent_nanodollars{budget="daily"}"#))
            #expect(spent > 0)
            #expect(Self.value(text, #"gateway_budget_remaining_nanodollars{budget="daily"}"#) == 5_000_000_000 - spent)
            #expect(!text.contains("sk-gateway"))
        }
    }
}
