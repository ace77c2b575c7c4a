import RouterSDK
import RouterTesting
import Testing

/// Budget definitions are versioned in the store like keys: replicas setting the same budget
/// write it once, a change is a compare-and-set on the version the changer knows, nothing
/// overwrites a definition its writer had not seen, and fleet sync spreads changes.
@Suite struct BudgetVersionTests {
    static let daily = Budget(id: "daily", period: .day, limit: Money(dollars: 5))

    static func changed(_ budget: Budget, dollars: Int64) -> Budget {
        var copy = budget
        copy.limit = Money(dollars: dollars)
        return copy
    }

    @Test func replicasSettingTheSameBudgetWriteItOnce() async throws {
        let store = InMemoryStateStore()
        let first = try makeRouter(store: store)
        let second = try makeRouter(store: store)
        try await first.setBudget(Self.daily)
        try await second.setBudget(Self.daily)
        try await first.setBudget(Self.daily)
        let stored = try await store.loadBudgets()
        #expect(stored.map(\.budget) == [Self.daily])
        #expect(stored.map(\.version) == [1])
        #expect(try await first.budgetStatus("daily").version == 1)
        #expect(try await second.budgetStatus("daily").version == 1)
    }

    /// A replica started with a different definition than the one in the store does not
    /// overwrite it: it follows the stored one and says so; setting again replaces it.
    @Test func aDifferentDefinitionNobodyHereHadSeenIsNotOverwritten() async throws {
        let store = InMemoryStateStore()
        let first = try makeRouter(store: store)
        let second = try makeRouter(store: store)
        try await first.setBudget(Self.daily)
        let error = await expectRouterError(.versionConflict) { try await second.setBudget(Self.changed(Self.daily, dollars: 9)) }
        #expect(error?.budgetID == "daily")
        #expect(error?.message.contains("version 1") == true)
        #expect(try await store.loadBudgets().map(\.budget) == [Self.daily])
        #expect(try await second.budgetStatus("daily").budget == Self.daily)
        // Deliberately again: now it replaces the version it follows.
        try await second.setBudget(Self.changed(Self.daily, dollars: 9))
        let stored = try await store.loadBudgets()
        #expect(stored.map(\.budget) == [Self.changed(Self.daily, dollars: 9)])
        #expect(stored.map(\.version) == [2])
    }

    /// Two instances changing one budget: the second's change is over a version it no longer
    /// has, so it is refused instead of silently undoing the first's.
    @Test func concurrentChangesAreCompareAndSet() async throws {
        let store = InMemoryStateStore()
        let first = try makeRouter(store: store)
        let second = try makeRouter(store: store)
        try await first.setBudget(Self.daily)
        try await second.setBudget(Self.daily)
        try await first.setBudget(Self.changed(Self.daily, dollars: 7))
        await expectRouterError(.versionConflict) { try await second.setBudget(Self.changed(Self.daily, dollars: 3)) }
        #expect(try await store.loadBudgets().map(\.budget.limit) == [Money(dollars: 7)])
        #expect(try await second.budgetStatus("daily").version == 2)
        // The same change as the store's is no conflict: it is adopted.
        let third = try makeRouter(store: store)
        try await third.setBudget(Self.changed(Self.daily, dollars: 7))
        #expect(try await third.budgetStatus("daily").version == 2)
        #expect(try await store.loadBudgets().map(\.version) == [2])
    }

    /// `restore()` then `setBudget` is "this configuration is the truth": it replaces the
    /// version it restored.
    @Test func restoreThenSetReplacesTheRestoredVersion() async throws {
        let store = InMemoryStateStore()
        try await makeRouter(store: store).setBudget(Self.daily)
        let restarted = try makeRouter(store: store)
        try await restarted.restore()
        #expect(try await restarted.budgetStatus("daily").version == 1)
        try await restarted.setBudget(Self.changed(Self.daily, dollars: 12))
        #expect(try await store.loadBudgets().map(\.version) == [2])
    }

