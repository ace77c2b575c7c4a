import Foundation
import RouterSDK
import RouterTesting
import Synchronization
import Testing

/// A store whose `append` fails a set number of times, then works; records batch sizes.
final class FlakyStore: StateStore {
    let inner = InMemoryStateStore()
    let failuresLeft: Mutex<Int>
    let batchSizes = Mutex<[Int]>([])
    let gate: Mutex<CheckedContinuation<Void, Never>?> = Mutex(nil)
    let blocked: Mutex<Bool>

    init(failures: Int = 0, blocked: Bool = false) {
        failuresLeft = Mutex(failures)
        self.blocked = Mutex(blocked)
    }

    /// Lets blocked appends through.
    func open() {
        blocked.withLock { $0 = false }
        gate.withLock { $0 }?.resume()
    }

    func append(_ batch: StoreBatch) async throws {
        if blocked.withLock({ $0 }) {
            await withCheckedContinuation { continuation in gate.withLock { $0 = continuation } }
        }
        let fail = failuresLeft.withLock { left -> Bool in
            guard left > 0 else { return false }
            left -= 1
            return true
        }
        if fail { throw RouterError(.storeFailure, "injected failure") }
        batchSizes.withLock { $0.append(batch.count) }
        try await inner.append(batch)
    }

    func ping() async throws { try await inner.ping() }
    func loadKeys() async throws -> [StoredKey] { try await inner.loadKeys() }
    func saveKey(_ key: StoredKey, expectedVersion: Int64?) async throws { try await inner.saveKey(key, expectedVersion: expectedVersion) }
    func deleteKey(_ id: KeyID) async throws { try await inner.deleteKey(id) }
    func loadBudgets() async throws -> [Budget] { try await inner.loadBudgets() }
    func saveBudget(_ budget: Budget) async throws { try await inner.saveBudget(budget) }
    func deleteBudget(_ id: BudgetID) async throws { try await inner.deleteBudget(id) }
    func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition] { try await inner.transitions(of: keyID, limit: limit) }
    func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent] { try await inner.usageEvents(from: from, to: to, limit: limit) }
    func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money] {
        try await inner.spend(from: from, to: to, groupedBy: grouping)
    }
    func decisionSamples(limit: Int) async throws -> [DecisionSample] { try await inner.decisionSamples(limit: limit) }
    func spend(of budget: BudgetID, periodStart: Timestamp) async throws -> Money { try await inner.spend(of: budget, periodStart: periodStart) }
    func addSpend(_ amount: Money, to budget: BudgetID, periodStart: Timestamp, limit: Money?) async throws -> Money? {
        try await inner.addSpend(amount, to: budget, periodStart: periodStart, limit: limit)
    }
}

@Suite struct PersistenceTests {
    private let all = (Timestamp(nanosecondsSinceEpoch: 0), Timestamp(secondsSinceEpoch: 4_000_000_000))

    @Test func usageAndSpendReachTheStoreInBatches() async throws {
        let store = FlakyStore()
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
        #expect(store.batchSizes.withLock { $0.reduce(0, +) } == 110)
    }

    @Test func fullBufferAppliesBackpressureAndLosesNothing() async throws {
        let store = FlakyStore(blocked: true)
        let router = try makeRouter(store: store) { $0.persistence = .init(bufferCapacity: 4, batchSize: 2) }
        try await router.register(key("a", models: ["small"]))
        let settled = Mutex(0)
        let producer = Task {
            for _ in 0..<20 {
                let lease = try await router.route(.small())
                try await router.settle(lease, usage: .none)
                settled.withLock { $0 += 1 }
            }
        }
        // The writer holds 2 records in a blocked batch; the buffer (4) fills and settling waits.
        for _ in 0..<10_000 where settled.withLock({ $0 }) < 4 { await Task.yield() }
        for _ in 0..<1_000 { await Task.yield() }
        #expect(settled.withLock { $0 } <= 5)
        store.open()
        try await producer.value
        await router.flush()
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 100).count == 20)
        #expect(store.batchSizes.withLock { $0 }.allSatisfy { $0 <= 2 })
    }

    @Test func failedWritesAreRetriedUntilTheStoreRecovers() async throws {
        let store = FlakyStore(failures: 3)
        let router = try makeRouter(store: store) { $0.persistence.retryDelay = .milliseconds(1) }
        try await router.register(key("a", models: ["small"]))
        for _ in 0..<10 { try await router.settle(try await router.route(.small()), usage: .none) }
        try await router.shutdown()
        #expect(try await store.usageEvents(from: all.0, to: all.1, limit: 100).count == 10)
    }

    @Test func shutdownReportsRecordsTheStoreNeverTook() async throws {
        let store = FlakyStore(failures: 1_000)
        let router = try makeRouter(store: store) { $0.persistence.retryDelay = .milliseconds(1) }
        try await router.register(key("a", models: ["small"]))
        try await router.settle(try await router.route(.small()), usage: .none)
        let error = await expectRouterError(.storeFailure) { try await router.shutdown() }
        #expect(error?.message.contains("1 record") == true)
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
        let wrongKey = try Router(configuration: RouterConfiguration(masterKey: MasterKey.random()), catalog: testCatalog(), store: store)
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
