import RouterSDK
import StateStoreConformance
import Testing

/// The StateStore contract, run from its product (StateStoreConformance, the suite third-party
/// backends run) against every backend (see ``Backend``): one suite, no per-backend copies.
@Suite struct StoreConformanceTests {
    /// Every backend × every check, each on a fresh store.
    static var cases: [(Backend, String)] {
        Backend.allCases.flatMap { backend in
            StateStoreConformance.checks.filter { backend.isPersistent || !$0.needsReopen }.map { (backend, $0.name) }
        }
    }

    @Test(arguments: cases)
    func conformance(backend: Backend, check name: String) async throws {
        let check = try #require(StateStoreConformance.check(named: name))
        try await withStore(backend) { fixture in
            var subject = StateStoreConformance.Subject(store: fixture.store)
            if backend.isPersistent {
                subject.reopen = { @Sendable () async throws -> any StateStore in try await fixture.reopen() }
            }
            try await check.run(subject)
        }
    }
}

/// The suite is not vacuous: a store that ignores budget limits in `addSpend` fails the spend
/// check with a ``StateStoreConformance/Failure`` naming it.
@Suite struct ConformanceCatchesBrokenStores {
    /// InMemoryStateStore, except that `addSpend` never refuses.
    final class LimitlessStore: StateStore {
        let base = InMemoryStateStore()
        func ping() async throws {}
        func loadKeys() async throws -> [StoredKey] { try await base.loadKeys() }
        func saveKey(_ key: StoredKey, expectedVersion: Int64?) async throws { try await base.saveKey(key, expectedVersion: expectedVersion) }
        func deleteKey(_ id: KeyID) async throws { try await base.deleteKey(id) }
        func loadBudgets() async throws -> [StoredBudget] { try await base.loadBudgets() }
        func saveBudget(_ budget: StoredBudget, expectedVersion: Int64?) async throws { try await base.saveBudget(budget, expectedVersion: expectedVersion) }
        func deleteBudget(_ id: BudgetID) async throws { try await base.deleteBudget(id) }
        func append(_ batch: StoreBatch) async throws { try await base.append(batch) }
        func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition] { try await base.transitions(of: keyID, limit: limit) }
        func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent] { try await base.usageEvents(from: from, to: to, limit: limit) }
        func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money] { try await base.spend(from: from, to: to, groupedBy: grouping) }
        func decisionSamples(limit: Int) async throws -> [DecisionSample] { try await base.decisionSamples(limit: limit) }
        func pruneLedger(before cutoff: Timestamp) async throws -> Int { try await base.pruneLedger(before: cutoff) }
        func ledgerSize() async throws -> Int { try await base.ledgerSize() }
        func spend(of budget: BudgetID, periodStart: Timestamp) async throws -> Money { try await base.spend(of: budget, periodStart: periodStart) }
        func addSpend(_ amount: Money, to budget: BudgetID, periodStart: Timestamp, limit: Money?) async throws -> Money? {
            try await base.addSpend(amount, to: budget, periodStart: periodStart, limit: nil)
        }
    }

    @Test func aStoreThatIgnoresLimitsFailsTheSpendCheck() async throws {
        let check = try #require(StateStoreConformance.check(named: "spendCountersAreAtomicUnderConcurrency"))
        do {
            try await check.run(StateStoreConformance.Subject(store: LimitlessStore()))
            Issue.record("the broken store passed")
        } catch let failure as StateStoreConformance.Failure {
            #expect(failure.check == "spendCountersAreAtomicUnderConcurrency")
        }
        // The same store passes the checks it does not break.
        try await #require(StateStoreConformance.check(named: "budgetsCRUDWithOptimisticVersions")).run(StateStoreConformance.Subject(store: LimitlessStore()))
    }
}