    /// A budget removed from the store behind this router's back is saved anew when set again.
    @Test func aBudgetTheStoreLostIsSavedAnew() async throws {
        let store = InMemoryStateStore()
        let router = try makeRouter(store: store)
        try await router.setBudget(Self.daily)
        try await store.deleteBudget("daily")
        try await router.setBudget(Self.changed(Self.daily, dollars: 6))
        let stored = try await store.loadBudgets()
        #expect(stored.map(\.budget.limit) == [Money(dollars: 6)])
        #expect(stored.map(\.version) == [1])
    }

    static func revised(_ budget: Budget, _ revision: Int, dollars: Int64) -> Budget {
        var copy = changed(budget, dollars: dollars)
        copy.revision = revision
        return copy
    }

    /// A rolling deploy: replicas of the old configuration (revision 1) and the new one
    /// (revision 2) start in any order, some after `restore()`; the newer revision wins in the
    /// store whichever starts last, and the old replicas follow it.
    @Test func operatorRevisionsDecideWhichDefinitionWinsAcrossARollingDeploy() async throws {
        let store = InMemoryStateStore()
        let old = Self.revised(Self.daily, 1, dollars: 5)
        let new = Self.revised(Self.daily, 2, dollars: 8)
        let oldReplica = try makeRouter(store: store)
        try await oldReplica.setBudget(old)
        // The new configuration replaces a definition it had not seen, without a second call.
        let newReplica = try makeRouter(store: store)
        try await newReplica.setBudget(new)
        #expect(try await store.loadBudgets().map(\.budget) == [new])
        #expect(try await store.loadBudgets().map(\.version) == [2])
        // An old replica restarting: with or without restore() first it cannot undo revision 2.
        let restarted = try makeRouter(store: store)
        try await restarted.restore()
        let error = await expectRouterError(.versionConflict) { try await restarted.setBudget(old) }
        #expect(error?.message.contains("older than the stored revision 2") == true)
        let fresh = try makeRouter(store: store)
        await expectRouterError(.versionConflict) { try await fresh.setBudget(old) }
        #expect(try await fresh.budgetStatus("daily").budget == new)
        // The replica that wrote revision 1 refuses it now too, once it has followed revision 2.
        try await oldReplica.restore()
        await expectRouterError(.versionConflict) { try await oldReplica.setBudget(old) }
        #expect(try await store.loadBudgets().map(\.budget) == [new])
        #expect(try await store.loadBudgets().map(\.version) == [2])
        // A change without a new revision is refused: the revision is how a change is told apart.
        let sameRevision = await expectRouterError(.versionConflict) { try await newReplica.setBudget(Self.revised(Self.daily, 2, dollars: 9)) }
        #expect(sameRevision?.message.contains("raise the revision") == true)
        try await newReplica.setBudget(Self.revised(Self.daily, 3, dollars: 9))
        #expect(try await store.loadBudgets().map(\.version) == [3])
    }

    /// Replicas racing to set revisions 2..5 over revision 1: each lost compare-and-set is read
    /// and retried while it is newer, so the store ends at the highest revision.
    @Test func theHighestRevisionWinsARace() async throws {
        let store = InMemoryStateStore()
        try await makeRouter(store: store).setBudget(Self.revised(Self.daily, 1, dollars: 1))
        let replicas = try (2...5).map { _ in try makeRouter(store: store) }
        await withTaskGroup(of: Void.self) { group in
            for (offset, replica) in replicas.enumerated() {
                group.addTask { try? await replica.setBudget(Self.revised(Self.daily, offset + 2, dollars: Int64(offset + 2))) }
            }
        }
        #expect(try await store.loadBudgets().map(\.budget) == [Self.revised(Self.daily, 5, dollars: 5)])
    }

