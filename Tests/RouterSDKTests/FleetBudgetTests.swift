import Foundation
import RouterSDK
import RouterTesting
import Testing

/// Fleet budgets in one process: two routers on one store stand for two instances. (The
/// cross-process proof, with real processes on every backend, is StoreTests' ProcessTests.)
@Suite struct FleetBudgetTests {
    /// Slices of $0.03 or a tenth of what is ungranted; no background renewal, so each test
    /// sees exactly the grants its requests cause.
    static let fleet = FleetBudgets(slicePermille: 100, minimumSlice: Money(nanodollars: 30_000_000), renewBelowPermille: 0)
    /// Reserves $0.003 on `small`; settled at 1,000 + 500 tokens it costs $0.002.
    static let request = RouteRequest(model: "small", estimatedInputTokens: 1_000, maxOutputTokens: 1_000)
    static let usage = Usage(inputTokens: 1_000, outputTokens: 500)
    static let epoch = Timestamp(nanosecondsSinceEpoch: 0)

    /// Everything granted or retired in a budget period's slice ledger, read from the store: the
    /// figure the store keeps within the limit.
    static func granted(_ store: any StateStore, _ budget: String, _ periodStart: Timestamp = epoch) async throws -> Money {
        guard let record = try await store.sharedRecord("fleet/\(budget)/\(periodStart.nanosecondsSinceEpoch)") else { return .zero }
        return try JSONDecoder().decode(SliceLedgerFigures.self, from: Data(record.body.utf8)).total
    }

    func instance(_ id: String, store: InMemoryStateStore, clock: ManualClock = ManualClock(), budget: Budget) async throws -> LLMRouter {
        let router = try makeRouter(clock: clock, store: store) {
            $0.fleet = Self.fleet
            $0.persistence.acknowledgement = .committed
        }
        try await router.register(key(id, models: ["small"]))
        try await router.setBudget(budget)
        return router
    }

    /// Two instances on one store with clocks of their own: A's never moves, as if A had died
    /// after its first request; B's is returned to move.
    func deadAndLive(_ budget: Budget) async throws -> (InMemoryStateStore, a: LLMRouter, b: LLMRouter, clockB: ManualClock) {
        let store = InMemoryStateStore()
        let clockB = ManualClock()
        let a = try await instance("a", store: store, clock: ManualClock(), budget: budget)
        let b = try await instance("b", store: store, clock: clockB, budget: budget)
        return (store, a, b, clockB)
    }

    @Test func fleetBudgetsNeedCommittedAcknowledgement() async throws {
        // An in-memory store defaults to buffered acknowledgement: refused, with the fix named.
        let error = await expectRouterError(.invalidArgument) { try makeRouter { $0.fleet = FleetBudgets() } }
        #expect(error?.message.contains("committed") == true)
        await expectRouterError(.invalidArgument) { try makeRouter { $0.fleet = FleetBudgets(slicePermille: 0) } }
        await expectRouterError(.invalidArgument) { try makeRouter { $0.fleet = FleetBudgets(minimumSlice: .zero) } }
        let coverage = await expectRouterError(.invalidArgument) {
            try makeRouter {
                $0.fleet = FleetBudgets(sliceCoverage: .zero)
                $0.persistence.acknowledgement = .committed
            }
        }
        #expect(coverage?.message.contains("sliceCoverage") == true)
    }

    @Test func eachInstanceSpendsOnlyItsSlicesAndShutdownReturnsWhatItDidNotSpend() async throws {
        let store = InMemoryStateStore()
        let budget = Budget(id: "b", period: .total, limit: Money(decimal: "0.30")!)
        let a = try await instance("a", store: store, budget: budget)
        let b = try await instance("b", store: store, budget: budget)
        try await a.settle(try await a.route(Self.request), usage: Self.usage)
        #expect(try await Self.granted(store, "b", Self.epoch) == Money(decimal: "0.03")!)
        try await b.settle(try await b.route(Self.request), usage: Self.usage)
        #expect(try await Self.granted(store, "b", Self.epoch) == Money(decimal: "0.06")!)
        #expect(try await store.spend(of: "b", periodStart: Self.epoch) == Money(decimal: "0.004")!)
        // Each instance's own status shows its spend; the fleet status shows everyone's.
        #expect(try await a.budgetStatus("b").spent == Money(decimal: "0.002")!)
        let fleetStatus = try await a.fleetBudgetStatus("b")
        #expect(fleetStatus.spent == Money(decimal: "0.004")!)
        #expect(fleetStatus.fleet == BudgetStatus.FleetShare(spent: Money(decimal: "0.004")!, granted: Money(decimal: "0.06")!, instanceUnused: Money(decimal: "0.028")!))
        try await a.shutdown()
        // A spent $0.002 of its $0.03: the other $0.028 is grantable again.
        #expect(try await Self.granted(store, "b", Self.epoch) == Money(decimal: "0.032")!)
        try await b.shutdown()
        #expect(try await Self.granted(store, "b", Self.epoch) == Money(decimal: "0.004")!)
    }

