import Foundation
import RouterSDK
import StateStoreConformance
import RouterTesting
import Testing

/// A router restarted on the same persistent store comes back with its keys, cooldowns still in
/// force and the current period's spend.
@Suite struct RouterRestartTests {
    private func router(_ store: any StateStore, _ clock: ManualClock) throws -> LLMRouter {
        try LLMRouter(configuration: RouterConfiguration(masterKey: testMasterKey), store: store, clock: clock, logger: quietLogger)
    }

    @Test(arguments: Backend.allCases.filter(\.isPersistent))
    func restartKeepsKeysCooldownsAndSpend(backend: Backend) async throws {
        try await withStore(backend) { fixture in
            let clock = ManualClock()
            let first = try router(fixture.store, clock)
            try await first.register(APIKey(id: "a", provider: .openai, secret: "sk-restart-a", models: ["gpt-4o-mini"]))
            try await first.register(APIKey(id: "b", provider: .openai, secret: "sk-restart-b", models: ["gpt-4o-mini"]))
            try await first.setBudget(Budget(id: "daily", period: .day, limit: Money(dollars: 1)))
            let request = RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 1_000, maxOutputTokens: 1_000, requiredKeyTags: [])
            let spentLease = try await first.route(RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 1_000, maxOutputTokens: 1_000, excludedKeys: ["a"]))
            try await first.settle(spentLease, usage: Usage(inputTokens: 1_000, outputTokens: 1_000))
            let throttled = try await first.route(RouteRequest(model: "gpt-4o-mini", excludedKeys: ["b"]))
            try await first.release(throttled, failure: .rateLimited(retryAfter: .seconds(600)))
            let spent = try await first.budgetStatus("daily").spent
            #expect(spent == Money(nanodollars: 750_000))  // 1,000 × $0.15/M + 1,000 × $0.60/M
            try await first.shutdown()

            clock.advance(by: .seconds(60))
            let second = try router(try await fixture.reopen(), clock)
            try await second.restore()
            #expect(await second.keyIDs == ["a", "b"])
            #expect(try await second.state(of: "a") == .throttled(until: Timestamp(secondsSinceEpoch: 1_767_225_600) + .seconds(600)))
            #expect(try await second.budgetStatus("daily").spent == spent)
            let next = try await second.route(request)
            #expect(next.keyID == "b")
            try await second.settle(next, usage: .none)  // shutdown waits for leases in flight
            clock.advance(by: .seconds(540))
            #expect(try await second.state(of: "a") == .available)
            try await second.shutdown()
        }
    }
}
