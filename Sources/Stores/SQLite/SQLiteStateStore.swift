import Foundation
public import Logging
public import RouterSDK
internal import StoreSupport

/// A ``StateStore`` in an SQLite file on the system's libsqlite3: the embedded default.
///
/// - WAL journal, so readers never block the writer and several processes can share the file
///   (each waits up to 5 s for the write lock).
/// - Prepared statements, cached per connection; every batch is one transaction.
/// - Versioned schema with migrations run on open; a database from newer code is refused with
///   ``RouterError/Code/schemaTooNew`` before anything is written.
/// - Every SQLite call runs on this store's own serial dispatch queue (a
///   ``BlockingConnectionPool`` of one connection, as the server stores use) — never on Swift's
///   cooperative thread pool — so a slow disk cannot stall routing.
///
/// Open it with ``open(path:logger:)`` (`":memory:"` for a private in-memory database).
public final class SQLiteStateStore: StateStore {
    /// One connection on its own serial queue: SQLite allows one writer, and a second
    /// connection would only wait for the file lock.
    private let pool: BlockingConnectionPool<SQLiteConnection>
    /// The statements this store shares with the PostgreSQL store.
    private let ledger = SQLLedger(.sqlite)
    private let logger: Logger

    /// The database path.
    public let path: String

    private init(pool: BlockingConnectionPool<SQLiteConnection>, path: String, logger: Logger) {
        self.pool = pool
        self.path = path
        self.logger = logger
    }

    /// Opens (creating if needed) the database at `path` and migrates it to the current schema.
    ///
    /// - Throws: `storeFailure` if the file cannot be opened, `schemaTooNew` if it was written by
    ///   newer code.
    public static func open(path: String, logger: Logger = Logger(label: "RouterSDK.SQLite")) async throws -> SQLiteStateStore {
        let pool = BlockingConnectionPool(label: "RouterSDK.SQLiteStateStore", size: 1, closedMessage: "SQLite database '\(path)' is closed") {
            () throws(RouterError) -> SQLiteConnection in
            let connection = try SQLiteConnection(path: path)
            try migrate(connection, logger: logger)
            return connection
        }
        // Open and migrate now, so a bad file or a newer schema fails here and not on first use.
        try await pool.run { _ in }
        return SQLiteStateStore(pool: pool, path: path, logger: logger)
    }

    /// The schema version this code writes.
    public static var schemaVersion: Int { SQLiteSchema.currentVersion }

    /// The schema version of the open database.
    public func schemaVersion() async throws -> Int {
        try await withConnection { connection throws(RouterError) in
            Int(try connection.query("PRAGMA user_version").first?.integer(0, "user_version") ?? 0)
        }
    }

    /// Migrates an open connection from its `user_version` to ``SQLiteSchema/currentVersion``;
    /// `target` stops early (tests of older schemas use it).
    ///
    /// Safe when several processes open one new file at once: the version is read and every
    /// step run inside one `BEGIN IMMEDIATE` transaction, which holds the file's write lock, so
    /// the first process migrates and the others, once they get the lock, find nothing to do.
    static func migrate(_ connection: SQLiteConnection, to target: Int = SQLiteSchema.currentVersion, logger: Logger) throws(RouterError) {
        // Refuse a newer schema before anything (even the journal mode) is written.
        try refuseNewerSchema(connection)
        if connection.path != ":memory:" {
            // Switching a new file to WAL needs the file to itself; SQLite answers "locked" at
            // once, without its busy handler, while another process opening it holds a lock.
            // Runs on the store's blocking thread, so the pause sleeps the thread.
            var attempt = 0
            while true {
                do throws(RouterError) {
                    try connection.execute("PRAGMA journal_mode = WAL")
                    break
                } catch {
                    attempt += 1
                    guard attempt < 100, error.message.contains("locked") else { throw error }
                    usleep(20_000 + UInt32.random(in: 0...30_000))
                }
            }
        }
        try connection.execute("PRAGMA synchronous = NORMAL")
        let (from, to) = try connection.transaction { () throws(RouterError) -> (Int, Int) in
            let version = try refuseNewerSchema(connection)
            guard version < target else { return (version, version) }
            for step in version..<target {
                try connection.execute(SQLiteSchema.migrations[step])
            }
            try connection.execute("PRAGMA user_version = \(target)")
            return (version, target)
        }
        if to > from {
            logger.info("migrated SQLite schema", metadata: ["path": "\(connection.path)", "from": "\(from)", "version": "\(to)"])
        }
    }

