import RouterSDK
import RouterTesting
import Testing

@Suite struct StrategyTests {
    /// Routes `count` requests, settling each at once, and counts choices per key.
    private func distribution(_ router: LLMRouter, _ request: RouteRequest, count: Int, latency: [KeyID: Duration] = [:]) async throws -> [KeyID: Int] {
        var counts: [KeyID: Int] = [:]
        for _ in 0..<count {
            let lease = try await router.route(request)
            counts[lease.keyID, default: 0] += 1
            try await router.settle(lease, usage: Usage(inputTokens: 1, outputTokens: 1, latency: latency[lease.keyID]))
        }
        return counts
    }

    @Test func costPicksTheCheapestModelAcrossProviders() async throws {
        let router = try makeRouter(strategy: .cost)
        try await router.register(key("openai-large", models: ["large"]))
        try await router.register(key("anthropic", provider: .anthropic, models: ["claude"]))
        try await router.register(key("openai-small", models: ["small"]))
        let lease = try await router.route(RouteRequest(models: ["large", "claude", "small"], estimatedInputTokens: 1000, maxOutputTokens: 1000))
        #expect(lease.keyID == "openai-small")
        #expect(lease.reservedCost == Money(nanodollars: 3_000_000))  // 1000 × $1/M + 1000 × $2/M
        #expect(lease.decision.explanation.contains("cheapest"))
        // Once the cheapest key is disabled the next cheapest model wins.
        try await router.disable("openai-small", reason: "maintenance")
        #expect(try await router.route(RouteRequest(models: ["large", "claude", "small"], maxOutputTokens: 10)).keyID == "anthropic")
    }

    @Test func roundRobinSpreadsEvenly() async throws {
        let router = try makeRouter(strategy: .roundRobin)
        for id in ["a", "b", "c", "d"] { try await router.register(key(id, models: ["small"])) }
        let counts = try await distribution(router, .small(), count: 400)
        #expect(counts.values.allSatisfy { $0 == 100 }, "\(counts)")
    }

    @Test func weightedRandomFollowsWeights() async throws {
        let router = try makeRouter(strategy: .weightedRandom)
        try await router.register(key("heavy", models: ["small"], weight: 3))
        try await router.register(key("light", models: ["small"], weight: 1))
        let counts = try await distribution(router, .small(), count: 4000)
        let heavy = counts["heavy", default: 0]
        // Expected 3,000; a seeded generator keeps this deterministic, the band allows any seed.
        #expect((2_800...3_200).contains(heavy), "\(counts)")
    }

    @Test func leastUsedPrefersIdleKeys() async throws {
        let router = try makeRouter(strategy: .leastUsed)
        for id in ["a", "b", "c"] { try await router.register(key(id, models: ["small"])) }
        var held: [Lease] = []
        for _ in 0..<3 { held.append(try await router.route(.small())) }
        #expect(Set(held.map(\.keyID)) == ["a", "b", "c"])
        try await router.settle(held[1], usage: .none)
        #expect(try await router.route(.small()).keyID == held[1].keyID)
    }

    @Test func latencyPrefersTheFastestMeasuredKey() async throws {
        let router = try makeRouter(strategy: .latency)
        for id in ["slow", "fast", "medium"] { try await router.register(key(id, models: ["small"])) }
        let latencies: [KeyID: Duration] = ["slow": .milliseconds(900), "fast": .milliseconds(80), "medium": .milliseconds(300)]
        // Unmeasured keys go first so each gets measured, then the fastest wins every time.
        let counts = try await distribution(router, .small(), count: 50, latency: latencies)
        #expect(counts["fast", default: 0] >= 48, "\(counts)")
    }

    @Test func reliabilityAvoidsFailingKeys() async throws {
        let router = try makeRouter(strategy: .reliability)
        for id in ["flaky", "solid"] { try await router.register(key(id, models: ["small"])) }
        for _ in 0..<2 {
            let lease = try await router.route(RouteRequest(model: "small", excludedKeys: ["solid"]))
            try await router.release(lease, failure: .serverError(status: 503))
        }
        let counts = try await distribution(router, .small(), count: 20)
        #expect(counts == ["solid": 20])
    }

