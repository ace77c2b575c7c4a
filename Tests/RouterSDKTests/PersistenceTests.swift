import Foundation
import RouterSDK
import RouterTesting
import Testing

@Suite struct PersistenceTests {
    private let all = (Timestamp(nanosecondsSinceEpoch: 0), Timestamp(secondsSinceEpoch: 4_000_000_000))

    @Test func usageAndSpendReachTheStoreInBatches() async throws {
        let store = FaultInjectingStateStore()
        let router = try makeRouter(store: store) { $0.decisionSampleInterval = 10 }
        try await router.register(key("a", models: ["small"]))
        try await router.register(key("c", provider: .anthropic, models: ["claude"]))
        for index in 0..<100 {
            let lease = try await router.route(RouteRequest(model: index.isMultiple(of: 2) ? "small" : "claude", maxOutputTokens: 100, tags: ["team-\(index % 3)"]))
            try await router.settle(lease, usage: Usage(inputTokens: 1000, outputTokens: 100))
        }
        await router.flush()
        let events = try await store.usageEvents(from: all.0, to: all.1, limit: 1_000)
        #expect(events.count == 100)
        #expect(Set(events.map(\.leaseID)).count == 100)
        let byProvider = try await store.spend(from: all.0, to: all.1, groupedBy: .provider)
        // 50 × (1000 × $1/M + 100 × $2/M) and 50 × (1000 × $3/M + 100 × $15/M).
        #expect(byProvider == ["openai": Money(nanodollars: 50 * 1_200_000), "anthropic": Money(nanodollars: 50 * 4_500_000)])
        let total = try await store.spend(from: all.0, to: all.1, groupedBy: .total)["total"]
        #expect(total == (try await router.quota(of: "a")).spend + (try await router.quota(of: "c")).spend)
        #expect(try await store.spend(from: all.0, to: all.1, groupedBy: .tag).count == 3)
        #expect(try await store.spend(from: all.0, to: all.1, groupedBy: .key).keys.sorted() == ["a", "c"])
        #expect(try await store.decisionSamples(limit: 100).count == 10)
        #expect(store.appendedBatchSizes.reduce(0, +) == 110)
    }

