import Foundation
public import Logging
public import RouterSDK
import StoreSupport

/// A ``StateStore`` in PostgreSQL over the system's libpq.
///
/// - A pool of connections (``Configuration/poolSize``), each with its own serial queue, so
///   blocking libpq calls never run on Swift's cooperative thread pool.
/// - Parameterized statements only; every batch and every compare-and-set is one transaction;
///   budget increments are a single conditional `UPDATE … WHERE spent + $1 <= $limit RETURNING`,
///   so concurrent routers (in one process or many) never take a counter past its limit.
/// - Versioned schema with migrations on open, serialized across processes with an advisory
///   lock; a database from newer code is refused with ``RouterError/Code/schemaTooNew``.
/// - Standard connection URLs (`postgres://user:password@host:port/db?sslmode=require`), passed
///   to libpq as they are (so `sslmode` and friends work); the password never appears in errors
///   or logs.
public final class PostgresStateStore: StateStore {
    /// How to connect.
    public typealias Configuration = ServerStoreConfiguration

    private let pool: PostgresConnectionPool
    /// The statements this store shares with the SQLite store.
    private let ledger = SQLLedger(.postgres)
    private let logger: Logger
    /// The URL with its password masked, for logs and messages.
    public let redactedURL: String

    private init(pool: PostgresConnectionPool, redactedURL: String, logger: Logger) {
        self.pool = pool
        self.redactedURL = redactedURL
        self.logger = logger
    }

    /// Connects, migrates the schema, and returns the store.
    ///
    /// - Throws: `invalidStoreURL` for a URL libpq cannot use, `storeUnreachable` when the server
    ///   does not answer within the connect timeout, `schemaTooNew`, `storeFailure`.
    public static func open(_ configuration: Configuration, logger: Logger = Logger(label: "RouterSDK.Postgres")) async throws -> PostgresStateStore {
        try configuration.validate()
        let url = try withConnectTimeout(configuration.url, seconds: configuration.connectTimeoutSeconds)
        let redactor = URLRedactor(url: url)
        let pool = PostgresConnectionPool(url: url, redactor: redactor, size: configuration.poolSize)
        let store = PostgresStateStore(pool: pool, redactedURL: redactor.redactedURL, logger: logger)
        try await store.migrate(to: PostgresSchema.currentVersion)
        return store
    }

    /// Adds the timeouts a `postgres://` URL lacks, so a server that goes away fails calls
    /// instead of hanging them (the router's writer then retries with backoff):
    /// - `connect_timeout` (the configured seconds);
    /// - TCP keepalives (`keepalives=1`, idle 10 s, interval 5 s, 3 probes) and
    ///   `tcp_user_timeout` (15 s), so a dead peer is noticed on an idle or a busy connection;
    /// - `statement_timeout` of 30 s (through `options`), so no statement holds a pooled
    ///   connection for ever.
    /// Parameters the URL sets itself are kept as they are.
    static func withConnectTimeout(_ url: String, seconds: Int) throws(RouterError) -> String {
        guard var components = URLComponents(string: url), let scheme = components.scheme,
            ["postgres", "postgresql"].contains(scheme), let host = components.host, !host.isEmpty
        else {
            throw RouterError(.invalidStoreURL, "'\(URLRedactor(url: url).redactedURL)' is not a postgres:// URL with a host")
        }
        var items = components.percentEncodedQueryItems ?? []
        let defaults: [(String, String)] = [
            ("connect_timeout", String(seconds)), ("keepalives", "1"), ("keepalives_idle", "10"), ("keepalives_interval", "5"),
            ("keepalives_count", "3"), ("tcp_user_timeout", "15000"),
            // libpq splits parameters at "=", so the one inside the value is percent-encoded.
            ("options", "-c%20statement_timeout%3D30000"),
        ]
        for (name, value) in defaults where !items.contains(where: { $0.name == name }) {
            items.append(URLQueryItem(name: name, value: value))
        }
        components.percentEncodedQueryItems = items
        return components.string ?? url
    }