    @Test func priorityIsAnExplicitFallbackOrder() async throws {
        let router = try makeRouter(strategy: .priority)
        try await router.register(key("backup", models: ["small"], priority: 2))
        try await router.register(key("primary", models: ["small"], priority: 0))
        try await router.register(key("secondary", models: ["small"], priority: 1))
        #expect(try await distribution(router, .small(), count: 10) == ["primary": 10])
        try await router.disable("primary", reason: "test")
        #expect(try await router.route(.small()).keyID == "secondary")
    }

    @Test func perRequestStrategyOverridesTheRouterDefault() async throws {
        let router = try makeRouter(strategy: .roundRobin)
        try await router.register(key("low", models: ["small"], priority: 0))
        try await router.register(key("high", models: ["small"], priority: 9))
        for _ in 0..<5 {
            let lease = try await router.route(RouteRequest(model: "small", strategy: .priority))
            #expect(lease.keyID == "low")
            try await router.settle(lease, usage: .none)
        }
    }

    @Test func filtersByProviderTagsAndExclusions() async throws {
        let router = try makeRouter()
        try await router.register(key("eu", models: ["small"], tags: ["eu", "prod"]))
        try await router.register(key("us", models: ["small"], tags: ["us", "prod"]))
        try await router.register(key("claude", provider: .anthropic, models: ["claude"]))
        #expect(try await router.route(RouteRequest(model: "small", requiredKeyTags: ["eu"])).keyID == "eu")
        #expect(try await router.route(RouteRequest(model: "small", excludedKeys: ["eu"])).keyID == "us")
        #expect(try await router.route(RouteRequest(models: ["small", "claude"], providers: [.anthropic])).keyID == "claude")
        let error = await expectRouterError(.noEligibleKey) {
            try await router.route(RouteRequest(model: "small", requiredKeyTags: ["eu", "us"]))
        }
        #expect(error?.noEligibleKey?.counts[.filtered] == 2)
    }

    @Test func explanationListsAlternativesOnlyWhenAsked() async throws {
        let router = try makeRouter(strategy: .priority)
        try await router.register(key("a", models: ["small"], priority: 0))
        try await router.register(key("b", models: ["small"], priority: 1))
        try await router.disable("b", reason: "x")
        let quiet = try await router.route(.small())
        #expect(quiet.decision.alternatives.isEmpty)
        try await router.settle(quiet, usage: .none)
        let explained = try await router.route(RouteRequest(model: "small", maxOutputTokens: 10, explain: true))
        #expect(explained.decision.alternatives.count == 2)
        #expect(explained.decision.alternatives.first { $0.keyID == "b" }?.ineligibility == .disabled)
        #expect(explained.decision.alternatives.first { $0.keyID == "a" }?.ineligibility == nil)
        #expect(explained.decision.explanation.contains("chose a for openai/small"))
    }

    @Test func needleInAHaystackAndCooldownsReturnKeys() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock, strategy: .leastUsed)
        for index in 0..<2_000 { try await router.register(key("k\(index)", models: ["small"])) }
        for _ in 0..<1_999 {
            let lease = try await router.route(.small())
            try await router.release(lease, failure: .rateLimited(retryAfter: .seconds(60)))
        }
        let needle = try await router.route(.small())
        #expect(try await router.state(of: needle.keyID) == .available)
        try await router.settle(needle, usage: .none)
        var available = 0
        for index in 0..<2_000 where try await router.state(of: KeyID("k\(index)")) == .available { available += 1 }
        #expect(available == 1)
        clock.advance(by: .seconds(60))
        available = 0
        for index in 0..<2_000 where try await router.state(of: KeyID("k\(index)")) == .available { available += 1 }
        #expect(available == 2_000)
    }
}

