public import RouterSDK

/// A ``RouterSDK/StateStore`` wrapper that fails or holds writes on command, to test what an app
/// or a router does while its store misbehaves — and what the store saw.
///
/// Every call goes to the wrapped store unless a fault is set:
/// - ``failAppends(next:with:)``: the next `n` batch appends throw (then they work again).
/// - ``holdAppends()`` / ``releaseAppends()``: appends wait until released (a store that hangs).
/// - ``failKeyWrites(_:with:)``: key saves and deletes throw while set.
/// - ``failSharedRecords(_:)``: shared-record reads and writes (fleet budget slice leases) and
///   spend counter reads and increments throw while set — an instance cut off from the fleet.
///
/// It records what reached the wrapped store: ``appendedBatchSizes``, ``appendedBatchIDs`` and
/// whether ``close()`` was called (``closeCount``).
///
/// ```swift
/// let store = FaultInjectingStateStore()
/// store.failAppends(next: 3)
/// let router = try LLMRouter(store: store)
/// ```
public final class FaultInjectingStateStore: StateStore {
    private struct Faults {
        var failingAppends = 0
        var appendError = RouterError(.storeFailure, "injected failure")
        var holding = false
        var heldAppends: [CheckedContinuation<Void, Never>] = []
        var failingKeyWrites: RouterError?
        var failingShared = false
        var batchSizes: [Int] = []
        var batchIDs: [BatchID] = []
        var closes = 0
        var sharedCalls = 0
    }

    /// The store calls go to when no fault is set.
    public let base: any StateStore
    private let faults: Locked<Faults>
    private let persists: Bool?

    /// Wraps `base`.
    ///
    /// - Parameters:
    ///   - base: The real store; a new in-memory one by default.
    ///   - holdingAppends: Start with appends held, as after ``holdAppends()``.
    ///   - persistsAcrossRestarts: What to report as ``persistsAcrossRestarts`` (the router then
    ///     wants a master key and acknowledges commits); `nil` reports `base`'s.
    public init(wrapping base: any StateStore = InMemoryStateStore(), holdingAppends: Bool = false, persistsAcrossRestarts: Bool? = nil) {
        self.base = base
        self.faults = Locked(Faults(holding: holdingAppends))
        self.persists = persistsAcrossRestarts
    }

    // MARK: Faults

    /// Makes the next `count` appends throw `error` (0 heals at once).
    public func failAppends(next count: Int, with error: RouterError = RouterError(.storeFailure, "injected failure")) {
        faults.withLock {
            $0.failingAppends = max(0, count)
            $0.appendError = error
        }
    }

    /// While `on`, shared-record reads and writes and spend-counter reads and increments throw
    /// `storeFailure`: the instance using this store cannot take, renew or return slices.
    public func failSharedRecords(_ on: Bool) {
        faults.withLock { $0.failingShared = on }
    }

    private func checkShared() throws {
        let failing = faults.withLock { faults -> Bool in
            faults.sharedCalls += 1
            return faults.failingShared
        }
        if failing { throw RouterError(.storeFailure, "injected failure (shared records)") }
    }

    /// Makes appends wait until ``releaseAppends()``.
    public func holdAppends() {
        faults.withLock { $0.holding = true }
    }

    /// Lets held appends, and every later one, through.
    public func releaseAppends() {
        let held = faults.withLock { faults -> [CheckedContinuation<Void, Never>] in
            faults.holding = false
            defer { faults.heldAppends.removeAll() }
            return faults.heldAppends
        }
        held.forEach { $0.resume() }
    }

    /// Makes key and budget saves and deletes throw `error` while `failing` is true.
    public func failKeyWrites(_ failing: Bool, with error: RouterError = RouterError(.storeFailure, "injected key write failure")) {
        faults.withLock { $0.failingKeyWrites = failing ? error : nil }
    }

    // MARK: Observations

    /// The record count of every batch that reached the wrapped store, in order.
    public var appendedBatchSizes: [Int] { faults.withLock { $0.batchSizes } }

