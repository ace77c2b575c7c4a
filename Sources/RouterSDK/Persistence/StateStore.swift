/// Where a router keeps what must outlive it: keys (with sealed secrets), budgets, the usage
/// ledger, audited key transitions and sampled routing decisions.
///
/// ## Contract
/// - Every method is safe to call concurrently from many tasks.
/// - Secrets only ever arrive sealed (``SealedSecret``); a store never sees plaintext.
/// - ``saveKey(_:expectedVersion:)`` is a compare-and-set on the key's version: with
///   `expectedVersion == nil` it inserts and fails with ``RouterError/Code/versionConflict`` if
///   the id exists; otherwise it replaces only if the stored version equals `expectedVersion`.
///   ``saveBudget(_:expectedVersion:)`` is the same compare-and-set on a budget's version.
/// - ``append(_:)`` writes a whole batch or nothing; records of one batch keep their order.
/// - ``append(_:)`` is idempotent for batches with an ``StoreBatch/id``: a batch whose writer
///   already has a batch with the same or a higher sequence applied is not applied again (the
///   router's writer retries a batch unchanged when a commit's reply was lost). Record the
///   writer's last sequence in the same transaction as the batch.
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

    /// Whether what the store holds survives the process (a file or a server). Routers default
    /// to committed acknowledgements on such stores, and refuse to seal secrets with a random
    /// master key for them. The default implementation answers `false`.
    var persistsAcrossRestarts: Bool { get }

    /// Releases the store's connections or files. Calls after it fail with `storeFailure`;
    /// calling it twice is harmless. The default implementation does nothing.
    func close() async

    /// Every stored key, in id order.
    func loadKeys() async throws -> [StoredKey]
    /// Inserts (`expectedVersion == nil`) or replaces (versions match) a key; see the contract.
    func saveKey(_ key: StoredKey, expectedVersion: Int64?) async throws
    /// Deletes a key; throws `unknownKey` if it does not exist.
    func deleteKey(_ id: KeyID) async throws

    /// Every stored budget with its version, in id order.
    func loadBudgets() async throws -> [StoredBudget]
    /// Inserts (`expectedVersion == nil`; `versionConflict` if the id exists) or replaces (only
    /// if the stored version equals `expectedVersion`: `versionConflict` if it does not,
    /// `unknownBudget` if there is none) a budget; see the contract.
    func saveBudget(_ budget: StoredBudget, expectedVersion: Int64?) async throws
    /// Deletes a budget; throws `unknownBudget` if it does not exist.
    func deleteBudget(_ id: BudgetID) async throws

    /// Appends usage events, transitions and decision samples and applies the batch's spend
    /// deltas to the budget spend counters, all atomically.
    func append(_ batch: StoreBatch) async throws
    /// The newest transitions (of one key, or all), newest first, at most `limit`.
    func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition]
    /// The newest transition of every key that has one, in one query (``LLMRouter/restore()``
    /// reads it). The default implementation asks ``transitions(of:limit:)`` once per stored key;
    /// backends answer it natively.
    func latestTransitions() async throws -> [KeyID: KeyTransition]
    /// Usage events with `from <= at < to`, oldest first, at most `limit`.
    func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent]
    /// Total spend of usage events with `from <= at < to`, grouped as asked.
    func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money]
    /// How many usage events with `from <= at < to` there are, with their tokens and cost,
    /// grouped as ``spend(from:to:groupedBy:)`` groups them (an event counts once under each of
    /// its tags) — computed by the store, without loading the events. The default
    /// implementation throws `storeFailure`; every bundled backend answers it natively.
    func usageTotals(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: UsageTotals]
    /// The newest decision samples, newest first, at most `limit`.
    func decisionSamples(limit: Int) async throws -> [DecisionSample]

    /// Retention: deletes usage events, key transitions and decision samples with `at < cutoff`.
    /// Budget spend counters are kept (they are what enforcement reads). Returns how many usage
    /// events were deleted.
    func pruneLedger(before cutoff: Timestamp) async throws -> Int
    /// How many usage events the ledger holds.
    func ledgerSize() async throws -> Int

    /// The spend counter of one budget period (zero if it was never charged).
    func spend(of budget: BudgetID, periodStart: Timestamp) async throws -> Money
    /// Atomically adds `amount` to a budget period's spend counter if the result stays within
    /// `limit` (`nil`: no limit). Returns the new total, or `nil` (and changes nothing) if it would
    /// pass the limit. Concurrent calls never take the counter past `limit`.
    func addSpend(_ amount: Money, to budget: BudgetID, periodStart: Timestamp, limit: Money?) async throws -> Money?

    /// A small record the instances of a fleet share (``FleetBudgets``' slice leases), with its
    /// version; `nil` if there is none. The default implementation throws `storeFailure`.
    func sharedRecord(_ key: String) async throws -> SharedRecord?
    /// Compare-and-set of a shared record: with `expectedVersion == nil` it inserts `body` at
    /// version 1 if no record has `key`; otherwise it replaces the record (version + 1) only if
    /// its version equals `expectedVersion`. Returns whether it wrote. Of concurrent writers of
    /// one version (in any process) exactly one succeeds. The default implementation throws
    /// `storeFailure`: a store without it cannot carry fleet budgets.
    func writeSharedRecord(_ key: String, body: String, expectedVersion: Int64?) async throws -> Bool
}

