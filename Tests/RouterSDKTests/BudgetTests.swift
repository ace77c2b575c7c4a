import RouterSDK
import RouterTesting
import Testing

@Suite struct BudgetTests {
    @Test func hardBudgetRejectsWorstCaseOverrunAndSettleReturnsTheRest() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        // Each request reserves 1,000 in × $1/M + 1,000 out × $2/M = $0.003.
        try await router.setBudget(Budget(id: "cap", period: .day, limit: Money(decimal: "0.005")!))
        let first = try await router.route(.small())
        #expect(try await router.budgetStatus("cap").reserved == Money(decimal: "0.003"))
        let error = await expectRouterError(.budgetExceeded) { try await router.route(.small()) }
        #expect(error?.budgetID == "cap")
        // Settling at the real (smaller) usage frees room for the next request.
        try await router.settle(first, usage: Usage(inputTokens: 1000, outputTokens: 0))
        let status = try await router.budgetStatus("cap")
        #expect(status.spent == Money(decimal: "0.001"))
        #expect(status.reserved == .zero)
        #expect(status.remaining == Money(decimal: "0.004"))
        _ = try await router.route(.small())
    }

    @Test func thousandConcurrentTasksNeverExceedAHardLimitAndEndExact() async throws {
        let router = try makeRouter()
        for index in 0..<8 { try await router.register(key("k\(index)", models: ["small"])) }
        let limit = Money(decimal: "1.000")!
        try await router.setBudget(Budget(id: "global", period: .month, limit: limit))
        let results = await withTaskGroup(of: Money?.self) { group in
            for task in 0..<1_000 {
                group.addTask {
                    let lease: Lease
                    do {
                        lease = try await router.route(.small(input: 1000, output: 1000))
                    } catch {
                        // The only acceptable refusal is the budget's.
                        #expect((error as? RouterError)?.code == .budgetExceeded, "got \(error)")
                        return nil
                    }
                    let check = try? await router.budgetStatus("global")
                    #expect(check.map { $0.spent + $0.reserved <= limit } == true)
                    // Real usage varies but never exceeds the reservation.
                    let usage = Usage(inputTokens: 1000, outputTokens: task % 1000)
                    do {
                        return try await router.settle(lease, usage: usage).cost
                    } catch {
                        Issue.record("settling an active lease failed: \(error)")
                        return nil
                    }
                }
            }
            var costs: [Money] = []
            for await cost in group { if let cost { costs.append(cost) } }
            return costs
        }
        let status = try await router.budgetStatus("global")
        let charged = results.reduce(Money.zero, +)
        #expect(status.spent == charged)
        #expect(status.spent <= limit)
        #expect(status.reserved == .zero)
        #expect(results.count >= 333)  // $1 / $0.003 worst case: at least that many always fit
        // Drain the rest sequentially: the budget stops exactly when a worst case no longer fits.
        while true {
            let lease: Lease
            do {
                lease = try await router.route(.small(input: 1000, output: 1000))
            } catch {
                #expect((error as? RouterError)?.code == .budgetExceeded, "got \(error)")
                break
            }
            try await router.settle(lease, usage: Usage(inputTokens: 1000, outputTokens: 1000))
        }
        let final = try await router.budgetStatus("global")
        #expect(final.spent <= limit)
        #expect(limit - final.spent < Money(decimal: "0.003")!)
    }

    @Test func softBudgetsWarnButAllow() async throws {
        let router = try makeRouter()
        let events = EventCollector(await router.events())
        try await router.register(key("k", models: ["small"]))
        try await router.setBudget(Budget(id: "soft", period: .day, limit: Money(decimal: "0.002")!, enforcement: .soft, alertThresholds: [50, 100]))
        for _ in 0..<3 {
            try await router.settle(try await router.route(.small()), usage: Usage(inputTokens: 1000, outputTokens: 0))
        }
        #expect(try await router.budgetStatus("soft").spent == Money(decimal: "0.003"))
        let collected = try await events.finish(router)
        let thresholds = collected.filter { $0.kind == .budgetThresholdCrossed }.compactMap { $0.budgetAlert?.percent }
        #expect(thresholds == [50, 100])
        let exhausted = collected.filter { $0.kind == .budgetExhausted && $0.budgetAlert?.enforcement == .soft }
        #expect(exhausted.count == 1)
    }

    @Test func periodsRollOverOnTheUTCCalendar() async throws {
        let clock = ManualClock(now: Timestamp(secondsSinceEpoch: 1_767_225_600 - 10))  // 2025-12-31T23:59:50Z
        let router = try makeRouter(clock: clock)
        try await router.register(key("k", models: ["small"]))
        try await router.setBudget(Budget(id: "daily", period: .day, limit: Money(decimal: "0.003")!))
        try await router.setBudget(Budget(id: "monthly", period: .month, limit: Money(dollars: 10)))
        try await router.settle(try await router.route(.small()), usage: Usage(inputTokens: 1000, outputTokens: 1000))
        await expectRouterError(.budgetExceeded) { try await router.route(.small()) }
        clock.advance(by: .seconds(10))
        let daily = try await router.budgetStatus("daily")
        #expect(daily.spent == .zero)
        #expect(daily.periodStart == Timestamp(secondsSinceEpoch: 1_767_225_600))
        #expect(try await router.budgetStatus("monthly").spent == .zero)
        _ = try await router.route(.small())
    }

    @Test func scopesApplyOnlyWhereTheyShould() async throws {
        let router = try makeRouter()
        try await router.register(key("a", models: ["small"]))
        try await router.register(key("b", models: ["small"]))
        try await router.register(key("c", provider: .anthropic, models: ["claude"]))
        try await router.setBudget(Budget(id: "key-a", scope: .key("a"), period: .total, limit: .zero))
        try await router.setBudget(Budget(id: "tenant", scope: .tag("tenant-1"), period: .total, limit: .zero))
        try await router.setBudget(Budget(id: "anthropic", scope: .provider(.anthropic), period: .total, limit: .zero))
        try await router.setBudget(Budget(id: "large", scope: .model("large"), period: .total, limit: .zero))
        // Key a is blocked by its own budget: b serves instead.
        for _ in 0..<3 { #expect(try await router.route(.small()).keyID == "b") }
        // Requests tagged for tenant-1 are blocked everywhere.
        await expectRouterError(.budgetExceeded) { try await router.route(RouteRequest(model: "small", maxOutputTokens: 10, tags: ["tenant-1"])) }
        // The anthropic provider budget blocks claude only.
        let error = await expectRouterError(.budgetExceeded) { try await router.route(RouteRequest(model: "claude", maxOutputTokens: 10)) }
        #expect(error?.budgetID == "anthropic")
        // Free requests fit even a zero budget.
        _ = try await router.route(RouteRequest(model: "claude"))
    }

    @Test func reservationIsAllOrNothing() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        try await router.setBudget(Budget(id: "roomy", period: .day, limit: Money(dollars: 100)))
        try await router.setBudget(Budget(id: "tight", scope: .model("small"), period: .day, limit: Money(decimal: "0.001")!))
        await expectRouterError(.budgetExceeded) { try await router.route(.small()) }
        #expect(try await router.budgetStatus("roomy").reserved == .zero)
    }

    @Test func releaseReturnsReservationAndChargesPartialUsage() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        try await router.setBudget(Budget(id: "b", period: .total, limit: Money(dollars: 1)))
        let lease = try await router.route(.small())
        let event = try await router.release(lease, failure: .serverError(status: 500), usage: Usage(inputTokens: 1000, outputTokens: 10))
        #expect(event.cost == Money(nanodollars: 1_020_000))
        let status = try await router.budgetStatus("b")
        #expect(status.spent == event.cost)
        #expect(status.reserved == .zero)
    }

    @Test func budgetManagementErrors() async throws {
        let router = try makeRouter()
        await expectRouterError(.invalidLimits) { try await router.setBudget(Budget(id: "neg", period: .day, limit: Money(dollars: -1))) }
        await expectRouterError(.invalidArgument) { try await router.setBudget(Budget(id: "", period: .day, limit: 1)) }
        await expectRouterError(.invalidArgument) { try await router.setBudget(Budget(id: "t", period: .day, limit: 1, alertThresholds: [0])) }
        await expectRouterError(.unknownModel) { try await router.setBudget(Budget(id: "m", scope: .model("nope"), period: .day, limit: 1)) }
        await expectRouterError(.unknownBudget) { try await router.budgetStatus("missing") }
        await expectRouterError(.unknownBudget) { try await router.removeBudget("missing") }
        try await router.setBudget(Budget(id: "x", period: .day, limit: 1))
        try await router.removeBudget("x")
        #expect(await router.budgetStatuses().isEmpty)
    }
}

