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

    @Test func rateWindowsRunOnMonotonicTimeNotTheWallClock() async throws {
        let clock = ManualClock(now: Self.beforeMidnight)
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"], limits: KeyLimits(requestsPerMinute: 2)))
        for _ in 0..<2 { try await router.settle(try await router.route(.small()), usage: .none) }
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        // Neither a step back nor a step forward of the wall clock refills the window...
        clock.set(to: Self.beforeMidnight - .seconds(3600))
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        clock.set(to: Self.beforeMidnight + .seconds(3600))
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        // ...time passing does: one request's worth after half the window.
        clock.advance(by: .seconds(30))
        _ = try await router.route(.small())
    }

    @Test func cooldownsLastTheirDurationWhateverTheWallClockDoes() async throws {
        let clock = ManualClock(now: Self.beforeMidnight)
        let store = InMemoryStateStore()
        let router = try makeRouter(clock: clock, store: store)
        try await router.register(key("k", models: ["small"]))
        try await router.release(try await router.route(.small()), failure: .rateLimited(retryAfter: .seconds(30)))
        // A wall step forward by an hour does not end a 30-second cooldown early...
        clock.set(to: Self.beforeMidnight + .seconds(3600))
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        // ...and a step back by two hours does not stretch it.
        clock.set(to: Self.beforeMidnight - .seconds(3600))
        clock.advance(by: .seconds(29))
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        clock.advance(by: .seconds(1))
        #expect(try await router.state(of: "k") == .available)
        // Transitions are stamped with the wall clock, as stored times are.
        await router.flush()
        let newest = try await store.transitions(of: "k", limit: 1)
        #expect(newest.first?.to == .available)
        #expect(newest.first?.at == clock.now())
    }

    @Test func leasesExpireOnMonotonicTime() async throws {
        let clock = ManualClock(now: Self.beforeMidnight)
        let router = try makeRouter(clock: clock) { $0.leaseTimeToLive = .seconds(60) }
        try await router.register(key("k", models: ["small"], limits: KeyLimits(maxConcurrentRequests: 1)))
        let held = try await router.route(.small())
        clock.set(to: Self.beforeMidnight + .seconds(86_400))  // a day's wall jump: not a minute passing
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        clock.advance(by: .seconds(61))
        _ = try await router.route(.small())
        // The reclaimed lease can still be released late (nothing more to return).
        #expect(try await router.release(held, failure: .cancelled).cost == .zero)
    }
}