    @Test func twoInstancesTogetherStopAtTheLimitAndUseNearlyAllOfIt() async throws {
        let store = InMemoryStateStore()
        let limit = Money(decimal: "0.30")!
        let budget = Budget(id: "b", period: .total, limit: limit)
        let instances = [try await instance("a", store: store, budget: budget), try await instance("b", store: store, budget: budget)]
        var refused = [false, false]
        var turn = 0
        while !refused.allSatisfy({ $0 }), turn < 1_000 {
            let index = turn % 2
            turn += 1
            guard !refused[index] else { continue }
            do {
                try await instances[index].settle(try await instances[index].route(Self.request), usage: Self.usage)
            } catch {
                #expect((error as? RouterError)?.code == .budgetExceeded)
                refused[index] = true
            }
        }
        let spent = try await store.spend(of: "b", periodStart: Self.epoch)
        #expect(spent <= limit)
        // What is left over is less than one reservation per instance.
        #expect(spent >= limit - Money(decimal: "0.006")!, "spent \(spent)")
        for router in instances { try await router.shutdown() }
        #expect(try await Self.granted(store, "b", Self.epoch) == spent)
    }

    @Test func aNewPeriodStartsWithNoSliceAndTakesOneOfItsOwn() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        let a = try await instance("a", store: store, clock: clock, budget: Budget(id: "daily", period: .day, limit: Money(decimal: "0.30")!))
        try await a.settle(try await a.route(Self.request), usage: Self.usage)
        let today = try #require(try await a.budgetStatus("daily").periodStart)
        clock.advance(by: .seconds(86_400))
        try await a.settle(try await a.route(Self.request), usage: Self.usage)
        let tomorrow = try #require(try await a.budgetStatus("daily").periodStart)
        #expect(tomorrow > today)
        #expect(try await Self.granted(store, "daily", today) == Money(decimal: "0.03")!)
        #expect(try await Self.granted(store, "daily", tomorrow) == Money(decimal: "0.03")!)
        try await a.shutdown()
    }

    @Test func theSlicesOfAnInstanceWhoseLeaseRanOutAreReclaimedAndItsSpendStays() async throws {
        let budget = Budget(id: "b", period: .total, limit: Money(decimal: "0.30")!)
        let (store, a, b, clockB) = try await deadAndLive(budget)
        try await a.settle(try await a.route(Self.request), usage: Self.usage)
        try await b.settle(try await b.route(Self.request), usage: Self.usage)
        #expect(try await Self.granted(store, "b") == Money(decimal: "0.06")!)
        // Within the TTL plus the grace (30 s + 15 s) A's slice is A's. B reaches the store (its
        // status reads) every 11 s meanwhile, so its store contact is unbroken.
        for _ in 0..<4 {
            clockB.advance(by: .seconds(11))
            _ = try await b.fleetBudgetStatus("b")
        }
        try await b.settle(try await b.route(Self.request), usage: Self.usage)
        // Past it, B's next slice reclaims A's unused $0.028; A's $0.002 stays spent.
        clockB.advance(by: .seconds(2))
        var taken = 0
        while try await b.fleetBudgetStatus("b").fleet?.granted == Money(decimal: "0.06")!, taken < 100 {
            try await b.settle(try await b.route(Self.request), usage: Self.usage)
            taken += 1
        }
        let status = try await b.fleetBudgetStatus("b")
        // A's $0.03 became its $0.002 spent; B holds its first slice and a new one ($0.03, the
        // minimum, more than a tenth of the $0.268 then ungranted).
        #expect(status.fleet?.granted == Money(decimal: "0.062")!)
        #expect(status.fleet?.spent == Money(nanodollars: 2_000_000 * Int64(taken + 3)))
        try await b.shutdown()
        try await a.shutdown()
        // A had nothing left to return: its entry was reclaimed.
        #expect(try await Self.granted(store, "b") == status.fleet!.spent)
    }

    /// Right after a store stall every lease looks run out, and a live instance has not yet
    /// written what it settled meanwhile: nothing is reclaimed until the reclaiming instance has
    /// reached the store without a break for half the TTL plus the writer's longest retry delay
    /// (15 s + 5 s here).
    @Test func expiredLeasesAreReclaimedOnlyAfterUnbrokenStoreContact() async throws {
        let budget = Budget(id: "b", period: .total, limit: Money(decimal: "0.06")!)
        let (store, a, b, clockB) = try await deadAndLive(budget)
        let events = EventCollector(await b.events())
        try await a.settle(try await a.route(Self.request), usage: Self.usage)
        try await b.settle(try await b.route(Self.request), usage: Self.usage)
        #expect(try await Self.granted(store, "b") == budget.limit)
        // B hears nothing from the store for 60 s (a stall), then spends its slice.
        clockB.advance(by: .seconds(60))
        var settled = 0
        while settled < 100, let lease = try? await b.route(Self.request) {
            try await b.settle(lease, usage: Self.usage)
            settled += 1
        }
        // Its $0.028 left covers 13 requests ($0.003 reserved, $0.002 settled each).
        #expect(settled == 13)
        // A's lease ran out 30 s ago, but B has only just reached the store again: refused.
        await expectRouterError(.budgetExceeded) { try await b.route(Self.request) }
        #expect(try await Self.granted(store, "b") == budget.limit)
        // 19 s of unbroken contact is not yet enough.
        for _ in 0..<2 {
            clockB.advance(by: .seconds(9.5))
            _ = try await b.fleetBudgetStatus("b")
        }
        await expectRouterError(.budgetExceeded) { try await b.route(Self.request) }
        // At 20 s A's unspent $0.028 is reclaimed: its $0.002 stays spent, B takes the rest.
        clockB.advance(by: .seconds(1))
        try await b.settle(try await b.route(Self.request), usage: Self.usage)
        let status = try await b.fleetBudgetStatus("b")
        #expect(status.fleet?.granted == budget.limit)
        #expect(status.fleet?.spent == Money(nanodollars: 2_000_000 * Int64(settled + 3)))
        // Needing a first slice is no alert; the store having none left is, once.
        let exhausted = try await events.finish(b).filter { $0.kind == .budgetExhausted }
        #expect(exhausted.count == 1)
        try await a.shutdown()
    }

    /// Leasing costs a handful of store round trips per thousand requests, not one each: four
    /// instances with the default settings (slices of 5% of what is ungranted, the next taken in
    /// the background at half) serve 1,000 requests of a $20 budget.
    @Test func aThousandRequestsCostAHandfulOfStoreRoundTrips() async throws {
        let shared = InMemoryStateStore()
        let clock = ManualClock()
        var instances: [(LLMRouter, FaultInjectingStateStore)] = []
        for index in 0..<4 {
            let store = FaultInjectingStateStore(wrapping: shared)
            let router = try makeRouter(clock: clock, store: store) {
                $0.fleet = FleetBudgets(instanceID: "i\(index)")
                $0.persistence.acknowledgement = .committed
            }
            try await router.register(key("k", models: ["small"]))
            try await router.setBudget(Budget(id: "b", period: .total, limit: Money(dollars: 20)))
            instances.append((router, store))
        }
        for request in 0..<1_000 {
            let router = instances[request % 4].0
            try await router.settle(try await router.route(Self.request), usage: Self.usage)
        }
        for (router, _) in instances { try await router.shutdown() }
        let roundTrips = instances.reduce(0) { $0 + $1.1.sharedRoundTrips }
        // Each instance: a first slice (read + write), background renewals, the return at
        // shutdown (read, spend read, write).
        #expect(roundTrips <= 40, "\(roundTrips) store round trips for 1,000 requests")
        #expect(roundTrips >= 4 * 5, "\(roundTrips): every instance took a slice and returned it")
        #expect(try await shared.spend(of: "b", periodStart: Self.epoch) == Money(decimal: "2")!)
    }

    /// A slice covers about `sliceCoverage` of the instance's recent spending (measured between
    /// its slices), at most `slicePermille` of what is ungranted: spending $0.002 every 10 s, the
    /// second slice is $0.012 (60 s at $0.0002/s), not 10% of the rest; a burst brings the
    /// share back. Without `sliceCoverage` every slice is the share.
    @Test(arguments: [true, false])
    func slicesAreSizedFromTheRecentSpendRate(coverage: Bool) async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        let router = try makeRouter(clock: clock, store: store) {
            $0.fleet = FleetBudgets(
                slicePermille: 100, minimumSlice: Money(nanodollars: 1_000_000), renewBelowPermille: 0, sliceCoverage: coverage ? .seconds(60) : nil)
            $0.persistence.acknowledgement = .committed
        }
        try await router.register(key("k", models: ["small"]))
        try await router.setBudget(Budget(id: "b", period: .total, limit: Money(dollars: 1)))
        func spendUntilTheNextSlice(every interval: Duration) async throws -> Money {
            let before = try await Self.granted(store, "b")
            for _ in 0..<1_000 {
                try await router.settle(try await router.route(Self.request), usage: Self.usage)
                let now = try await Self.granted(store, "b")
                if now != before { return now }
                clock.advance(by: interval)
            }
            Issue.record("no new slice")
            return before
        }
        // The first slice: 10% of $1, the rate not known yet.
        try await router.settle(try await router.route(Self.request), usage: Self.usage)
        #expect(try await Self.granted(store, "b") == Money(decimal: "0.10")!)
        clock.advance(by: .seconds(10))
        // $0.098 spent over 490 s when the slice runs out.
        let slow = try await spendUntilTheNextSlice(every: .seconds(10))
        #expect(slow == (coverage ? Money(decimal: "0.112")! : Money(decimal: "0.19")!))
        guard coverage else { return try await router.shutdown() }
        // A burst ($0.012 in 1 s) outweighs the slow history: the share (10% of $0.888) again.
        clock.advance(by: .seconds(1))
        let burst = try await spendUntilTheNextSlice(every: .zero)
        #expect(burst == Money(decimal: "0.2008")!)
        try await router.shutdown()
    }

    @Test func softBudgetsAreNotSliced() async throws {
        let store = InMemoryStateStore()
        let a = try await instance("a", store: store, budget: Budget(id: "soft", period: .total, limit: Money(decimal: "0.30")!, enforcement: .soft))
        try await a.settle(try await a.route(Self.request), usage: Self.usage)
        #expect(try await Self.granted(store, "soft", Self.epoch) == .zero)
        try await a.shutdown()
    }
}