    @Test func badBudgetsAreRefusedBeforeAnythingIsWritten() async throws {
        let store = InMemoryStateStore()
        let router = try makeRouter(store: store)
        await expectRouterError(.invalidArgument) { try await router.setBudget(Budget(id: "", period: .day, limit: 1)) }
        await expectRouterError(.unknownModel) { try await router.setBudget(Budget(id: "m", scope: .model("no-such-model"), period: .day, limit: 1)) }
        await expectRouterError(.invalidArgument) { try await router.setBudget(Self.revised(Self.daily, -1, dollars: 5)) }
        #expect(try await store.loadBudgets().isEmpty)
        await expectRouterError(.unknownBudget) { try await router.removeBudget("daily") }
    }

    @Test func storeFailuresChangeNothingHere() async throws {
        let store = FaultInjectingStateStore()
        let router = try makeRouter(store: store)
        store.failKeyWrites(true)
        await expectRouterError(.storeFailure) { try await router.setBudget(Self.daily) }
        await expectRouterError(.unknownBudget) { try await router.budgetStatus("daily") }
        store.failKeyWrites(false)
        try await router.setBudget(Self.daily)
        store.failKeyWrites(true)
        await expectRouterError(.storeFailure) { try await router.setBudget(Self.changed(Self.daily, dollars: 8)) }
        #expect(try await router.budgetStatus("daily").budget == Self.daily)
        await expectRouterError(.storeFailure) { try await router.removeBudget("daily") }
        #expect(try await router.budgetStatus("daily").version == 1)
    }

    /// In fleet mode a budget set, changed or removed through one instance (or in the store)
    /// reaches the others at their next sync; one new to an instance comes with its spend.
    @Test func fleetSyncSpreadsBudgetChanges() async throws {
        let store = InMemoryStateStore()
        let clock = ManualClock()
        func instance(_ id: String) async throws -> LLMRouter {
            let router = try makeRouter(clock: clock, store: store) {
                $0.fleet = FleetBudgets(instanceID: id, keySyncInterval: .seconds(2))
                $0.persistence.acknowledgement = .committed
            }
            try await router.register(key("k1", models: ["small"]))
            return router
        }
        let a = try await instance("a")
        let b = try await instance("b")
        let team = Budget(id: "team", period: .day, limit: Money(dollars: 50), enforcement: .soft)
        try await a.setBudget(team)
        let lease = try await a.route(RouteRequest(model: "small", estimatedInputTokens: 1_000, maxOutputTokens: 1_000))
        try await a.settle(lease, usage: Usage(inputTokens: 1_000, outputTokens: 1_000))
        let spent = try await a.budgetStatus("team").spent
        #expect(spent > .zero)
        await expectRouterError(.unknownBudget) { try await b.budgetStatus("team") }
        clock.advance(by: .seconds(2))
        #expect(await eventually { (try? await b.budgetStatus("team"))?.spent == spent })
        #expect(try await b.budgetStatus("team").version == 1)
        // A change through A.
        try await a.setBudget(Self.changed(team, dollars: 80))
        clock.advance(by: .seconds(2))
        #expect(await eventually { (try? await b.budgetStatus("team"))?.budget.limit == Money(dollars: 80) })
        #expect(try await b.budgetStatus("team").version == 2)
        #expect(try await b.budgetStatus("team").spent == spent)
        // A change in the store directly, then a removal through A.
        let stored = try #require(try await store.loadBudgets().first)
        try await store.saveBudget(StoredBudget(budget: Self.changed(team, dollars: 90), version: 3, updatedAt: clock.now()), expectedVersion: stored.version)
        clock.advance(by: .seconds(2))
        #expect(await eventually { (try? await a.budgetStatus("team"))?.version == 3 })
        #expect(await eventually { (try? await b.budgetStatus("team"))?.budget.limit == Money(dollars: 90) })
        try await a.removeBudget("team")
        clock.advance(by: .seconds(2))
        #expect(await eventually { (try? await b.budgetStatus("team")) == nil })
        try await a.shutdown()
        try await b.shutdown()
    }

    /// Waits (yielding, never sleeping) until `condition` holds; false if it never does.
    func eventually(_ condition: () async -> Bool) async -> Bool {
        for _ in 0..<2_000 {
            if await condition() { return true }
            await Task.yield()
        }
        return false
    }
}
