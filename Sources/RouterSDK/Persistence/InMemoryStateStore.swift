internal import DequeModule

/// A ``StateStore`` in process memory: the default, and the reference for the contract.
///
/// Nothing survives the process. Share one instance between routers in a process to share keys
/// and the ledger.
///
/// Memory is bounded: the ledger, the transition log and the decision samples each keep their
/// newest ``retainedRecords`` entries (oldest dropped first), so queries over usage events see
/// at most that many. Budget spend counters are exact whatever is dropped.
public actor InMemoryStateStore: StateStore {
    private var keys: [KeyID: StoredKey] = [:]
    private var budgets: [BudgetID: StoredBudget] = [:]
    private var usage = Deque<UsageEvent>()
    private var transitionLog = Deque<KeyTransition>()
    private var samples = Deque<DecisionSample>()
    private var spendCounters: [SpendKey: Money] = [:]
    private var appliedBatches: [String: Int64] = [:]
    private var sharedRecords: [String: SharedRecord] = [:]

    /// How many usage events (and, separately, transitions and decision samples) are kept.
    public let retainedRecords: Int

    private struct SpendKey: Hashable {
        var budget: BudgetID
        var periodStart: Timestamp
    }

    /// Creates an empty store keeping the newest `retainedRecords` (≥ 1) records of each kind;
    /// the default, 100,000 usage events, is some tens of megabytes.
    public init(retainedRecords: Int = 100_000) {
        self.retainedRecords = max(1, retainedRecords)
    }

    public func ping() async throws {}

    public func loadKeys() async throws -> [StoredKey] {
        keys.values.sorted { $0.id < $1.id }
    }

    public func saveKey(_ key: StoredKey, expectedVersion: Int64?) async throws {
        let current = keys[key.id]
        switch (current, expectedVersion) {
        case (nil, nil):
            break
        case (.some, nil):
            throw RouterError(.versionConflict, "key '\(key.id)' already exists in the store", keyID: key.id)
        case (nil, .some):
            throw RouterError(.unknownKey, "key '\(key.id)' is not in the store", keyID: key.id)
        case (.some(let stored), .some(let expected)):
            guard stored.version == expected else {
                throw RouterError(.versionConflict, "key '\(key.id)' is at version \(stored.version), expected \(expected)", keyID: key.id)
            }
        }
        keys[key.id] = key
    }

    public func deleteKey(_ id: KeyID) async throws {
        guard keys.removeValue(forKey: id) != nil else {
            throw RouterError(.unknownKey, "key '\(id)' is not in the store", keyID: id)
        }
    }

    public func loadBudgets() async throws -> [StoredBudget] {
        budgets.values.sorted { $0.id < $1.id }
    }

    public func saveBudget(_ budget: StoredBudget, expectedVersion: Int64?) async throws {
        switch (budgets[budget.id], expectedVersion) {
        case (nil, nil):
            break
        case (.some, nil):
            throw RouterError(.versionConflict, "budget '\(budget.id)' already exists in the store", budgetID: budget.id)
        case (nil, .some):
            throw RouterError(.unknownBudget, "budget '\(budget.id)' is not in the store", budgetID: budget.id)
        case (.some(let stored), .some(let expected)):
            guard stored.version == expected else {
                throw RouterError(.versionConflict, "budget '\(budget.id)' is at version \(stored.version), expected \(expected)", budgetID: budget.id)
            }
        }
        budgets[budget.id] = budget
    }

    public func deleteBudget(_ id: BudgetID) async throws {
        guard budgets.removeValue(forKey: id) != nil else {
            throw RouterError(.unknownBudget, "budget '\(id)' is not in the store", budgetID: id)
        }
    }

    public func append(_ batch: StoreBatch) async throws {
        if let id = batch.id {
            if let applied = appliedBatches[id.writer], applied >= id.sequence { return }
            appliedBatches[id.writer] = id.sequence
        }
        Self.appendBounded(&usage, batch.usage, retainedRecords)
        Self.appendBounded(&transitionLog, batch.transitions, retainedRecords)
        Self.appendBounded(&samples, batch.decisions, retainedRecords)
        for delta in batch.spend {
            spendCounters[SpendKey(budget: delta.budgetID, periodStart: delta.periodStart), default: .zero] += delta.amount
        }
    }

    private static func appendBounded<Element>(_ log: inout Deque<Element>, _ new: [Element], _ limit: Int) {
        log.append(contentsOf: new)
        let excess = log.count - limit
        if excess > 0 { log.removeFirst(excess) }
    }

    public func spend(of budget: BudgetID, periodStart: Timestamp) async throws -> Money {
        spendCounters[SpendKey(budget: budget, periodStart: periodStart)] ?? .zero
    }

    public func addSpend(_ amount: Money, to budget: BudgetID, periodStart: Timestamp, limit: Money?) async throws -> Money? {
        let key = SpendKey(budget: budget, periodStart: periodStart)
        let total = (spendCounters[key] ?? .zero) + amount
        if let limit, total > limit { return nil }
        spendCounters[key] = total
        return total
    }

    public func sharedRecord(_ key: String) async throws -> SharedRecord? {
        sharedRecords[key]
    }

    public func writeSharedRecord(_ key: String, body: String, expectedVersion: Int64?) async throws -> Bool {
        guard sharedRecords[key]?.version == expectedVersion else { return false }
        sharedRecords[key] = SharedRecord(version: (expectedVersion ?? 0) + 1, body: body)
        return true
    }

    public func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition] {
        Array(transitionLog.reversed().lazy.filter { keyID == nil || $0.keyID == keyID }.prefix(max(0, limit)))
    }

    public func pruneLedger(before cutoff: Timestamp) async throws -> Int {
        let before = usage.count
        usage.removeAll { $0.at < cutoff }
        transitionLog.removeAll { $0.at < cutoff }
        samples.removeAll { $0.at < cutoff }
        return before - usage.count
    }

    public func ledgerSize() async throws -> Int { usage.count }

    public func latestTransitions() async throws -> [KeyID: KeyTransition] {
        var result: [KeyID: KeyTransition] = [:]
        for transition in transitionLog.reversed() where result[transition.keyID] == nil {
            result[transition.keyID] = transition
        }
        return result
    }

    public func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent] {
        Array(usage.lazy.filter { $0.at >= from && $0.at < to }.prefix(max(0, limit)))
    }

    public func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money] {
        Self.aggregate(usage.lazy.filter { $0.at >= from && $0.at < to }, groupedBy: grouping)
    }

    public func usageTotals(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: UsageTotals] {
        Self.totals(usage.lazy.filter { $0.at >= from && $0.at < to }, groupedBy: grouping)
    }

    public func decisionSamples(limit: Int) async throws -> [DecisionSample] {
        Array(samples.reversed().prefix(max(0, limit)))
    }
}