/// Every replica starts with the same configuration: registering the same keys and budgets
/// from many instances on one store is idempotent.
@Suite struct ReplicaRegistrationTests {
    @Test func replicasRegisteringTheSameKeysAdoptTheStoredOnesAndDifferentKeysAreRefused() async throws {
        let store = InMemoryStateStore()
        let first = try makeRouter(store: store)
        try await first.register(key("shared", models: ["small"]))
        try await first.disable("shared", reason: "maintenance")
        // A second replica starting with the same configuration: no duplicateKeyID, and it sees
        // the key as the store has it (disabled, version 2).
        let second = try makeRouter(store: store)
        try await second.register(key("shared", models: ["small"]))
        #expect(try await second.state(of: "shared") == .disabled(reason: "maintenance"))
        try await second.enable("shared")
        #expect(try await store.loadKeys().first?.version == 3)
        // A different key under the same id is refused, here and in a third replica.
        await expectRouterError(.duplicateKeyID) { try await second.register(key("shared", models: ["small", "large"])) }
        let third = try makeRouter(store: store)
        let error = await expectRouterError(.duplicateKeyID) {
            try await third.register(APIKey(id: "shared", provider: .openai, secret: "sk-another-secret-0123", models: ["small"]))
        }
        #expect(error?.message.contains("different key") == true)
        #expect(await third.keyIDs.isEmpty)
        // Budgets: the same definition from every replica is one budget.
        let budget = Budget(id: "daily", period: .day, limit: Money(dollars: 5))
        try await first.setBudget(budget)
        try await second.setBudget(budget)
        #expect(try await store.loadBudgets().map(\.budget) == [budget])
        #expect(try await store.loadBudgets().map(\.version) == [1])
    }
}

/// What the tests read of a fleet slice ledger (the shared record's JSON).
struct SliceLedgerFigures: Decodable {
    struct Holder: Decodable { var granted: Int64 }
    var holders: [String: Holder]
    var retired: [String: Int64]

    /// Everything granted or retired.
    var total: Money { Money(nanodollars: holders.values.reduce(retired.values.reduce(0, +)) { $0 + $1.granted }) }
}
