import Foundation
import RouterSDK
import RouterTesting
import Testing

/// The StateStore contract, run against every backend (see ``Backend``). One suite, no copies.
@Suite struct StoreConformanceTests {
    @Test(arguments: Backend.allCases)
    func pingAnswers(backend: Backend) async throws {
        try await withStore(backend) { try await $0.store.ping() }
    }

    @Test(arguments: Backend.allCases)
    func keysCRUDWithOptimisticVersions(backend: Backend) async throws {
        try await withStore(backend) { fixture in
            let store = fixture.store
            try await store.saveKey(try sampleKey("b"), expectedVersion: nil)
            try await store.saveKey(try sampleKey("a"), expectedVersion: nil)
            await expectCode(.versionConflict) { try await store.saveKey(try sampleKey("a"), expectedVersion: nil) }
            await expectCode(.unknownKey) { try await store.saveKey(try sampleKey("zzz", version: 2), expectedVersion: 1) }
            var updated = try sampleKey("a", version: 2, state: .throttled(until: epoch + .seconds(30)))
            updated.settings.weight = 7
            try await store.saveKey(updated, expectedVersion: 1)
            await expectCode(.versionConflict) { try await store.saveKey(try sampleKey("a", version: 3), expectedVersion: 1) }
            let keys = try await store.loadKeys()
            #expect(keys.map(\.id) == ["a", "b"])
            #expect(keys[0] == updated)
            #expect(try SecretSealer(current: testMasterKey).open(keys[0].sealedSecret) == Secret("sk-plaintext-a-SECRETVALUE"))
            try await store.deleteKey("a")
            await expectCode(.unknownKey) { try await store.deleteKey("a") }
            #expect(try await store.loadKeys().map(\.id) == ["b"])
        }
    }

    @Test(arguments: Backend.allCases)
    func budgetsCRUD(backend: Backend) async throws {
        try await withStore(backend) { fixture in
            let store = fixture.store
            let daily = Budget(id: "daily", period: .day, limit: Money(dollars: 5), enforcement: .soft, alertThresholds: [10, 90])
            let tenant = Budget(id: "tenant", scope: .tag("t-1"), period: .month, limit: Money(cents: 250))
            try await store.saveBudget(tenant)
            try await store.saveBudget(daily)
            var changed = daily
            changed.limit = Money(dollars: 6)
            try await store.saveBudget(changed)
            #expect(try await store.loadBudgets() == [changed, tenant])
            try await store.deleteBudget("daily")
            await expectCode(.unknownBudget) { try await store.deleteBudget("daily") }
            #expect(try await store.loadBudgets() == [tenant])
        }
    }

