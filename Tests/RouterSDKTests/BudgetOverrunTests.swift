import RouterSDK
import RouterTesting
import Testing

/// Usage above the reservation: charged in full, reported, and bounded for hard budgets.
@Suite struct BudgetOverrunTests {
    /// 1,000 concurrent tasks whose calls all use three times the input they estimated.
    @Test func overrunsUnderThousandTasksStayWithinTheDocumentedBound() async throws {
        let router = try makeRouter()
        let events = EventCollector(await router.events())
        for index in 0..<8 { try await router.register(key("k\(index)", models: ["small"])) }
        let limit = Money(decimal: "0.500")!
        try await router.setBudget(Budget(id: "global", period: .month, limit: limit))
        // Reserved: 1,000 in × $1/M + 500 out × $2/M = $0.002; charged: 3,000 in + 500 out = $0.004.
        let excesses = await withTaskGroup(of: Money?.self) { group in
            for _ in 0..<1_000 {
                group.addTask {
                    guard let lease = try? await router.route(.small(input: 1000, output: 500)) else { return nil }
                    await Task.yield()
                    guard let event = try? await router.settle(lease, usage: Usage(inputTokens: 3000, outputTokens: 500)) else { return nil }
                    return event.cost - lease.reservedCost
                }
            }
            var excesses: [Money] = []
            for await excess in group { if let excess { excesses.append(excess) } }
            return excesses
        }
        let status = try await router.budgetStatus("global")
        #expect(status.reserved == .zero)
        // The bound: the excess of the leases in flight together at the last admission — at
        // most the excess of every admitted lease.
        let bound = excesses.reduce(Money.zero, +)
        #expect(status.spent <= limit + bound)
        #expect(status.spent > limit, "the calls used more than reserved, so the budget was passed")
        // Once over, the budget admits nothing more, not even a free estimate.
        await expectRouterError(.budgetExceeded) { try await router.route(.small(input: 0, output: 1)) }
        let overruns = try await events.finish(router).compactMap { event -> BudgetOverrun? in
            if let overrun = event.overrun { return overrun }
            return nil
        }
        #expect(!overruns.isEmpty)
        #expect(overruns.allSatisfy { $0.budgetID == "global" && $0.charged > $0.reserved && $0.spent > $0.limit })
    }

    /// The exact bound, made deterministic: every admitted lease is in flight at the last admission.
    @Test func spendExceedsTheLimitByExactlyTheExcessOfTheLeasesInFlight() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        try await router.setBudget(Budget(id: "cap", period: .day, limit: Money(decimal: "0.010")!))
        var leases: [Lease] = []
        while let lease = try? await router.route(.small(input: 1000, output: 1000)) { leases.append(lease) }
        #expect(leases.count == 3)  // $0.003 each: a fourth would pass $0.010
        for lease in leases { try await router.settle(lease, usage: Usage(inputTokens: 2000, outputTokens: 1000)) }
        // 3 × $0.004 = $0.012: $0.002 over the limit, which is 3 × ($0.004 − $0.003) − the $0.001 left unreserved.
        let status = try await router.budgetStatus("cap")
        #expect(status.spent == Money(decimal: "0.012"))
        #expect(status.spent - Money(decimal: "0.010")! <= Money(decimal: "0.003")!)
    }

    @Test func headroomCoveringTheMisestimateKeepsTheLimitExact() async throws {
        let router = try makeRouter { $0.reservationHeadroomPercent = 200 }
        let events = EventCollector(await router.events())
        for index in 0..<8 { try await router.register(key("k\(index)", models: ["small"])) }
        let limit = Money(decimal: "0.500")!
        try await router.setBudget(Budget(id: "global", period: .month, limit: limit))
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<1_000 {
                group.addTask {
                    guard let lease = try? await router.route(.small(input: 1000, output: 500)) else { return }
                    // Reserved 3,000 input tokens (1,000 + 200 %): the real 3,000 fit.
                    #expect(lease.reservedCost == Money(decimal: "0.004"))
                    await Task.yield()
                    _ = try? await router.settle(lease, usage: Usage(inputTokens: 3000, outputTokens: 500))
                }
            }
        }
        #expect(try await router.budgetStatus("global").spent <= limit)
        let overruns = try await events.finish(router).filter { $0.kind == .budgetOverrun }
        #expect(overruns.isEmpty)
    }

    @Test func theDefaultHeadroomIsTenPercentOfTheInputEstimate() async throws {
        let router = try LLMRouter(configuration: RouterConfiguration(masterKey: testMasterKey), catalog: testCatalog())
        try await router.register(key("k", models: ["small"]))
        // 1,000 input + 10 % = 1,100 × $1/M, plus 1,000 × $2/M.
        #expect(try await router.route(.small()).reservedCost == Money(nanodollars: 3_100_000))
        await expectRouterError(.invalidArgument) {
            _ = try LLMRouter(configuration: RouterConfiguration(masterKey: testMasterKey, reservationHeadroomPercent: -1), catalog: testCatalog())
        }
    }
}