    /// The database's schema version; `schemaTooNew` if newer code wrote it.
    @discardableResult
    private static func refuseNewerSchema(_ connection: SQLiteConnection) throws(RouterError) -> Int {
        let version = Int(try connection.query("PRAGMA user_version").first?.integer(0, "user_version") ?? 0)
        guard version <= SQLiteSchema.currentVersion else {
            throw RouterError(.schemaTooNew, "SQLite database '\(connection.path)' has schema version \(version); this RouterSDK understands up to \(SQLiteSchema.currentVersion)")
        }
        return version
    }

    /// An SQLite file outlives the process (`:memory:` does not).
    public var persistsAcrossRestarts: Bool { path != ":memory:" && !path.contains("mode=memory") }

    /// Closes the database. Further calls fail with `storeFailure`.
    public func close() async {
        await pool.close()
    }

    // MARK: Queue

    @discardableResult
    private func withConnection<T: Sendable>(_ body: @escaping @Sendable (SQLiteConnection) throws(RouterError) -> T) async throws(RouterError) -> T {
        try await pool.run(body)
    }

    // MARK: StateStore

    public func ping() async throws {
        try await withConnection { connection throws(RouterError) in _ = try connection.query("SELECT 1") }
    }

    public func loadKeys() async throws -> [StoredKey] {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.loadKeys(connection) }
    }

    public func saveKey(_ key: StoredKey, expectedVersion: Int64?) async throws {
        let settings = try StoreRecordCoding.encode(key.settings)
        let state = try StoreRecordCoding.encode(key.state)
        try await withConnection { connection throws(RouterError) in
            try connection.transaction { () throws(RouterError) in
                let current = try connection.query("SELECT version FROM keys WHERE id = ?", [.text(key.id.rawValue)]).first
                let values: [SQLiteConnection.Value] = [
                    .text(key.settings.provider.rawValue), .text(settings), .text(key.sealedSecret.masterKeyID),
                    .bytes(key.sealedSecret.combined), .text(state), .integer(key.version),
                    .integer(key.updatedAt.nanosecondsSinceEpoch), .text(key.id.rawValue),
                ]
                switch (current, expectedVersion) {
                case (nil, nil):
                    try connection.query(
                        "INSERT INTO keys (provider, settings, master_key_id, sealed_secret, state, version, updated_at, id) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                        values)
                case (.some, nil):
                    throw RouterError(.versionConflict, "key '\(key.id)' already exists in the store", keyID: key.id)
                case (nil, .some):
                    throw RouterError(.unknownKey, "key '\(key.id)' is not in the store", keyID: key.id)
                case (.some(let row), .some(let expected)):
                    let stored = try row.integer(0, "key '\(key.id)' in table keys")
                    guard stored == expected else {
                        throw RouterError(.versionConflict, "key '\(key.id)' is at version \(stored), expected \(expected)", keyID: key.id)
                    }
                    try connection.query(
                        "UPDATE keys SET provider = ?, settings = ?, master_key_id = ?, sealed_secret = ?, state = ?, version = ?, updated_at = ? WHERE id = ?",
                        values)
                }
            }
        }
    }

    public func deleteKey(_ id: KeyID) async throws {
        let ledger = self.ledger
        try await withConnection { connection throws(RouterError) in try ledger.deleteKey(id, connection) }
    }

    public func loadBudgets() async throws -> [StoredBudget] {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.loadBudgets(connection) }
    }

    public func saveBudget(_ budget: StoredBudget, expectedVersion: Int64?) async throws {
        let definition = try StoreRecordCoding.encode(budget.budget)
        let ledger = self.ledger
        try await withConnection { connection throws(RouterError) in
            try ledger.saveBudget(budget, definition: definition, expectedVersion: expectedVersion, connection)
        }
    }

    public func deleteBudget(_ id: BudgetID) async throws {
        let ledger = self.ledger
        try await withConnection { connection throws(RouterError) in try ledger.deleteBudget(id, connection) }
    }

    public func append(_ batch: StoreBatch) async throws {
        guard !batch.isEmpty else { return }
        // Encode before taking the write lock, so the transaction holds it only for SQLite work.
        let transitions = try batch.transitions.map { transition throws(RouterError) in (transition, try StoreRecordCoding.encode(transition)) }
        let decisions = try batch.decisions.map { sample throws(RouterError) in (sample, try StoreRecordCoding.encode(sample)) }
        let usage = try batch.usage.map { event throws(RouterError) in (event, try StoreRecordCoding.encode(event.tags)) }
        let ledger = self.ledger
        try await withConnection { connection throws(RouterError) in
            try connection.transaction { () throws(RouterError) in
                if let id = batch.id, try !ledger.recordBatch(id, connection) { return }
                for (event, tags) in usage {
                    let seq = try connection.query(
                        """
                        INSERT INTO usage_events (lease_id, key_id, provider, model, input_tokens, output_tokens, cost, latency_ns, outcome, failure, tags, at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING seq
                        """,
                        [
                            .integer(Int64(bitPattern: event.leaseID)), .text(event.keyID.rawValue), .text(event.model.provider.rawValue),
                            .text(event.model.name), .integer(Int64(event.inputTokens)), .integer(Int64(event.outputTokens)),
                            .integer(event.cost.nanodollars), event.latencyNanoseconds.map { .integer($0) } ?? .null,
                            .text(event.outcome.rawValue), event.failure.map { .text($0) } ?? .null, .text(tags),
                            .integer(event.at.nanosecondsSinceEpoch),
                        ]).first?.integer(0, "usage event") ?? 0
                    for tag in event.tags {
                        try connection.query(
                            "INSERT INTO usage_tags (usage_seq, tag, cost, at) VALUES (?, ?, ?, ?)",
                            [.integer(seq), .text(tag), .integer(event.cost.nanodollars), .integer(event.at.nanosecondsSinceEpoch)])
                    }
                }
                try ledger.insert(transitions: transitions, decisions: decisions, spend: batch.spend, connection)
            }
        }
    }

    public func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition] {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.transitions(of: keyID, limit: limit, connection) }
    }

    public func pruneLedger(before cutoff: Timestamp) async throws -> Int {
        try await withConnection { connection throws(RouterError) in
            try connection.transaction { () throws(RouterError) -> Int in
                let at: [SQLiteConnection.Value] = [.integer(cutoff.nanosecondsSinceEpoch)]
                let deleted = try connection.query("SELECT COUNT(*) FROM usage_events WHERE at < ?", at).first?.integer(0, "usage count") ?? 0
                try connection.query("DELETE FROM usage_tags WHERE at < ?", at)
                try connection.query("DELETE FROM usage_events WHERE at < ?", at)
                try connection.query("DELETE FROM transitions WHERE at < ?", at)
                try connection.query("DELETE FROM decision_samples WHERE at < ?", at)
                return Int(deleted)
            }
        }
    }

    public func ledgerSize() async throws -> Int {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.ledgerSize(connection) }
    }

    public func latestTransitions() async throws -> [KeyID: KeyTransition] {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.latestTransitions(connection) }
    }

    public func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent] {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.usageEvents(from: from, to: to, limit: limit, connection) }
    }

    public func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money] {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.spend(from: from, to: to, groupedBy: grouping, connection) }
    }

    public func usageTotals(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: UsageTotals] {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.usageTotals(from: from, to: to, groupedBy: grouping, connection) }
    }

    public func decisionSamples(limit: Int) async throws -> [DecisionSample] {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.decisionSamples(limit: limit, connection) }
    }

    public func spend(of budget: BudgetID, periodStart: Timestamp) async throws -> Money {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.spend(of: budget, periodStart: periodStart, connection) }
    }

    public func sharedRecord(_ key: String) async throws -> SharedRecord? {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in try ledger.sharedRecord(key, connection) }
    }

    public func writeSharedRecord(_ key: String, body: String, expectedVersion: Int64?) async throws -> Bool {
        let ledger = self.ledger
        return try await withConnection { connection throws(RouterError) in
            try ledger.writeSharedRecord(key, body: body, expectedVersion: expectedVersion, connection)
        }
    }

    public func addSpend(_ amount: Money, to budget: BudgetID, periodStart: Timestamp, limit: Money?) async throws -> Money? {
        try await withConnection { connection throws(RouterError) in
            try connection.transaction { () throws(RouterError) -> Money? in
                try connection.query(
                    "INSERT INTO budget_spend (budget_id, period_start, spent) VALUES (?, ?, 0) ON CONFLICT (budget_id, period_start) DO NOTHING",
                    [.text(budget.rawValue), .integer(periodStart.nanosecondsSinceEpoch)])
                // The guard in the WHERE clause makes the check and the increment one atomic step.
                let row = try connection.query(
                    "UPDATE budget_spend SET spent = spent + ? WHERE budget_id = ? AND period_start = ? AND (? IS NULL OR spent + ? <= ?) RETURNING spent",
                    [
                        .integer(amount.nanodollars), .text(budget.rawValue), .integer(periodStart.nanosecondsSinceEpoch),
                        limit.map { .integer($0.nanodollars) } ?? .null, .integer(amount.nanodollars),
                        limit.map { .integer($0.nanodollars) } ?? .null,
                    ]).first
                return try row.map { row throws(RouterError) in Money(nanodollars: try row.integer(0, "spend of budget '\(budget)'")) }
            }
        }
    }
}