@Suite struct LeaseTests {
    @Test func settleAndReleaseExactlyOnce() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        let lease = try await router.route(.small())
        try await router.settle(lease, usage: .none)
        await expectRouterError(.leaseNotActive) { try await router.settle(lease, usage: .none) }
        await expectRouterError(.leaseNotActive) { try await router.release(lease, failure: .timeout) }
        let other = try await router.route(.small())
        try await router.release(other, failure: .cancelled)
        await expectRouterError(.leaseNotActive) { try await router.settle(other, usage: .none) }
        #expect(try await router.quota(of: "k").inFlight == 0)
    }

    @Test func leasesOfRemovedKeysStillSettleBudgets() async throws {
        let router = try makeRouter()
        try await router.register(key("k", models: ["small"]))
        try await router.setBudget(Budget(id: "b", period: .total, limit: 1))
        let lease = try await router.route(.small())
        try await router.remove("k")
        try await router.register(key("k2", models: ["small"]))
        try await router.settle(lease, usage: Usage(inputTokens: 1000, outputTokens: 0))
        #expect(try await router.budgetStatus("b").spent == Money(nanodollars: 1_000_000))
        #expect(try await router.quota(of: "k2").inFlight == 0)
        await expectRouterError(.unknownKey) { try await router.state(of: "k") }
    }
}
