import RouterSDK
import RouterTesting
import Testing

/// The wall clock steps back and forth (NTP corrections, restored VMs): budgets never roll back.
@Suite struct ClockStepTests {
    /// 2026-01-01T23:59:50Z.
    static let beforeMidnight = Timestamp(secondsSinceEpoch: 1_767_225_600 + 86_400 - 10)

    @Test func aStepBackAcrossMidnightNeitherResetsNorRestoresADailyBudget() async throws {
        let clock = ManualClock(now: Self.beforeMidnight)
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"]))
        try await router.setBudget(Budget(id: "daily", period: .day, limit: Money(decimal: "0.005")!))
        try await router.settle(try await router.route(.small()), usage: Usage(inputTokens: 1000, outputTokens: 1000))
        let dayOne = try await router.budgetStatus("daily")
        #expect(dayOne.spent == Money(decimal: "0.003"))

        // Forward across midnight: a new day, nothing spent.
        clock.set(to: Self.beforeMidnight + .seconds(20))
        try await router.settle(try await router.route(.small()), usage: Usage(inputTokens: 1000, outputTokens: 500))
        let dayTwo = try await router.budgetStatus("daily")
        #expect(dayTwo.spent == Money(decimal: "0.002"))
        #expect(dayTwo.periodStart == dayOne.periodEnd)

        // Back across midnight: still day two with its spend — not day one again, and not a
        // fresh, empty day one either.
        clock.set(to: Self.beforeMidnight + .seconds(5))
        let steppedBack = try await router.budgetStatus("daily")
        #expect(steppedBack.periodStart == dayTwo.periodStart)
        #expect(steppedBack.spent == Money(decimal: "0.002"))
        // And the hard limit still counts day two's spend: $0.002 + $0.003 fits, another does not.
        let lease = try await router.route(.small())
        await expectRouterError(.budgetExceeded) { try await router.route(.small()) }
        try await router.settle(lease, usage: Usage(inputTokens: 1000, outputTokens: 1000))
        #expect(try await router.budgetStatus("daily").spent == Money(decimal: "0.005"))

        // Forward again past the end of day two: day three starts empty.
        clock.set(to: Self.beforeMidnight + .seconds(10 + 86_400))
        #expect(try await router.budgetStatus("daily").spent == .zero)
    }

    @Test func aStepBackDoesNotRefillARateWindow() async throws {
        let clock = ManualClock(now: Self.beforeMidnight)
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"], limits: KeyLimits(requestsPerMinute: 2)))
        for _ in 0..<2 { try await router.settle(try await router.route(.small()), usage: .none) }
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        clock.set(to: Self.beforeMidnight - .seconds(3600))
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        clock.set(to: Self.beforeMidnight + .seconds(31))
        _ = try await router.route(.small())  // one request's worth refilled after half the window
    }
}
