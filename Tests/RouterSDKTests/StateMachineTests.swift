import RouterSDK
import RouterTesting
import Testing

@Suite struct StateMachineTests {
    @Test func rateLimitThrottlesUntilRetryAfterThenCoolsDown() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"]))
        try await router.release(try await router.route(.small()), failure: .rateLimited(retryAfter: .seconds(30)))
        #expect(try await router.state(of: "k") == .throttled(until: clock.now() + .seconds(30)))
        let error = await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        #expect(error?.noEligibleKey?.counts[.throttled] == 1)
        #expect(error?.noEligibleKey?.earliestRetry == clock.now() + .seconds(30))
        clock.advance(by: .seconds(30))
        #expect(try await router.state(of: "k") == .available)
        _ = try await router.route(.small())
    }

    @Test func laterCooldownWinsAndShorterOneNeverShortens() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"], limits: KeyLimits(maxConcurrentRequests: 5)))
        let leases = [try await router.route(.small()), try await router.route(.small()), try await router.route(.small())]
        let start = clock.now()
        try await router.release(leases[0], failure: .rateLimited(retryAfter: .seconds(60)))
        try await router.release(leases[1], failure: .rateLimited(retryAfter: .seconds(5)))
        #expect(try await router.state(of: "k") == .throttled(until: start + .seconds(60)))
        try await router.release(leases[2], failure: .quotaExhausted(resetAt: start + .seconds(3600)))
        #expect(try await router.state(of: "k") == .exhausted(until: start + .seconds(3600)))
    }

    @Test func rateLimitWithoutRetryAfterBacksOffExponentially() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock) { $0.rateLimitBackoff = .seconds(1); $0.maxRateLimitBackoff = .seconds(4) }
        try await router.register(key("k", models: ["small"]))
        var cooldowns: [Duration] = []
        for _ in 0..<4 {
            try await router.release(try await router.route(.small()), failure: .rateLimited(retryAfter: nil))
            let until = try #require(try await router.state(of: "k").cooldownDeadline)
            cooldowns.append(until - clock.now())
            clock.advance(to: until)
        }
        #expect(cooldowns == [.seconds(1), .seconds(2), .seconds(4), .seconds(4)])
        // A success resets the backoff.
        try await router.settle(try await router.route(.small()), usage: .none)
        try await router.release(try await router.route(.small()), failure: .rateLimited(retryAfter: nil))
        #expect(try await router.state(of: "k").cooldownDeadline == clock.now() + .seconds(1))
    }

    @Test func authFailureInvalidatesUntilRotated() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        try await router.release(try await router.route(.small()), failure: .authInvalid)
        #expect(try await router.state(of: "k") == .invalid)
        await expectRouterError(.invalidTransition) { try await router.enable("k") }
        try await router.rotate("k", to: Secret("sk-new-secret-value"))
        #expect(try await router.state(of: "k") == .available)
        #expect(try await router.route(.small()).secret == Secret("sk-new-secret-value"))
    }

    @Test func disabledKeysIgnoreFailuresAndComeBackOnlyWhenEnabled() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        let lease = try await router.route(.small())
        try await router.disable("k", reason: "billing review")
        try await router.release(lease, failure: .rateLimited(retryAfter: .seconds(10)))
        #expect(try await router.state(of: "k") == .disabled(reason: "billing review"))
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        try await router.enable("k")
        #expect(try await router.state(of: "k") == .available)
    }

    @Test func everyTransitionIsAuditedWithItsReason() async throws {
        let clock = ManualClock()
        let store = InMemoryStateStore()
        let router = try makeRouter(clock: clock, store: store)
        let events = EventCollector(await router.events())
        try await router.register(key("k", models: ["small"]))
        try await router.release(try await router.route(.small()), failure: .rateLimited(retryAfter: .seconds(1)))
        clock.advance(by: .seconds(1))
        _ = try await router.state(of: "k")
        try await router.disable("k", reason: "ops")
        try await router.enable("k")
        try await router.release(try await router.route(.small()), failure: .authInvalid)
        try await router.rotate("k", to: "sk-rotated")
        let collected = try await events.finish(router)
        let reasons = collected.compactMap { $0.transition?.reason }
        let expected: [TransitionReason] = [.rateLimited, .cooldownElapsed, .operatorDisabled, .operatorEnabled, .authInvalid, .secretRotated]
        #expect(reasons == expected)
        let stored = try await store.transitions(of: "k", limit: 100)
        #expect(stored.reversed().map(\.reason) == expected)
        #expect(stored.last?.from == .available)
    }

    @Test func circuitBreakerOpensAndProbesHalfOpen() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock, strategy: .reliability) { $0.circuitBreaker = .init(failureThreshold: 3, openDuration: .seconds(30)) }
        try await router.register(key("k", models: ["small"], limits: KeyLimits(maxConcurrentRequests: 10)))
        for _ in 0..<3 { try await router.release(try await router.route(.small()), failure: .serverError(status: 502)) }
        let error = await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        #expect(error?.noEligibleKey?.counts[.circuitOpen] == 1)
        clock.advance(by: .seconds(30))
        // Half-open: exactly one probe at a time.
        let probe = try await router.route(.small())
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        #expect(try await router.quota(of: "k").capacity == .recovering)
        try await router.release(probe, failure: .timeout)
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        clock.advance(by: .seconds(30))
        try await router.settle(try await router.route(.small()), usage: .none)
        // Closed again: concurrent requests flow.
        _ = try await router.route(.small())
        _ = try await router.route(.small())
    }
}
