import RouterSDK
import RouterTesting
import Testing

/// Leases always come back: rejected usage, callers that never settle, the scoped API.
@Suite struct LeaseLifecycleTests {
    @Test func settleWithNegativeUsageConsumesTheLeaseAtItsReservation() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"], limits: KeyLimits(maxConcurrentRequests: 1)))
        try await router.setBudget(Budget(id: "cap", period: .day, limit: Money(dollars: 1)))
        let lease = try await router.route(.small())
        let error = await expectRouterError(.invalidArgument) {
            try await router.settle(lease, usage: Usage(inputTokens: -5, outputTokens: 10))
        }
        #expect(error?.message.contains("reserved cost") == true)
        // Consumed: a second settle is refused, and the only concurrency slot is free again.
        await expectRouterError(.leaseNotActive) { try await router.settle(lease, usage: Usage(inputTokens: 1, outputTokens: 1)) }
        let status = try await router.budgetStatus("cap")
        #expect(status.reserved == .zero)
        #expect(status.spent == lease.reservedCost)
        let next = try await router.route(.small())
        try await router.settle(next, usage: Usage(inputTokens: 1, outputTokens: 1))
    }

    @Test func intMaxTokenCountsNeverTrapAndAreRefused() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"], limits: KeyLimits(tokensPerMinute: 1_000_000, maxConcurrentRequests: 1)))
        let lease = try await router.route(.small())
        await expectRouterError(.invalidArgument) {
            try await router.settle(lease, usage: Usage(inputTokens: .max, outputTokens: .max))
        }
        let released = try await router.route(.small())
        await expectRouterError(.invalidArgument) {
            try await router.release(released, failure: .serverError(status: 500), usage: Usage(inputTokens: .max, outputTokens: 1))
        }
        // Both leases were consumed; the key still routes.
        _ = try await router.route(.small())
    }

    @Test func providerReportsAreClampedIntoThePlausibleRange() {
        #expect(Usage.reported(inputTokens: .max, outputTokens: -3) == Usage(inputTokens: Usage.maximumTokens, outputTokens: 0))
        #expect(Usage.reported(inputTokens: 12, outputTokens: 34) == Usage(inputTokens: 12, outputTokens: 34))
    }

    @Test func aLeaseNeverSettledIsReclaimedAfterItsTimeToLive() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock) { $0.leaseTimeToLive = .seconds(30) }
        let events = EventCollector(await router.events())
        try await router.register(key("k", models: ["small"], limits: KeyLimits(tokensPerMinute: 2_500, maxConcurrentRequests: 1)))
        try await router.setBudget(Budget(id: "cap", period: .day, limit: Money(dollars: 1)))
        // A caller that routes and is cancelled (or crashes its task) before settling.
        let abandoned = try await router.route(.small())
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        #expect(try await router.budgetStatus("cap").reserved == abandoned.reservedCost)
        clock.advance(by: .seconds(29))
        await expectRouterError(.noEligibleKey) { try await router.route(.small()) }
        clock.advance(by: .seconds(2))
        // Reclaimed: the slot, the reservation and the reserved TPM tokens are back.
        let next = try await router.route(.small())
        #expect(try await router.budgetStatus("cap").reserved == next.reservedCost)
        try await router.settle(next, usage: Usage(inputTokens: 1000, outputTokens: 0))
        // A settle arriving after the TTL is still charged what the call used, once.
        let late = try await router.settle(abandoned, usage: Usage(inputTokens: 500, outputTokens: 0))
        #expect(late.cost == Money(nanodollars: 500_000))
        #expect(try await router.budgetStatus("cap").spent == Money(nanodollars: 1_500_000))
        await expectRouterError(.leaseNotActive) { try await router.settle(abandoned, usage: .none) }
        let expired = try await events.finish(router).compactMap { event -> LeaseExpiry? in
            if let expiry = event.leaseExpiry { return expiry }
            return nil
        }
        #expect(expired.map(\.leaseID) == [abandoned.id])
        #expect(expired.first?.reservedCost == abandoned.reservedCost)
    }

    @Test func withLeaseSettlesOnSuccessAndReleasesWithTheFailureOnThrow() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"]))
        try await router.setBudget(Budget(id: "cap", period: .day, limit: Money(dollars: 1)))
        let answer = try await router.withLease(.small()) { lease in
            Completion("hello from \(lease.keyID)", usage: Usage(inputTokens: 100, outputTokens: 10))
        }
        #expect(answer == "hello from k")
        #expect(try await router.budgetStatus("cap").spent == Money(nanodollars: 120_000))
        // A thrown provider failure releases the lease with it (the key cools down) and is rethrown as is.
        do {
            _ = try await router.withLease(.small()) { _ -> Completion<String> in
                throw ProviderFailure.rateLimited(retryAfter: .seconds(20))
            }
            Issue.record("expected the failure to be rethrown")
        } catch let failure as ProviderFailure {
            #expect(failure == .rateLimited(retryAfter: .seconds(20)))
        }
        let status = try await router.budgetStatus("cap")
        #expect(status.reserved == .zero)
        #expect(try await router.state(of: "k") == .throttled(until: clock.now() + .seconds(20)))
        // Any other error releases the lease as rejected.
        clock.advance(by: .seconds(21))
        struct Oops: Error {}
        await #expect(throws: Oops.self) {
            try await router.withLease(.small()) { _ -> Completion<Int> in throw Oops() }
        }
        #expect(try await router.budgetStatus("cap").reserved == .zero)
        #expect(try await router.state(of: "k") == .available)
    }
}