    /// The id of every batch that reached the wrapped store, in order (a retried batch that was
    /// applied once appears once).
    public var appendedBatchIDs: [BatchID] { faults.withLock { $0.batchIDs } }

    /// How many times ``close()`` was called.
    public var closeCount: Int { faults.withLock { $0.closes } }
    /// Shared-record reads and writes and spend-counter reads and increments so far (failed ones
    /// too): the store round trips fleet budgets cost beside the batched writes.
    public var sharedRoundTrips: Int { faults.withLock { $0.sharedCalls } }

    // MARK: StateStore

    public var persistsAcrossRestarts: Bool { persists ?? base.persistsAcrossRestarts }

    public func close() async {
        faults.withLock { $0.closes += 1 }
        await base.close()
    }

    public func append(_ batch: StoreBatch) async throws {
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            let holds = faults.withLock { faults -> Bool in
                if faults.holding { faults.heldAppends.append(continuation) }
                return faults.holding
            }
            if !holds { continuation.resume() }
        }
        let failure = faults.withLock { faults -> RouterError? in
            guard faults.failingAppends > 0 else { return nil }
            faults.failingAppends -= 1
            return faults.appendError
        }
        if let failure { throw failure }
        try await base.append(batch)
        faults.withLock {
            $0.batchSizes.append(batch.count)
            if let id = batch.id { $0.batchIDs.append(id) }
        }
    }

    public func saveKey(_ key: StoredKey, expectedVersion: Int64?) async throws {
        try checkManagementWrite()
        try await base.saveKey(key, expectedVersion: expectedVersion)
    }

    public func deleteKey(_ id: KeyID) async throws {
        try checkManagementWrite()
        try await base.deleteKey(id)
    }

    public func saveBudget(_ budget: StoredBudget, expectedVersion: Int64?) async throws {
        try checkManagementWrite()
        try await base.saveBudget(budget, expectedVersion: expectedVersion)
    }

    public func deleteBudget(_ id: BudgetID) async throws {
        try checkManagementWrite()
        try await base.deleteBudget(id)
    }

    /// Throws the injected failure while key and budget writes fail (``failKeyWrites(_:with:)``).
    private func checkManagementWrite() throws {
        if let failure = faults.withLock({ $0.failingKeyWrites }) { throw failure }
    }

    public func ping() async throws { try await base.ping() }
    public func loadKeys() async throws -> [StoredKey] { try await base.loadKeys() }
    public func loadBudgets() async throws -> [StoredBudget] { try await base.loadBudgets() }
    public func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition] { try await base.transitions(of: keyID, limit: limit) }
    public func latestTransitions() async throws -> [KeyID: KeyTransition] { try await base.latestTransitions() }
    public func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent] {
        try await base.usageEvents(from: from, to: to, limit: limit)
    }
    public func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money] {
        try await base.spend(from: from, to: to, groupedBy: grouping)
    }
    public func usageTotals(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: UsageTotals] {
        try await base.usageTotals(from: from, to: to, groupedBy: grouping)
    }
    public func decisionSamples(limit: Int) async throws -> [DecisionSample] { try await base.decisionSamples(limit: limit) }
    public func pruneLedger(before cutoff: Timestamp) async throws -> Int { try await base.pruneLedger(before: cutoff) }
    public func ledgerSize() async throws -> Int { try await base.ledgerSize() }
    public func spend(of budget: BudgetID, periodStart: Timestamp) async throws -> Money {
        try checkShared()
        return try await base.spend(of: budget, periodStart: periodStart)
    }
    public func addSpend(_ amount: Money, to budget: BudgetID, periodStart: Timestamp, limit: Money?) async throws -> Money? {
        try checkShared()
        return try await base.addSpend(amount, to: budget, periodStart: periodStart, limit: limit)
    }
    public func sharedRecord(_ key: String) async throws -> SharedRecord? {
        try checkShared()
        return try await base.sharedRecord(key)
    }
    public func writeSharedRecord(_ key: String, body: String, expectedVersion: Int64?) async throws -> Bool {
        try checkShared()
        return try await base.writeSharedRecord(key, body: body, expectedVersion: expectedVersion)
    }
}
