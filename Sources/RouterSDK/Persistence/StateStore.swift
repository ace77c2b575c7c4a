/// Where a router keeps what must outlive it: keys (with sealed secrets), budgets, the usage
/// ledger, audited key transitions and sampled routing decisions.
///
/// ## Contract
/// - Every method is safe to call concurrently from many tasks.
/// - Secrets only ever arrive sealed (``SealedSecret``); a store never sees plaintext.
/// - ``saveKey(_:expectedVersion:)`` is a compare-and-set on the key's version: with
///   `expectedVersion == nil` it inserts and fails with ``RouterError/Code/versionConflict`` if
///   the id exists; otherwise it replaces only if the stored version equals `expectedVersion`.
/// - ``append(_:)`` writes a whole batch or nothing; records of one batch keep their order.
/// - Queries see every batch whose `append` has returned.
/// - Errors are ``RouterError`` with code ``RouterError/Code/storeFailure`` (or
///   `versionConflict`, `unknownKey`, `unknownBudget`); their text never contains secrets or
///   connection passwords.
///
/// Backends: ``InMemoryStateStore`` here; SQLite, PostgreSQL and MongoDB in their own products.
/// See <doc:ImplementingAStateStore>.
public protocol StateStore: Sendable {
    /// Checks the store answers. Throws `storeFailure` if not.
    func ping() async throws

    /// Every stored key, in id order.
    func loadKeys() async throws -> [StoredKey]
    /// Inserts (`expectedVersion == nil`) or replaces (versions match) a key; see the contract.
    func saveKey(_ key: StoredKey, expectedVersion: Int64?) async throws
    /// Deletes a key; throws `unknownKey` if it does not exist.
    func deleteKey(_ id: KeyID) async throws

    /// Every stored budget, in id order.
    func loadBudgets() async throws -> [Budget]
    /// Inserts or replaces a budget.
    func saveBudget(_ budget: Budget) async throws
    /// Deletes a budget; throws `unknownBudget` if it does not exist.
    func deleteBudget(_ id: BudgetID) async throws

    /// Appends usage events, transitions and decision samples atomically.
    func append(_ batch: StoreBatch) async throws
    /// The newest transitions (of one key, or all), newest first, at most `limit`.
    func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition]
    /// Usage events with `from <= at < to`, oldest first, at most `limit`.
    func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent]
    /// Total spend of usage events with `from <= at < to`, grouped as asked.
    func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money]
    /// The newest decision samples, newest first, at most `limit`.
    func decisionSamples(limit: Int) async throws -> [DecisionSample]
}

/// How ``StateStore/spend(from:to:groupedBy:)`` groups spend.
public enum SpendGrouping: String, Sendable, Hashable, CaseIterable {
    /// One entry, `"total"`.
    case total
    /// By key id.
    case key
    /// By provider id.
    case provider
    /// By `provider/model`.
    case model
    /// By request tag (an event with several tags counts toward each).
    case tag
}

/// A key as a store keeps it: settings, sealed secret, state and version.
public struct StoredKey: Sendable, Hashable, Codable {
    /// The key's id.
    public var id: KeyID
    /// Its settings.
    public var settings: KeySettings
    /// Its secret, sealed.
    public var sealedSecret: SealedSecret
    /// Its state when saved.
    public var state: KeyState
    /// Incremented on every save.
    public var version: Int64
    /// When it was saved.
    public var updatedAt: Timestamp

    /// Creates a stored key.
    public init(id: KeyID, settings: KeySettings, sealedSecret: SealedSecret, state: KeyState, version: Int64, updatedAt: Timestamp) {
        self.id = id
        self.settings = settings
        self.sealedSecret = sealedSecret
        self.state = state
        self.version = version
        self.updatedAt = updatedAt
    }
}

/// Records written together by the router's batched writer.
public struct StoreBatch: Sendable, Hashable {
    /// Settled and released requests.
    public var usage: [UsageEvent]
    /// Key state changes.
    public var transitions: [KeyTransition]
    /// Sampled routing decisions.
    public var decisions: [DecisionSample]

    /// Creates a batch.
    public init(usage: [UsageEvent] = [], transitions: [KeyTransition] = [], decisions: [DecisionSample] = []) {
        self.usage = usage
        self.transitions = transitions
        self.decisions = decisions
    }

    /// Records in the batch.
    public var count: Int { usage.count + transitions.count + decisions.count }
    /// Whether the batch is empty.
    public var isEmpty: Bool { count == 0 }
}

extension StateStore {
    /// Groups usage events the way every backend must; backends without native aggregation use it.
    public static func aggregate(_ events: some Sequence<UsageEvent>, groupedBy grouping: SpendGrouping) -> [String: Money] {
        var result: [String: Money] = [:]
        for event in events {
            switch grouping {
            case .total: result["total", default: .zero] += event.cost
            case .key: result[event.keyID.rawValue, default: .zero] += event.cost
            case .provider: result[event.model.provider.rawValue, default: .zero] += event.cost
            case .model: result[event.model.description, default: .zero] += event.cost
            case .tag: for tag in event.tags { result[tag, default: .zero] += event.cost }
            }
        }
        return result
    }
}
