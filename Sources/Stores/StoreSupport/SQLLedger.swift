package import RouterSDK

/// The statements the SQLite and PostgreSQL stores run alike, written once over a
/// ``SQLDialect``: reads of keys, budgets and the ledger, budget writes, and the parts of a batch
/// both insert row by row. What differs (key compare-and-set, the usage insert, pruning, the
/// conditional spend increment, migrations) stays in each store.
///
/// Every method runs synchronously on the connection it is given, inside the store's pool.
package struct SQLLedger: Sendable {
    private let selectKeys: String
    private let deleteKeyStatement: String
    private let selectBudgets: String
    private let insertBudget: String
    private let updateBudget: String
    private let budgetVersion: String
    private let deleteBudgetStatement: String
    private let recordWriterBatch: String
    private let insertTransition: String
    private let insertDecision: String
    private let addSpendDelta: String
    private let transitionsOfKey: String
    private let allTransitions: String
    private let newestTransitions: String
    private let countUsage: String
    private let selectUsage: String
    private let selectDecisions: String
    private let selectSpend: String
    private let totalsQueries: [SpendGrouping: String]
    private let selectSharedRecord: String
    private let insertSharedRecord: String
    private let updateSharedRecord: String
    /// Names the key table in corrupt-record messages.
    private let keysTable: String
    private let budgetsTable: String

    package init(_ dialect: SQLDialect) {
        let sql = dialect.statement
        keysTable = dialect.tablePrefix + "keys"
        budgetsTable = dialect.tablePrefix + "budgets"
        selectKeys = sql("SELECT id, settings, master_key_id, sealed_secret, state, version, updated_at FROM {keys} ORDER BY id")
        deleteKeyStatement = sql("DELETE FROM {keys} WHERE id = ? RETURNING id")
        selectBudgets = sql("SELECT id, definition, version, updated_at FROM {budgets} ORDER BY id")
        // Each returns a row only when it wrote: compare-and-set on the version, one atomic statement.
        insertBudget = sql("INSERT INTO {budgets} (id, definition, version, updated_at) VALUES (?, ?, ?, ?) ON CONFLICT (id) DO NOTHING RETURNING id")
        updateBudget = sql("UPDATE {budgets} SET definition = ?, version = ?, updated_at = ? WHERE id = ? AND version = ? RETURNING id")
        budgetVersion = sql("SELECT version FROM {budgets} WHERE id = ?")
        deleteBudgetStatement = sql("DELETE FROM {budgets} WHERE id = ? RETURNING id")
        // Records the writer's sequence, or returns no row if this batch (or a later one of the
        // same writer) was already applied: then nothing is written twice.
        recordWriterBatch = sql("""
            INSERT INTO {writer_batches} (writer, sequence) VALUES (?, ?)
            ON CONFLICT (writer) DO UPDATE SET sequence = excluded.sequence WHERE {writer_batches}.sequence < excluded.sequence
            RETURNING sequence
            """)
        insertTransition = sql("INSERT INTO {transitions} (key_id, record, at) VALUES (?, ?, ?)")
        insertDecision = sql("INSERT INTO {decision_samples} (record, at) VALUES (?, ?)")
        addSpendDelta = sql("""
            INSERT INTO {budget_spend} (budget_id, period_start, spent) VALUES (?, ?, ?)
            ON CONFLICT (budget_id, period_start) DO UPDATE SET spent = {budget_spend}.spent + excluded.spent
            """)
        transitionsOfKey = sql("SELECT seq, record FROM {transitions} WHERE key_id = ? ORDER BY seq DESC LIMIT ?")
        allTransitions = sql("SELECT seq, record FROM {transitions} ORDER BY seq DESC LIMIT ?")
        newestTransitions = sql("""
            SELECT t.seq, t.record FROM {transitions} t
            JOIN (SELECT key_id, MAX(seq) AS seq FROM {transitions} GROUP BY key_id) newest ON t.seq = newest.seq
            """)
        countUsage = sql("SELECT COUNT(*) FROM {usage_events}")
        selectUsage = sql("""
            SELECT seq, lease_id, key_id, provider, model, input_tokens, output_tokens, cost, latency_ns, outcome, failure, tags, at
            FROM {usage_events} WHERE at >= ? AND at < ? ORDER BY seq LIMIT ?
            """)
        selectDecisions = sql("SELECT seq, record FROM {decision_samples} ORDER BY seq DESC LIMIT ?")
        selectSpend = sql("SELECT spent FROM {budget_spend} WHERE budget_id = ? AND period_start = ?")
        selectSharedRecord = sql("SELECT version, body FROM {shared_records} WHERE key = ?")
        // Returns a row only when it wrote: the insert only if no record has the key, the
        // update only if the version is the one expected (one atomic statement each).
        insertSharedRecord = sql("INSERT INTO {shared_records} (key, version, body) VALUES (?, 1, ?) ON CONFLICT (key) DO NOTHING RETURNING version")
        updateSharedRecord = sql("UPDATE {shared_records} SET version = version + 1, body = ? WHERE key = ? AND version = ? RETURNING version")
        let cast = dialect.sumCast
        let totals = "COUNT(*), SUM(input_tokens)\(cast), SUM(output_tokens)\(cast), SUM(cost)\(cast)"
        let tagTotals = "COUNT(*), SUM(e.input_tokens)\(cast), SUM(e.output_tokens)\(cast), SUM(e.cost)\(cast)"
        totalsQueries = [
            .total: sql("SELECT 'total', \(totals) FROM {usage_events} WHERE at >= ? AND at < ? HAVING COUNT(*) > 0"),
            .key: sql("SELECT key_id, \(totals) FROM {usage_events} WHERE at >= ? AND at < ? GROUP BY key_id"),
            .provider: sql("SELECT provider, \(totals) FROM {usage_events} WHERE at >= ? AND at < ? GROUP BY provider"),
            .model: sql("SELECT provider || '/' || model, \(totals) FROM {usage_events} WHERE at >= ? AND at < ? GROUP BY provider, model"),
            .tag: sql("SELECT t.tag, \(tagTotals) FROM {usage_tags} t JOIN {usage_events} e ON e.seq = t.usage_seq WHERE t.at >= ? AND t.at < ? GROUP BY t.tag"),
        ]
    }

    // MARK: Keys and budgets

    package func loadKeys(_ connection: some SQLConnection) throws(RouterError) -> [StoredKey] {
        try connection.query(selectKeys, []).map { row throws(RouterError) in try row.storedKey(table: keysTable) }
    }

    package func deleteKey(_ id: KeyID, _ connection: some SQLConnection) throws(RouterError) {
        guard !(try connection.query(deleteKeyStatement, [.text(id.rawValue)])).isEmpty else {
            throw RouterError(.unknownKey, "key '\(id)' is not in the store", keyID: id)
        }
    }

    package func loadBudgets(_ connection: some SQLConnection) throws(RouterError) -> [StoredBudget] {
        try connection.query(selectBudgets, []).map { row throws(RouterError) in try row.storedBudget(table: "table \(budgetsTable)") }
    }

    /// Inserts or replaces `budget` with a compare-and-set on its version (the store contract).
    package func saveBudget(_ budget: StoredBudget, definition: String, expectedVersion: Int64?, _ connection: some SQLConnection) throws(RouterError) {
        let id = SQLValue.text(budget.id.rawValue)
        let written = if let expectedVersion {
            try connection.query(updateBudget, [.text(definition), .integer(budget.version), .integer(budget.updatedAt.nanosecondsSinceEpoch), id, .integer(expectedVersion)])
        } else {
            try connection.query(insertBudget, [id, .text(definition), .integer(budget.version), .integer(budget.updatedAt.nanosecondsSinceEpoch)])
        }
        guard written.isEmpty else { return }
        guard let current = try connection.query(budgetVersion, [id]).first else {
            throw RouterError(.unknownBudget, "budget '\(budget.id)' is not in the store", budgetID: budget.id)
        }
        guard let expectedVersion else {
            throw RouterError(.versionConflict, "budget '\(budget.id)' already exists in the store", budgetID: budget.id)
        }
        throw RouterError(
            .versionConflict, "budget '\(budget.id)' is at version \((try? current.integer(0, "")) ?? -1), expected \(expectedVersion)", budgetID: budget.id)
    }

    package func deleteBudget(_ id: BudgetID, _ connection: some SQLConnection) throws(RouterError) {
        guard !(try connection.query(deleteBudgetStatement, [.text(id.rawValue)])).isEmpty else {
            throw RouterError(.unknownBudget, "budget '\(id)' is not in the store", budgetID: id)
        }
    }

    // MARK: Batches

    /// Records batch `id` for its writer; `false` if it (or a later one) was applied before.
    package func recordBatch(_ id: BatchID, _ connection: some SQLConnection) throws(RouterError) -> Bool {
        !(try connection.query(recordWriterBatch, [.text(id.writer), .integer(id.sequence)])).isEmpty
    }

    /// Inserts a batch's transitions, decision samples and spend deltas (already encoded).
    package func insert(
        transitions: [(KeyTransition, String)], decisions: [(DecisionSample, String)], spend: [SpendDelta], _ connection: some SQLConnection
    ) throws(RouterError) {
        for (transition, record) in transitions {
            try connection.query(insertTransition, [.text(transition.keyID.rawValue), .text(record), .integer(transition.at.nanosecondsSinceEpoch)])
        }
        for (sample, record) in decisions {
            try connection.query(insertDecision, [.text(record), .integer(sample.at.nanosecondsSinceEpoch)])
        }
        for delta in spend {
            try connection.query(addSpendDelta, [.text(delta.budgetID.rawValue), .integer(delta.periodStart.nanosecondsSinceEpoch), .integer(delta.amount.nanodollars)])
        }
    }

    // MARK: Ledger reads

    package func transitions(of keyID: KeyID?, limit: Int, _ connection: some SQLConnection) throws(RouterError) -> [KeyTransition] {
        let rows = if let keyID {
            try connection.query(transitionsOfKey, [.text(keyID.rawValue), .integer(Int64(max(0, limit)))])
        } else {
            try connection.query(allTransitions, [.integer(Int64(max(0, limit)))])
        }
        return try rows.map { row throws(RouterError) in try Self.transition(row) }
    }

    package func latestTransitions(_ connection: some SQLConnection) throws(RouterError) -> [KeyID: KeyTransition] {
        var result: [KeyID: KeyTransition] = [:]
        for row in try connection.query(newestTransitions, []) {
            let transition = try Self.transition(row)
            result[transition.keyID] = transition
        }
        return result
    }

    package func ledgerSize(_ connection: some SQLConnection) throws(RouterError) -> Int {
        Int(try connection.query(countUsage, []).first?.integer(0, "usage count") ?? 0)
    }

    package func usageEvents(from: Timestamp, to: Timestamp, limit: Int, _ connection: some SQLConnection) throws(RouterError) -> [UsageEvent] {
        try connection.query(selectUsage, [.integer(from.nanosecondsSinceEpoch), .integer(to.nanosecondsSinceEpoch), .integer(Int64(max(0, limit)))])
            .map { row throws(RouterError) in try row.usageEvent() }
    }

    package func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping, _ connection: some SQLConnection) throws(RouterError) -> [String: Money] {
        try usageTotals(from: from, to: to, groupedBy: grouping, connection).mapValues(\.cost)
    }

    package func usageTotals(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping, _ connection: some SQLConnection) throws(RouterError) -> [String: UsageTotals] {
        guard let sql = totalsQueries[grouping] else { throw RouterError(.invalidArgument, "unknown usage grouping \(grouping)") }
        var result: [String: UsageTotals] = [:]
        for row in try connection.query(sql, [.integer(from.nanosecondsSinceEpoch), .integer(to.nanosecondsSinceEpoch)]) {
            let what = "usage totals"
            result[try row.text(0, what)] = UsageTotals(
                requests: Int(try row.integer(1, what)), inputTokens: try row.integer(2, what), outputTokens: try row.integer(3, what),
                cost: Money(nanodollars: try row.integer(4, what)))
        }
        return result
    }

    package func decisionSamples(limit: Int, _ connection: some SQLConnection) throws(RouterError) -> [DecisionSample] {
        try connection.query(selectDecisions, [.integer(Int64(max(0, limit)))]).map { row throws(RouterError) in
            let record = "decision sample #\((try? row.integer(0, "")) ?? 0)"
            return try StoreRecordCoding.decode(DecisionSample.self, from: try row.text(1, record), record: record)
        }
    }

    package func spend(of budget: BudgetID, periodStart: Timestamp, _ connection: some SQLConnection) throws(RouterError) -> Money {
        let row = try connection.query(selectSpend, [.text(budget.rawValue), .integer(periodStart.nanosecondsSinceEpoch)]).first
        return Money(nanodollars: try row?.integer(0, "spend of budget '\(budget)'") ?? 0)
    }

    // MARK: Shared records

    package func sharedRecord(_ key: String, _ connection: some SQLConnection) throws(RouterError) -> SharedRecord? {
        guard let row = try connection.query(selectSharedRecord, [.text(key)]).first else { return nil }
        let record = "shared record '\(key)'"
        return SharedRecord(version: try row.integer(0, record), body: try row.text(1, record))
    }

    package func writeSharedRecord(_ key: String, body: String, expectedVersion: Int64?, _ connection: some SQLConnection) throws(RouterError) -> Bool {
        let rows = if let expectedVersion {
            try connection.query(updateSharedRecord, [.text(body), .text(key), .integer(expectedVersion)])
        } else {
            try connection.query(insertSharedRecord, [.text(key), .text(body)])
        }
        return !rows.isEmpty
    }

    private static func transition(_ row: some StoreRow) throws(RouterError) -> KeyTransition {
        let record = "transition #\((try? row.integer(0, "")) ?? 0)"
        return try StoreRecordCoding.decode(KeyTransition.self, from: try row.text(1, record), record: record)
    }
}