/// A versioned record shared by the instances of a fleet (``StateStore/sharedRecord(_:)``).
public struct SharedRecord: Sendable, Hashable {
    /// Starts at 1; each write adds 1.
    public var version: Int64
    /// What the writer stored (JSON text for the router's own records).
    public var body: String

    /// Creates a record.
    public init(version: Int64, body: String) {
        self.version = version
        self.body = body
    }
}

/// Spend to add to a budget period's counter; batches carry them so counters and the ledger agree.
public struct SpendDelta: Sendable, Hashable, Codable {
    /// The budget.
    public var budgetID: BudgetID
    /// The start of the period (the Unix epoch for `total` budgets).
    public var periodStart: Timestamp
    /// The amount to add.
    public var amount: Money

    /// Creates a delta.
    public init(budgetID: BudgetID, periodStart: Timestamp, amount: Money) {
        self.budgetID = budgetID
        self.periodStart = periodStart
        self.amount = amount
    }
}

/// How ``StateStore/spend(from:to:groupedBy:)`` groups spend.
///
/// Frozen: every ``StateStore`` implements each grouping, so a new one would be a new protocol requirement (a major version).
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

/// Identifies a batch of the router's writer, so a store applies it once however often it is sent.
public struct BatchID: Sendable, Hashable, Codable {
    /// The writer: random per router instance.
    public var writer: String
    /// Increases by one with each batch of that writer, from 1.
    public var sequence: Int64

    /// Creates a batch id.
    public init(writer: String, sequence: Int64) {
        self.writer = writer
        self.sequence = sequence
    }
}

/// Records written together by the router's batched writer.
public struct StoreBatch: Sendable, Hashable {
    /// Makes the batch idempotent (see ``StateStore/append(_:)``); `nil` for one-off writes.
    public var id: BatchID?
    /// Settled and released requests.
    public var usage: [UsageEvent]
    /// Key state changes.
    public var transitions: [KeyTransition]
    /// Sampled routing decisions.
    public var decisions: [DecisionSample]
    /// Spend to add to budget counters, at most one per (budget, period).
    public var spend: [SpendDelta]

    /// Creates a batch.
    public init(id: BatchID? = nil, usage: [UsageEvent] = [], transitions: [KeyTransition] = [], decisions: [DecisionSample] = [], spend: [SpendDelta] = []) {
        self.id = id
        self.usage = usage
        self.transitions = transitions
        self.decisions = decisions
        self.spend = spend
    }

    /// Records in the batch.
    public var count: Int { usage.count + transitions.count + decisions.count + spend.count }
    /// Whether the batch is empty.
    public var isEmpty: Bool { count == 0 }
}

extension StateStore {
    public var persistsAcrossRestarts: Bool { false }

    public func sharedRecord(_ key: String) async throws -> SharedRecord? {
        throw RouterError(.storeFailure, "\(type(of: self)) does not keep shared records, which fleet budgets need")
    }

    public func writeSharedRecord(_ key: String, body: String, expectedVersion: Int64?) async throws -> Bool {
        throw RouterError(.storeFailure, "\(type(of: self)) does not keep shared records, which fleet budgets need")
    }

    public func close() async {}

    public func usageTotals(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: UsageTotals] {
        throw RouterError(.storeFailure, "\(type(of: self)) does not aggregate usage totals")
    }

    public func latestTransitions() async throws -> [KeyID: KeyTransition] {
        var result: [KeyID: KeyTransition] = [:]
        for key in try await loadKeys() {
            if let latest = try await transitions(of: key.id, limit: 1).first { result[key.id] = latest }
        }
        return result
    }

    /// Groups usage events the way every backend must; backends without native aggregation use it.
    public static func aggregate(_ events: some Sequence<UsageEvent>, groupedBy grouping: SpendGrouping) -> [String: Money] {
        totals(events, groupedBy: grouping).mapValues(\.cost)
    }

    /// Counts and sums usage events the way every backend must (``usageTotals(from:to:groupedBy:)``);
    /// backends without native aggregation use it.
    public static func totals(_ events: some Sequence<UsageEvent>, groupedBy grouping: SpendGrouping) -> [String: UsageTotals] {
        var result: [String: UsageTotals] = [:]
        for event in events {
            switch grouping {
            case .total: result["total", default: UsageTotals()].add(event)
            case .key: result[event.keyID.rawValue, default: UsageTotals()].add(event)
            case .provider: result[event.model.provider.rawValue, default: UsageTotals()].add(event)
            case .model: result[event.model.description, default: UsageTotals()].add(event)
            case .tag: for tag in event.tags { result[tag, default: UsageTotals()].add(event) }
            }
        }
        return result
    }
}
