import RouterSDK
import RouterTesting
import Testing

@Suite struct ExecuteTests {
    private func simulator() -> SimulatedProvider { SimulatedProvider(sleep: { _ in }) }

    @Test func failsOverOnRetryableErrorsAndSettlesTheSuccess() async throws {
        let router = try makeRouter(strategy: .priority)
        let provider = simulator()
        let first = key("first", models: ["small"], priority: 0)
        let second = key("second", models: ["small"], priority: 1)
        let third = key("third", models: ["small"], priority: 2)
        for k in [first, second, third] { try await router.register(k) }
        provider.setBehavior(SimulatedBehavior(rateLimitEvery: 1, retryAfter: .seconds(30)), forSecret: first.secret)
        provider.setBehavior(SimulatedBehavior(invalidCredential: true), forSecret: second.secret)
        let events = EventCollector(await router.events())
        let answer = try await router.execute(.small()) { lease in
            try await provider.complete(lease, inputTokens: 100, maxOutputTokens: 50)
        }
        #expect(answer.contains("third"))
        #expect(try await router.state(of: "first").name == "throttled")
        #expect(try await router.state(of: "second") == .invalid)
        #expect(try await router.quota(of: "third").spend == Money(nanodollars: 100_000 + 100_000))
        let failovers = try await events.finish(router).compactMap(\.failover)
        #expect(failovers.map(\.from) == ["first", "second"])
        #expect(failovers.map(\.attempt) == [1, 2])
    }

    @Test func boundedByAttempts() async throws {
        let router = try makeRouter()
        for id in ["a", "b", "c", "d"] { try await router.register(key(id, models: ["small"])) }
        let calls = Locked(0)
        let error = await expectRouterError(.attemptsExhausted) {
            try await router.execute(.small(), options: ExecuteOptions(maxAttempts: 2)) { _ -> Completion<String> in
                calls.withLock { $0 += 1 }
                throw ProviderFailure.serverError(status: 503)
            }
        }
        #expect(calls.withLock { $0 } == 2)
        #expect(error?.lastFailure == .serverError(status: 503))
    }

    @Test func runsOutOfKeysBeforeAttempts() async throws {
        let router = try makeRouter()
        try await router.register(key("only", models: ["small"]))
        let error = await expectRouterError(.attemptsExhausted) {
            try await router.execute(.small(), options: ExecuteOptions(maxAttempts: 5)) { _ -> Completion<String> in
                throw ProviderFailure.timeout
            }
        }
        #expect(error?.lastFailure == .timeout)
        #expect(error?.noEligibleKey?.counts[.filtered] == 1)
    }

    @Test func nonRetryableFailuresAreRethrownAtOnce() async throws {
        let router = try makeRouter()
        for id in ["a", "b"] { try await router.register(key(id, models: ["small"])) }
        let calls = Locked(0)
        await #expect(throws: ProviderFailure.rejected(status: 400, reason: "context too long")) {
            try await router.execute(.small()) { _ -> Completion<String> in
                calls.withLock { $0 += 1 }
                throw ProviderFailure.rejected(status: 400, reason: "context too long")
            }
        }
        #expect(calls.withLock { $0 } == 1)
        for id: KeyID in ["a", "b"] { #expect(try await router.state(of: id) == .available) }
    }

    @Test func otherErrorsReleaseTheLeaseAndPropagate() async throws {
        struct AppError: Error {}
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"], limits: KeyLimits(maxConcurrentRequests: 1)))
        await #expect(throws: AppError.self) {
            try await router.execute(.small()) { _ -> Completion<Int> in throw AppError() }
        }
        #expect(try await router.quota(of: "k").inFlight == 0)
    }

    @Test func deadlineCancelsTheRunningCallAndReleasesItAsTimeout() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"]))
        let deadline = clock.now() + .seconds(5)
        let task = Task {
            try await router.execute(RouteRequest(model: "small", deadline: deadline)) { _ -> Completion<String> in
                try await clock.sleep(until: deadline + .seconds(100))
                return Completion("late", usage: .none)
            }
        }
        await clock.waitForSleepers(2)
        clock.advance(to: deadline)
        await expectRouterError(.deadlineExceeded) { try await task.value }
        #expect(try await router.quota(of: "k").inFlight == 0)
        #expect(try await router.quota(of: "k").failures == 1)
    }

    @Test func cancellationStopsTheCallAndReleasesTheLease() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"]))
        let task = Task {
            try await router.execute(.small()) { _ -> Completion<String> in
                try await clock.sleep(until: clock.now() + .seconds(3600))
                return Completion("never", usage: .none)
            }
        }
        await clock.waitForSleepers(1)
        task.cancel()
        await #expect(throws: CancellationError.self) { try await task.value }
        let quota = try await router.quota(of: "k")
        #expect(quota.inFlight == 0)
        #expect(quota.state == .available)
    }

    @Test func waitsForTheEarliestCooldownWithinTheDeadline() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"]))
        try await router.release(try await router.route(.small()), failure: .rateLimited(retryAfter: .seconds(10)))
        let start = clock.now()
        let task = Task {
            try await router.execute(RouteRequest(model: "small", deadline: start + .seconds(60)), options: ExecuteOptions(waitForCooldown: true)) { lease in
                Completion(lease.keyID, usage: .none)
            }
        }
        await clock.waitForSleepers(1)
        #expect(clock.nextDeadline == start + .seconds(10))
        clock.advance(by: .seconds(10))
        #expect(try await task.value == "k")

        // A cooldown that ends after the deadline fails fast instead of waiting.
        try await router.release(try await router.route(.small()), failure: .rateLimited(retryAfter: .seconds(120)))
        await expectRouterError(.deadlineExceeded) {
            try await router.execute(RouteRequest(model: "small", deadline: clock.now() + .seconds(60)), options: ExecuteOptions(waitForCooldown: true)) { lease in
                Completion(lease.keyID, usage: .none)
            }
        }
    }
}
