import RouterSDK
import RouterTesting
import Testing

@Suite struct LimitTests {
    @Test func requestsPerMinuteAtTheEdge() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"], limits: KeyLimits(requestsPerMinute: 3)))
        for _ in 0..<3 { try await router.settle(try await router.route(.small()), usage: .none) }
        let error = await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        #expect(error?.noEligibleKey?.counts[.requestLimit] == 1)
        // One request refills every 20 s: at 19.999 s still nothing, at 20 s exactly one more.
        #expect(error?.noEligibleKey?.earliestRetry == clock.now() + .seconds(20))
        clock.advance(by: .milliseconds(19_999))
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        clock.advance(by: .milliseconds(1))
        try await router.settle(try await router.route(.small()), usage: .none)
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        // A full minute later the whole burst is back.
        clock.advance(by: .seconds(60))
        for _ in 0..<3 { try await router.settle(try await router.route(.small()), usage: .none) }
    }

    @Test func tokensPerMinuteReserveWorstCaseAndRefundOnSettle() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"], limits: KeyLimits(tokensPerMinute: 10_000)))
        let first = try await router.route(.small(input: 3_000, output: 3_000))
        #expect(try await router.quota(of: "k").remainingTokensPerMinute == 4_000)
        // 6,000 more do not fit while the first lease holds its worst case...
        let error = await expectRouterError(.noEligibleKey) { try await router.route(.small(input: 3_000, output: 3_000)) }
        #expect(error?.noEligibleKey?.counts[.tokenLimit] == 1)
        // ...but settling at the real usage returns the unused reservation at once.
        try await router.settle(first, usage: Usage(inputTokens: 3_000, outputTokens: 500))
        #expect(try await router.quota(of: "k").remainingTokensPerMinute == 6_500)
        _ = try await router.route(.small(input: 3_000, output: 3_000))
        // A request larger than the whole limit can never fit.
        await expectRouterError(.noEligibleKey) { try await router.route(.small(input: 10_000, output: 1)) }
    }

    @Test func requestsPerDayAndPredictedExhaustion() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock)
        let events = EventCollector(await router.events())
        try await router.register(key("k", models: ["small"], limits: KeyLimits(requestsPerDay: 100)))
        // One request a second exhausts 100/day in well under the 10-minute horizon.
        for _ in 0..<10 {
            try await router.settle(try await router.route(.small()), usage: .none)
            clock.advance(by: .seconds(1))
        }
        let quota = try await router.quota(of: "k")
        #expect(quota.remainingRequestsPerDay == 90)
        let predicted = try #require(quota.predictedExhaustion)
        #expect(predicted > clock.now() && predicted < clock.now() + .seconds(95))
        #expect(quota.capacity == .abundant)
        let collected = try await events.finish(router)
        #expect(collected.contains { $0.kind == .exhaustionPredicted && $0.keyID == "k" })
    }

    @Test func maxConcurrentRequests() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"], limits: KeyLimits(maxConcurrentRequests: 2)))
        let a = try await router.route(.small())
        _ = try await router.route(.small())
        let error = await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        #expect(error?.noEligibleKey?.counts[.concurrencyLimit] == 1)
        #expect(try await router.quota(of: "k").inFlight == 2)
        #expect(try await router.quota(of: "k").capacity == .exhausted)
        try await router.release(a, failure: .cancelled)
        _ = try await router.route(.small())
    }

    @Test func limitsApplyPerKeyAndOtherKeysTakeOver() async throws {
        let router = try makeRouter(strategy: .priority)
        try await router.register(key("primary", models: ["small"], priority: 0, limits: KeyLimits(requestsPerMinute: 2)))
        try await router.register(key("overflow", models: ["small"], priority: 1))
        var chosen: [KeyID] = []
        for _ in 0..<4 {
            let lease = try await router.route(.small())
            chosen.append(lease.keyID)
            try await router.settle(lease, usage: .none)
        }
        #expect(chosen == ["primary", "primary", "overflow", "overflow"])
    }

    @Test(arguments: [
        KeyLimits(requestsPerMinute: 0), KeyLimits(tokensPerMinute: -5), KeyLimits(requestsPerDay: 0),
        KeyLimits(maxConcurrentRequests: 0), KeyLimits(requestsPerMinute: KeyLimits.maximum + 1),
    ])
    func invalidLimitsAreRejected(limits: KeyLimits) async throws {
        let router = try makeRouter()
        await expectRouterError(.invalidLimits) { try await router.register(key("k", models: ["small"], limits: limits)) }
        try await router.register(key("ok", models: ["small"]))
        var settings = KeySettings(provider: .openai, models: ["small"])
        settings.limits = limits
        await expectRouterError(.invalidLimits) { try await router.update("ok", settings: settings) }
    }
}