    @Test(arguments: Backend.allCases)
    func batchesAndAggregateQueries(backend: Backend) async throws {
        try await withStore(backend) { fixture in
            let store = fixture.store
            let events = [
                usage(1, key: "a", cost: 1_000, tags: ["t1", "t2"], at: 0),
                usage(2, key: "b", provider: .anthropic, model: "claude", cost: 2_500, tags: ["t1"], at: 10),
                usage(3, key: "a", model: "gpt-4o", cost: 300, at: 20),
                usage(4, key: "a", cost: 7, tags: ["t2"], at: 3_600),
            ]
            let transitions = [
                KeyTransition(keyID: "a", from: .available, to: .throttled(until: epoch + .seconds(5)), reason: .rateLimited, detail: "retry-after 5s", at: epoch),
                KeyTransition(keyID: "b", from: .available, to: .invalid, reason: .authInvalid, at: epoch + .seconds(1)),
                KeyTransition(keyID: "a", from: .throttled(until: epoch + .seconds(5)), to: .available, reason: .cooldownElapsed, at: epoch + .seconds(5)),
            ]
            let sample = DecisionSample(leaseID: 1, keyID: "a", model: ModelRef(provider: .openai, name: "gpt-4o-mini"), strategy: .cost, reservedCost: Money(nanodollars: 9), explanation: "chose a", at: epoch)
            try await store.append(StoreBatch(usage: Array(events[0..<2]), transitions: transitions, decisions: [sample]))
            try await store.append(StoreBatch(usage: Array(events[2...])))
            try await store.append(StoreBatch())

            let window = (epoch, epoch + .seconds(60))
            #expect(try await store.usageEvents(from: window.0, to: window.1, limit: 10) == Array(events[0..<3]))
            #expect(try await store.usageEvents(from: epoch, to: epoch + .seconds(86_400), limit: 2) == Array(events[0..<2]))
            #expect(try await store.spend(from: window.0, to: window.1, groupedBy: .total) == ["total": Money(nanodollars: 3_800)])
            #expect(try await store.spend(from: window.0, to: window.1, groupedBy: .key) == ["a": Money(nanodollars: 1_300), "b": Money(nanodollars: 2_500)])
            #expect(try await store.spend(from: window.0, to: window.1, groupedBy: .provider) == ["openai": Money(nanodollars: 1_300), "anthropic": Money(nanodollars: 2_500)])
            #expect(try await store.spend(from: window.0, to: window.1, groupedBy: .model) == [
                "openai/gpt-4o-mini": Money(nanodollars: 1_000), "openai/gpt-4o": Money(nanodollars: 300), "anthropic/claude": Money(nanodollars: 2_500),
            ])
            #expect(try await store.spend(from: epoch, to: epoch + .seconds(86_400), groupedBy: .tag) == ["t1": Money(nanodollars: 3_500), "t2": Money(nanodollars: 1_007)])
            #expect(try await store.spend(from: epoch + .seconds(100_000), to: epoch + .seconds(200_000), groupedBy: .total).isEmpty)
            #expect(try await store.transitions(of: nil, limit: 10) == transitions.reversed())
            #expect(try await store.transitions(of: "a", limit: 1) == [transitions[2]])
            // Restore reads the newest transition of every key in one query.
            #expect(try await store.latestTransitions() == ["a": transitions[2], "b": transitions[1]])
            #expect(try await store.decisionSamples(limit: 5) == [sample])
        }
    }

    @Test(arguments: Backend.allCases)
    func spendCountersAreAtomicUnderConcurrency(backend: Backend) async throws {
        try await withStore(backend) { fixture in
            let store = fixture.store
            let limit = Money(nanodollars: 1_000)
            // 100 tasks race to add 30 each against a limit of 1,000: exactly 33 may succeed.
            let accepted = try await withThrowingTaskGroup(of: Bool.self) { group in
                for _ in 0..<100 {
                    group.addTask { try await store.addSpend(Money(nanodollars: 30), to: "cap", periodStart: epoch, limit: limit) != nil }
                }
                return try await group.reduce(0) { $0 + ($1 ? 1 : 0) }
            }
            #expect(accepted == 33)
            #expect(try await store.spend(of: "cap", periodStart: epoch) == Money(nanodollars: 990))
            #expect(try await store.addSpend(Money(nanodollars: 11), to: "cap", periodStart: epoch, limit: limit) == nil)
            #expect(try await store.addSpend(Money(nanodollars: 10), to: "cap", periodStart: epoch, limit: limit) == limit)
            // Unlimited adds, other periods and batch deltas are independent counters.
            #expect(try await store.addSpend(Money(nanodollars: 5), to: "cap", periodStart: epoch + .seconds(86_400), limit: nil) == Money(nanodollars: 5))
            try await store.append(StoreBatch(spend: [SpendDelta(budgetID: "cap", periodStart: epoch, amount: Money(nanodollars: 50))]))
            #expect(try await store.spend(of: "cap", periodStart: epoch) == Money(nanodollars: 1_050))
            #expect(try await store.spend(of: "other", periodStart: epoch) == .zero)
        }
    }

    /// A batch whose commit succeeded but whose reply was lost is sent again unchanged: the
    /// store applies it once — events, transitions and spend alike.
    @Test(arguments: Backend.allCases)
    func batchesWithAnIDAreAppliedExactlyOnce(backend: Backend) async throws {
        try await withStore(backend) { fixture in
            let store = fixture.store
            func batch(_ writer: String, _ sequence: Int64, lease: UInt64) -> StoreBatch {
                StoreBatch(
                    id: BatchID(writer: writer, sequence: sequence),
                    usage: [usage(lease, key: "a", cost: 100, tags: ["t"], at: 0)],
                    transitions: [KeyTransition(keyID: "a", from: .available, to: .invalid, reason: .authInvalid, at: epoch)],
                    spend: [SpendDelta(budgetID: "cap", periodStart: epoch, amount: Money(nanodollars: 100))])
            }
            try await store.append(batch("w1", 1, lease: 1))
            try await store.append(batch("w1", 1, lease: 1))  // the retry of a committed batch
            try await store.append(batch("w1", 2, lease: 2))
            try await store.append(batch("w1", 1, lease: 1))  // an older batch, late: ignored too
            try await store.append(batch("w2", 1, lease: 3))  // another writer's first batch
            let events = try await store.usageEvents(from: epoch, to: epoch + .seconds(1), limit: 10)
            #expect(events.map(\.leaseID) == [1, 2, 3])
            #expect(try await store.spend(of: "cap", periodStart: epoch) == Money(nanodollars: 300))
            #expect(try await store.spend(from: epoch, to: epoch + .seconds(1), groupedBy: .tag) == ["t": Money(nanodollars: 300)])
            #expect(try await store.transitions(of: "a", limit: 10).count == 3)
            // Batches without an id are one-off writes, applied each time.
            try await store.append(StoreBatch(spend: [SpendDelta(budgetID: "cap", periodStart: epoch, amount: Money(nanodollars: 1))]))
            try await store.append(StoreBatch(spend: [SpendDelta(budgetID: "cap", periodStart: epoch, amount: Money(nanodollars: 1))]))
            #expect(try await store.spend(of: "cap", periodStart: epoch) == Money(nanodollars: 302))
        }
    }

    @Test(arguments: Backend.allCases)
    func retentionPrunesOldRecordsAndKeepsSpendCounters(backend: Backend) async throws {
        try await withStore(backend) { fixture in
            let store = fixture.store
            try await store.append(StoreBatch(
                usage: [usage(1, key: "a", cost: 10, tags: ["t"], at: 0), usage(2, key: "a", cost: 20, tags: ["t"], at: 100), usage(3, key: "a", cost: 30, at: 200)],
                transitions: [KeyTransition(keyID: "a", from: .available, to: .invalid, reason: .authInvalid, at: epoch + .seconds(50))],
                spend: [SpendDelta(budgetID: "b", periodStart: epoch, amount: Money(nanodollars: 60))]))
            #expect(try await store.ledgerSize() == 3)
            #expect(try await store.pruneLedger(before: epoch + .seconds(150)) == 2)
            #expect(try await store.ledgerSize() == 1)
            let all = (epoch - .seconds(1), epoch + .seconds(1_000))
            #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 10).map(\.leaseID) == [3])
            #expect(try await store.spend(from: all.0, to: all.1, groupedBy: .tag).isEmpty)
            #expect(try await store.transitions(of: "a", limit: 10).isEmpty)
            #expect(try await store.spend(of: "b", periodStart: epoch) == Money(nanodollars: 60))
            #expect(try await store.pruneLedger(before: epoch) == 0)
        }
    }

    @Test(arguments: Backend.allCases.filter(\.isPersistent))
    func reopenReadsEverythingBack(backend: Backend) async throws {
        try await withStore(backend) { fixture in
            try await fixture.store.saveKey(try sampleKey("a"), expectedVersion: nil)
            try await fixture.store.saveBudget(Budget(id: "b", period: .total, limit: 1))
            try await fixture.store.append(StoreBatch(
                usage: [usage(1, key: "a", cost: 42, tags: ["x"], at: 0)],
                transitions: [KeyTransition(keyID: "a", from: .available, to: .invalid, reason: .authInvalid, at: epoch)],
                spend: [SpendDelta(budgetID: "b", periodStart: Timestamp(nanosecondsSinceEpoch: 0), amount: Money(nanodollars: 42))]))
            let written = try await fixture.store.loadKeys()
            let reopened = try await fixture.reopen()
            #expect(try await reopened.loadKeys() == written)
            #expect(written.count == 1)
            #expect(try await reopened.loadBudgets().map(\.id) == ["b"])
            #expect(try await reopened.usageEvents(from: epoch, to: epoch + .seconds(1), limit: 5).map(\.cost) == [Money(nanodollars: 42)])
            #expect(try await reopened.transitions(of: "a", limit: 5).map(\.reason) == [.authInvalid])
            #expect(try await reopened.spend(of: "b", periodStart: Timestamp(nanosecondsSinceEpoch: 0)) == Money(nanodollars: 42))
        }
    }
}