    /// The schema version this code writes.
    public static var schemaVersion: Int { PostgresSchema.currentVersion }

    /// The schema version of the database (0 if RouterSDK never migrated it).
    public func schemaVersion() async throws -> Int {
        try await pool.run { connection throws(RouterError) in try Self.version(connection) }
    }

    private static func version(_ connection: PostgresConnection) throws(RouterError) -> Int {
        let exists = try connection.query("SELECT to_regclass('routersdk_schema') IS NOT NULL").first?.cells.first ?? nil
        guard exists == "t" else { return 0 }
        return Int(try connection.query("SELECT version FROM routersdk_schema").first?.integer(0, "routersdk_schema") ?? 0)
    }

    /// Migrates to `target` (tests of older schemas stop early), one transaction per step, under
    /// an advisory lock so concurrent processes migrate once.
    func migrate(to target: Int) async throws(RouterError) {
        let logger = self.logger
        let redactedURL = self.redactedURL
        try await pool.run { connection throws(RouterError) in
            try connection.transaction { () throws(RouterError) in
                try connection.query("SELECT pg_advisory_xact_lock(7305517)")
                let version = try Self.version(connection)
                guard version <= PostgresSchema.currentVersion else {
                    throw RouterError(.schemaTooNew, "PostgreSQL database at \(redactedURL) has schema version \(version); this RouterSDK understands up to \(PostgresSchema.currentVersion)")
                }
                guard version < target else { return }
                if version == 0 {
                    try connection.query("CREATE TABLE routersdk_schema (version INTEGER NOT NULL)")
                    try connection.query("INSERT INTO routersdk_schema (version) VALUES (0)")
                }
                for step in version..<target {
                    for statement in PostgresSchema.migrations[step].split(separator: ";") where !statement.allSatisfy(\.isWhitespace) {
                        try connection.query(String(statement))
                    }
                    try connection.query("UPDATE routersdk_schema SET version = $1", [.integer(Int64(step + 1))])
                    logger.info("migrated PostgreSQL schema", metadata: ["url": "\(redactedURL)", "version": "\(step + 1)"])
                }
            }
        }
    }

    /// Closes the pool's connections.
    /// A database server outlives the process.
    public var persistsAcrossRestarts: Bool { true }

    public func close() async {
        await pool.close()
    }

    // MARK: StateStore

    public func ping() async throws {
        try await pool.run { connection throws(RouterError) in _ = try connection.query("SELECT 1") }
    }