    @Test func fullBufferAppliesBackpressureAndLosesNothing() async throws {
        let store = FaultInjectingStateStore(holdingAppends: true)
        let clock = ManualClock()
        let router = try makeRouter(clock: clock, store: store) { $0.persistence = .init(bufferCapacity: 4, batchSize: 2, gatherDelay: .zero) }
        try await router.register(key("a", models: ["small"]))
        let settled = Locked(0)
        let producer = Task {
            for _ in 0..<20 {
                let lease = try await router.route(.small())
                try await router.settle(lease, usage: .none)
                settled.withLock { $0 += 1 }
            }
        }
        // The writer holds 2 records in a blocked batch and 2 more wait: the 5th settle waits for
        // room (its wait is a sleeper on the router's clock until the enqueue timeout).
        #expect(await clock.waitForSleepers(1))
        #expect(settled.withLock { $0 } == 4)
        #expect(router.storeHealth.bufferedRecords == 4)
        store.releaseAppends()
        try await producer.value
        await router.flush()
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 100).count == 20)
        #expect(store.appendedBatchSizes.allSatisfy { $0 <= 2 })
        #expect(router.storeHealth.droppedRecords == 0)
    }

    @Test func aBufferFullPastTheEnqueueTimeoutDropsCountsAndNeverHangs() async throws {
        let store = FaultInjectingStateStore(holdingAppends: true)
        let clock = ManualClock()
        let router = try makeRouter(clock: clock, store: store) {
            $0.persistence = .init(bufferCapacity: 2, batchSize: 2, gatherDelay: .zero, enqueueTimeout: .seconds(1))
        }
        try await router.register(key("a", models: ["small"]))
        for _ in 0..<2 { try await router.settle(try await router.route(.small()), usage: .none) }
        let third = Task { try await router.settle(try await router.route(.small()), usage: .none) }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(1))
        _ = try await third.value  // returned: the caller was not held past the timeout
        #expect(router.storeHealth.droppedRecords == 1)
        store.releaseAppends()
        // Dropped records are reported, never silent: shutdown names them.
        let error = await expectRouterError(.storeFailure) { try await router.shutdown() }
        #expect(error?.message.contains("1 record") == true)
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 100).count == 2)
    }

    @Test func failedWritesAreRetriedWithBackoffUntilTheStoreRecoversExactlyOnce() async throws {
        let store = failingStore(3)
        let clock = ManualClock()
        let router = try makeRouter(clock: clock, store: store)
        let events = EventCollector(await router.events())
        try await router.register(key("a", models: ["small"]))
        for _ in 0..<10 { try await router.settle(try await router.route(.small()), usage: .none) }
        // Each failure backs off on the router's clock: 100 ms, 200 ms, 400 ms.
        var backoffs = 0
        while try await store.usageEvents(from: all.0, to: all.1, limit: 100).count < 10, backoffs < 10 {
            if await clock.waitForSleepers(1, maxYields: 10_000) {
                #expect(router.storeHealth.isAvailable == false)
                clock.advance(by: .seconds(1))
                backoffs += 1
            }
        }
        #expect(backoffs == 3)
        try await router.shutdown()
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 100).count == 10)
        // The failed batch was resent unchanged (same id), and applied once.
        let ids = store.appendedBatchIDs
        #expect(Set(ids).count == ids.count)
        let health = try await events.finish(router).compactMap { event -> Bool? in
            switch event.kind {
            case .storeUnavailable: false
            case .storeRecovered: true
            default: nil
            }
        }
        #expect(health == [false, true])
    }

    @Test func shutdownReportsRecordsTheStoreNeverTook() async throws {
        let store = failingStore(1_000)
        let router = try makeRouter(store: store)
        try await router.register(key("a", models: ["small"]))
        try await router.settle(try await router.route(.small()), usage: .none)
        let error = await expectRouterError(.storeFailure) { try await router.shutdown() }
        #expect(error?.message.contains("1 record") == true)
    }

    @Test func committedSettlesReturnOnlyOnceStoredAndNeverHangOnAnOutage() async throws {
        let store = FaultInjectingStateStore(holdingAppends: true, persistsAcrossRestarts: true)
        let clock = ManualClock()
        let router = try makeRouter(clock: clock, store: store)
        try await router.register(key("a", models: ["small"]))
        try await router.setBudget(Budget(id: "cap", period: .day, limit: Money(dollars: 1)))
        let returned = Locked(false)
        let first = Task {
            try await router.settle(try await router.route(.small()), usage: Usage(inputTokens: 10, outputTokens: 0))
            returned.withLock { $0 = true }
        }
        // The write is in progress (its slow-write timer sleeps on the clock) and blocked.
        #expect(await clock.waitForSleepers(1))
        #expect(returned.withLock { $0 } == false)
        store.releaseAppends()
        try await first.value
        // Returned, so stored: the event and the spend are in the store already.
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 10).count == 1)
        #expect(try await store.spend(of: "cap", periodStart: try await router.budgetStatus("cap").periodStart!) == Money(nanodollars: 10_000))

        // A store that hangs: the settle returns after commitWaitTimeout with its record buffered.
        store.holdAppends()
        let second = Task { try await router.settle(try await router.route(.small()), usage: .none) }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(2))
        _ = try await second.value
        #expect(router.storeHealth.bufferedRecords >= 1)
        store.releaseAppends()
        try await router.shutdown()
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 10).count == 2)
    }

    @Test func committedSettlesStopWaitingAsSoonAsTheStoreFails() async throws {
        let store = failingStore(1_000, persists: true)
        let clock = ManualClock()
        let router = try makeRouter(clock: clock, store: store)
        try await router.register(key("a", models: ["small"]))
        for _ in 0..<5 { try await router.settle(try await router.route(.small()), usage: .none) }
        #expect(router.storeHealth.isAvailable == false)
        #expect(router.storeHealth.lastError?.contains("injected failure") == true)
        store.failAppends(next: 0)
        while try await store.usageEvents(from: all.0, to: all.1, limit: 100).count < 5 {
            if await clock.waitForSleepers(1, maxYields: 10_000) { clock.advance(by: .seconds(5)) }
        }
        #expect(router.storeHealth.isAvailable)
        try await router.shutdown()
    }

    @Test func shutdownDrainsSixtyFourRequestsInFlightIntoTheLedger() async throws {
        let store = InMemoryStateStore()
        let router = try makeRouter(store: store)
        for index in 0..<4 { try await router.register(key("k\(index)", models: ["small"])) }
        var leases: [Lease] = []
        for _ in 0..<64 { leases.append(try await router.route(.small())) }
        let shutdown = Task { try await router.shutdown() }
        // New routes are refused from the moment shutdown starts.
        while (try? await router.route(.small())).map({ lease in Task { try await router.settle(lease, usage: .none) } }) != nil {
            await Task.yield()
        }
        await expectRouterError(.shutDown) { try await router.route(.small()) }
        await withTaskGroup(of: Void.self) { group in
            for lease in leases {
                group.addTask { _ = try? await router.settle(lease, usage: Usage(inputTokens: 5, outputTokens: 5)) }
            }
        }
        try await shutdown.value
        let ledger = try await store.usageEvents(from: all.0, to: all.1, limit: 1_000)
        #expect(Set(ledger.map(\.leaseID)).isSuperset(of: leases.map(\.id)))
    }

    @Test func shutdownStopsWaitingForLeasesAfterTheDrainTimeout() async throws {
        let clock = ManualClock()
        let router = try makeRouter(clock: clock) { $0.drainTimeout = .seconds(10) }
        try await router.register(key("a", models: ["small"]))
        let forgotten = try await router.route(.small())
        let shutdown = Task { try await router.shutdown() }
        #expect(await clock.waitForSleepers(1))
        clock.advance(by: .seconds(10))
        do {
            try await shutdown.value
            Issue.record("expected the outstanding lease to be reported")
        } catch let error as RouterError {
            #expect(error.code == .storeFailure)
            #expect(error.message.contains("\(forgotten.id)"))
        }
    }

    @Test func aPersistentStoreWithoutAMasterKeyIsRefused() async throws {
        let error = await expectRouterError(.invalidMasterKey) {
            _ = try LLMRouter(configuration: RouterConfiguration(), catalog: testCatalog(), store: FaultInjectingStateStore(persistsAcrossRestarts: true))
        }
        #expect(error?.message.contains("ROUTERSDK_MASTER_KEY") == true)
        // In memory a random key is fine: nothing outlives the process.
        _ = try LLMRouter(configuration: RouterConfiguration(), catalog: testCatalog(), store: InMemoryStateStore())
    }

    @Test func aSecondRouterRestoresKeysStatesAndBudgetsFromTheStore() async throws {
        let store = InMemoryStateStore()
        let first = try makeRouter(store: store)
        try await first.register(key("a", models: ["small"], weight: 3, tags: ["eu"]))
        try await first.register(key("b", models: ["small"]))
        try await first.disable("b", reason: "ops")
        try await first.setBudget(Budget(id: "daily", period: .day, limit: 5))
        try await first.shutdown()
        // The store holds sealed secrets only.
        let stored = try await store.loadKeys()
        #expect(stored.map(\.id) == ["a", "b"])
        #expect(stored[1].state == .disabled(reason: "ops"))
        #expect(stored[1].version == 2)

        let second = try makeRouter(store: store)
        try await second.restore()
        #expect(await second.keyIDs == ["a", "b"])
        #expect(try await second.state(of: "b") == .disabled(reason: "ops"))
        #expect(try await second.budgetStatus("daily").budget.limit == 5)
        let lease = try await second.route(RouteRequest(model: "small", requiredKeyTags: ["eu"]))
        #expect(lease.secret == key("a").secret)
        await expectRouterError(.duplicateKeyID) { try await second.register(key("a", models: ["small"])) }
        try await second.register(key("c", models: ["small"]))
        await expectRouterError(.duplicateKeyID) {
            let third = try makeRouter(store: store)
            try await third.register(key("a", models: ["small"]))
        }
        // Restoring with a different master key fails naming the key, not leaking anything.
        let wrongKey = try LLMRouter(configuration: RouterConfiguration(masterKey: MasterKey.random()), catalog: testCatalog(), store: store)
        let error = await expectRouterError(.secretUnsealFailed) { try await wrongKey.restore() }
        #expect(error?.keyID == "a")
    }

    @Test func removeAndUpdatePersistWithVersions() async throws {
        let store = InMemoryStateStore()
        let router = try makeRouter(store: store)
        try await router.register(key("a", models: ["small"]))
        try await router.update("a", settings: KeySettings(provider: .openai, models: ["small", "large"], weight: 4))
        #expect(try await store.loadKeys().first?.settings.weight == 4)
        #expect(try await store.loadKeys().first?.version == 2)
        try await router.remove("a")
        #expect(try await store.loadKeys().isEmpty)
        let stale = StoredKey(id: "x", settings: KeySettings(provider: .openai), sealedSecret: SealedSecret(masterKeyID: "m", combined: .init()), state: .available, version: 1, updatedAt: Timestamp(secondsSinceEpoch: 0))
        try await store.saveKey(stale, expectedVersion: nil)
        await expectRouterError(.versionConflict) { try await store.saveKey(stale, expectedVersion: 7) }
        await expectRouterError(.versionConflict) { try await store.saveKey(stale, expectedVersion: nil) }
    }
}

/// A store whose next `failures` appends fail.
private func failingStore(_ failures: Int, persists: Bool = false) -> FaultInjectingStateStore {
    let store = FaultInjectingStateStore(persistsAcrossRestarts: persists)
    store.failAppends(next: failures)
    return store
}
