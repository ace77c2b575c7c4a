/// A ``StateStore`` in process memory: the default, and the reference for the contract.
///
/// Nothing survives the process. Share one instance between routers in a process to share keys
/// and the ledger.
public actor InMemoryStateStore: StateStore {
    private var keys: [KeyID: StoredKey] = [:]
    private var budgets: [BudgetID: Budget] = [:]
    private var usage: [UsageEvent] = []
    private var transitionLog: [KeyTransition] = []
    private var samples: [DecisionSample] = []
    private var spendCounters: [SpendKey: Money] = [:]

    private struct SpendKey: Hashable {
        var budget: BudgetID
        var periodStart: Timestamp
    }

    /// Creates an empty store.
    public init() {}

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

    public func loadBudgets() async throws -> [Budget] {
        budgets.values.sorted { $0.id < $1.id }
    }

    public func saveBudget(_ budget: Budget) async throws {
        budgets[budget.id] = budget
    }

    public func deleteBudget(_ id: BudgetID) async throws {
        guard budgets.removeValue(forKey: id) != nil else {
            throw RouterError(.unknownBudget, "budget '\(id)' is not in the store", budgetID: id)
        }
    }

    public func append(_ batch: StoreBatch) async throws {
        usage.append(contentsOf: batch.usage)
        transitionLog.append(contentsOf: batch.transitions)
        samples.append(contentsOf: batch.decisions)
        for delta in batch.spend {
            spendCounters[SpendKey(budget: delta.budgetID, periodStart: delta.periodStart), default: .zero] += delta.amount
        }
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

    public func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition] {
        Array(transitionLog.reversed().lazy.filter { keyID == nil || $0.keyID == keyID }.prefix(max(0, limit)))
    }

    public func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent] {
        Array(usage.lazy.filter { $0.at >= from && $0.at < to }.prefix(max(0, limit)))
    }

    public func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money] {
        Self.aggregate(usage.lazy.filter { $0.at >= from && $0.at < to }, groupedBy: grouping)
    }

    public func decisionSamples(limit: Int) async throws -> [DecisionSample] {
        Array(samples.reversed().prefix(max(0, limit)))
    }
}