    public func loadKeys() async throws -> [StoredKey] {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.loadKeys(connection) }
    }

    public func saveKey(_ key: StoredKey, expectedVersion: Int64?) async throws {
        let settings = try StoreRecordCoding.encode(key.settings)
        let state = try StoreRecordCoding.encode(key.state)
        try await pool.run { connection throws(RouterError) in
            let values: [PostgresConnection.Value] = [
                .text(key.id.rawValue), .text(key.settings.provider.rawValue), .text(settings), .text(key.sealedSecret.masterKeyID),
                .bytes(key.sealedSecret.combined), .text(state), .integer(key.version), .integer(key.updatedAt.nanosecondsSinceEpoch),
            ]
            if let expectedVersion {
                // Compare-and-set in one statement: only the expected version is replaced.
                let updated = try connection.query(
                    """
                    UPDATE routersdk_keys SET provider = $2, settings = $3, master_key_id = $4, sealed_secret = $5::bytea, state = $6,
                        version = $7, updated_at = $8 WHERE id = $1 AND version = $9 RETURNING version
                    """, values + [.integer(expectedVersion)])
                guard updated.isEmpty else { return }
                let current = try connection.query("SELECT version FROM routersdk_keys WHERE id = $1", [.text(key.id.rawValue)]).first
                guard let current else { throw RouterError(.unknownKey, "key '\(key.id)' is not in the store", keyID: key.id) }
                throw RouterError(.versionConflict, "key '\(key.id)' is at version \((try? current.integer(0, "")) ?? -1), expected \(expectedVersion)", keyID: key.id)
            } else {
                let inserted = try connection.query(
                    """
                    INSERT INTO routersdk_keys (id, provider, settings, master_key_id, sealed_secret, state, version, updated_at)
                    VALUES ($1, $2, $3, $4, $5::bytea, $6, $7, $8) ON CONFLICT (id) DO NOTHING RETURNING id
                    """, values)
                guard !inserted.isEmpty else {
                    throw RouterError(.versionConflict, "key '\(key.id)' already exists in the store", keyID: key.id)
                }
            }
        }
    }

    public func deleteKey(_ id: KeyID) async throws {
        let ledger = self.ledger
        try await pool.run { connection throws(RouterError) in try ledger.deleteKey(id, connection) }
    }

    public func loadBudgets() async throws -> [StoredBudget] {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.loadBudgets(connection) }
    }

    public func saveBudget(_ budget: StoredBudget, expectedVersion: Int64?) async throws {
        let definition = try StoreRecordCoding.encode(budget.budget)
        let ledger = self.ledger
        try await pool.run { connection throws(RouterError) in
            try ledger.saveBudget(budget, definition: definition, expectedVersion: expectedVersion, connection)
        }
    }

    public func deleteBudget(_ id: BudgetID) async throws {
        let ledger = self.ledger
        try await pool.run { connection throws(RouterError) in try ledger.deleteBudget(id, connection) }
    }

    public func append(_ batch: StoreBatch) async throws {
        guard !batch.isEmpty else { return }
        let transitions = try batch.transitions.map { transition throws(RouterError) in (transition, try StoreRecordCoding.encode(transition)) }
        let decisions = try batch.decisions.map { sample throws(RouterError) in (sample, try StoreRecordCoding.encode(sample)) }
        let usageRows = try StoreRecordCoding.encode(try batch.usage.enumerated().map { offset, event throws(RouterError) in try UsageRow(order: offset, event: event) })
        let ledger = self.ledger
        try await pool.run { connection throws(RouterError) in
            try connection.transaction { () throws(RouterError) in
                if let id = batch.id, try !ledger.recordBatch(id, connection) { return }
                if !batch.usage.isEmpty {
                    // One statement for the whole batch: the events arrive as one JSON parameter,
                    // are inserted in order, and their tags fan out into routersdk_usage_tags.
                    try connection.query(
                        """
                        WITH rows AS (
                            SELECT * FROM jsonb_to_recordset($1::jsonb) AS r(
                                ord INT, lease_id BIGINT, key_id TEXT, provider TEXT, model TEXT, input_tokens BIGINT,
                                output_tokens BIGINT, cost BIGINT, latency_ns BIGINT, outcome TEXT, failure TEXT, tags TEXT, at BIGINT)
                        ), inserted AS (
                            INSERT INTO routersdk_usage_events (lease_id, key_id, provider, model, input_tokens, output_tokens, cost, latency_ns, outcome, failure, tags, at)
                            SELECT lease_id, key_id, provider, model, input_tokens, output_tokens, cost, latency_ns, outcome, failure, tags, at
                            FROM rows ORDER BY ord
                            RETURNING seq, tags, cost, at
                        )
                        INSERT INTO routersdk_usage_tags (usage_seq, tag, cost, at)
                        SELECT seq, jsonb_array_elements_text(tags::jsonb), cost, at FROM inserted
                        """,
                        [.text(usageRows)])
                }
                try ledger.insert(transitions: transitions, decisions: decisions, spend: batch.spend, connection)
            }
        }
    }

    public func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition] {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.transitions(of: keyID, limit: limit, connection) }
    }

    public func pruneLedger(before cutoff: Timestamp) async throws -> Int {
        try await pool.run { connection throws(RouterError) in
            try connection.transaction { () throws(RouterError) -> Int in
                let at: [PostgresConnection.Value] = [.integer(cutoff.nanosecondsSinceEpoch)]
                try connection.query("DELETE FROM routersdk_usage_tags WHERE at < $1", at)
                let deleted = try connection.query("WITH gone AS (DELETE FROM routersdk_usage_events WHERE at < $1 RETURNING 1) SELECT COUNT(*) FROM gone", at)
                try connection.query("DELETE FROM routersdk_transitions WHERE at < $1", at)
                try connection.query("DELETE FROM routersdk_decision_samples WHERE at < $1", at)
                return Int(try deleted.first?.integer(0, "deleted usage events") ?? 0)
            }
        }
    }

    public func ledgerSize() async throws -> Int {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.ledgerSize(connection) }
    }

    public func latestTransitions() async throws -> [KeyID: KeyTransition] {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.latestTransitions(connection) }
    }

    public func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent] {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.usageEvents(from: from, to: to, limit: limit, connection) }
    }

    public func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money] {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.spend(from: from, to: to, groupedBy: grouping, connection) }
    }

    public func usageTotals(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: UsageTotals] {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.usageTotals(from: from, to: to, groupedBy: grouping, connection) }
    }

    public func decisionSamples(limit: Int) async throws -> [DecisionSample] {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.decisionSamples(limit: limit, connection) }
    }

    public func spend(of budget: BudgetID, periodStart: Timestamp) async throws -> Money {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.spend(of: budget, periodStart: periodStart, connection) }
    }

    public func sharedRecord(_ key: String) async throws -> SharedRecord? {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in try ledger.sharedRecord(key, connection) }
    }

    public func writeSharedRecord(_ key: String, body: String, expectedVersion: Int64?) async throws -> Bool {
        let ledger = self.ledger
        return try await pool.run { connection throws(RouterError) in
            try ledger.writeSharedRecord(key, body: body, expectedVersion: expectedVersion, connection)
        }
    }

    public func addSpend(_ amount: Money, to budget: BudgetID, periodStart: Timestamp, limit: Money?) async throws -> Money? {
        try await pool.run { connection throws(RouterError) -> Money? in
            // One atomic statement: insert the first spend of a period, or add to it, each only if
            // the result stays within the limit. Concurrent upserts on one row serialize on its
            // lock and re-check the condition, so none passes the limit.
            let row = try connection.query(
                """
                INSERT INTO routersdk_budget_spend (budget_id, period_start, spent)
                SELECT $2, $3, $1 WHERE $4::BIGINT IS NULL OR $1 <= $4::BIGINT
                ON CONFLICT (budget_id, period_start) DO UPDATE SET spent = routersdk_budget_spend.spent + EXCLUDED.spent
                WHERE $4::BIGINT IS NULL OR routersdk_budget_spend.spent + EXCLUDED.spent <= $4::BIGINT
                RETURNING spent
                """,
                [.integer(amount.nanodollars), .text(budget.rawValue), .integer(periodStart.nanosecondsSinceEpoch), limit.map { .integer($0.nanodollars) } ?? .null]).first
            return try row.map { row throws(RouterError) in Money(nanodollars: try row.integer(0, "spend of budget '\(budget)'")) }
        }
    }
}

/// One usage event as the batch-insert statement's JSON parameter spells it.
private struct UsageRow: Encodable {
    var ord: Int
    var lease_id: Int64
    var key_id: String
    var provider: String
    var model: String
    var input_tokens: Int
    var output_tokens: Int
    var cost: Int64
    var latency_ns: Int64?
    var outcome: String
    var failure: String?
    /// The tags as JSON text, stored as they are in the `tags` column.
    var tags: String
    var at: Int64

    init(order: Int, event: UsageEvent) throws(RouterError) {
        ord = order
        lease_id = Int64(bitPattern: event.leaseID)
        key_id = event.keyID.rawValue
        provider = event.model.provider.rawValue
        model = event.model.name
        input_tokens = event.inputTokens
        output_tokens = event.outputTokens
        cost = event.cost.nanodollars
        latency_ns = event.latencyNanoseconds
        outcome = event.outcome.rawValue
        failure = event.failure
        tags = try StoreRecordCoding.encode(event.tags)
        at = event.at.nanosecondsSinceEpoch
    }
}
