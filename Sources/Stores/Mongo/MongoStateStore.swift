import Foundation
public import Logging
public import RouterSDK
import StoreSupport

/// A ``StateStore`` in MongoDB over the system's libmongoc.
///
/// - A libmongoc client pool; each pooled client has its own serial queue, so blocking
///   libmongoc calls never run on Swift's cooperative thread pool.
/// - Keys are compare-and-set on their `version` field (a conditional single-document update);
///   budget increments are one conditional `findAndModify` with `$inc`
///   (`{spent: {$lte: limit - amount}}`), so concurrent routers in any number of processes never
///   take a counter past its limit.
/// - Each ``append(_:)`` is one multi-document transaction (retried on MongoDB's
///   `TransientTransactionError`), so MongoDB must run as a replica set or sharded cluster —
///   MongoDB's own requirement for transactions; a single-node replica set is enough.
/// - Indexes are created on open; the `routersdk_meta` collection records the schema version and
///   a database from newer code is refused with ``RouterError/Code/schemaTooNew`` before anything
///   is written.
/// - Standard `mongodb://` URLs; the database is the URL's path (`routersdk` if none). When the
///   URL sets neither, `serverSelectionTimeoutMS` and `connectTimeoutMS` come from
///   ``RouterSDK/ServerStoreConfiguration/connectTimeoutSeconds``. The password never appears in errors or logs.
public final class MongoStateStore: StateStore {
    /// How to connect.
    public typealias Configuration = ServerStoreConfiguration

    private let pool: MongoConnectionPool
    private let logger: Logger
    /// The URL with its password masked, for logs and messages.
    public let redactedURL: String
    /// The database the store uses.
    public let databaseName: String

    private init(pool: MongoConnectionPool, redactedURL: String, databaseName: String, logger: Logger) {
        self.pool = pool
        self.redactedURL = redactedURL
        self.databaseName = databaseName
        self.logger = logger
    }

    /// Connects, creates indexes, migrates the schema, and returns the store.
    ///
    /// - Throws: `invalidStoreURL` for a URL libmongoc cannot use, `storeUnreachable` when no
    ///   server answers within the connect timeout, `schemaTooNew`, `corruptRecord`,
    ///   `storeFailure`.
    public static func open(_ configuration: Configuration, logger: Logger = Logger(label: "RouterSDK.Mongo")) async throws -> MongoStateStore {
        try await open(configuration, schemaVersion: MongoSchema.currentVersion, logger: logger)
    }

    /// Opens at `schemaVersion` (tests of older schemas stop early).
    static func open(_ configuration: Configuration, schemaVersion target: Int, logger: Logger) async throws(RouterError) -> MongoStateStore {
        try configuration.validate()
        let clients = try MongoClientPool(
            url: configuration.url, size: configuration.poolSize,
            connectTimeoutMilliseconds: Int32(clamping: configuration.connectTimeoutSeconds * 1_000))
        let pool = MongoConnectionPool(label: "RouterSDK.MongoConnection", size: configuration.poolSize, closedMessage: "the MongoDB store is closed") {
            MongoConnection(pool: clients)
        }
        let store = MongoStateStore(pool: pool, redactedURL: clients.redactor.redactedURL, databaseName: clients.databaseName, logger: logger)
        do {
            try await store.migrate(to: target)
        } catch {
            await pool.close()
            throw error
        }
        return store
    }

    /// The schema version this code writes.
    public static var schemaVersion: Int { MongoSchema.currentVersion }

    /// The schema version of the database (0 if RouterSDK never opened it).
    public func schemaVersion() async throws -> Int {
        try await pool.run { connection throws(RouterError) in try Self.version(connection) }
    }

    private static func version(_ connection: MongoConnection) throws(RouterError) -> Int {
        guard let document = try connection.find(MongoSchema.meta, ["_id": .string(MongoSchema.schemaID)], limit: 1).first else { return 0 }
        guard let version = document["version"]?.integer else {
            throw RouterError(.corruptRecord, "the schema document in \(MongoSchema.meta) is corrupted: 'version' is not an integer")
        }
        return Int(version)
    }

    /// Creates the indexes of every version up to `target` (idempotent, so concurrent openers
    /// are safe) and records the version; refuses a newer database before writing anything.
    private func migrate(to target: Int) async throws(RouterError) {
        let logger = self.logger
        let redactedURL = self.redactedURL
        try await pool.run { connection throws(RouterError) in
            let version = try Self.version(connection)
            guard version <= MongoSchema.currentVersion else {
                throw RouterError(.schemaTooNew, "MongoDB database at \(redactedURL) has schema version \(version); this RouterSDK understands up to \(MongoSchema.currentVersion)")
            }
            for step in 0..<max(version, target) {
                for (collection, indexes) in Dictionary(grouping: MongoSchema.migrations[step], by: \.collection) {
                    try connection.command([
                        "createIndexes": .string(collection),
                        "indexes": .array(indexes.map { ["key": $0.keys, "name": .string($0.name)] }),
                    ])
                }
            }
            try connection.updateOne(MongoSchema.meta, ["_id": .string(MongoSchema.sequenceID)], ["$setOnInsert": ["next": 0]], upsert: true)
            if version < target {
                try connection.updateOne(MongoSchema.meta, ["_id": .string(MongoSchema.schemaID)], ["$max": ["version": .int64(Int64(target))]], upsert: true)
                logger.info("migrated MongoDB schema", metadata: ["url": "\(redactedURL)", "version": "\(target)"])
            }
        }
    }

    /// Drops the whole database (tests clean up with it).
    func dropDatabase() async throws(RouterError) {
        try await pool.run { connection throws(RouterError) in try connection.command(["dropDatabase": 1]) }
    }

    /// Returns the pool's clients; the store cannot be used afterwards.
    /// A database server outlives the process.
    public var persistsAcrossRestarts: Bool { true }

    public func close() async {
        await pool.close()
    }

    // MARK: StateStore

    public func ping() async throws {
        try await pool.run { connection throws(RouterError) in try connection.command(["ping": 1], onAdmin: true) }
    }

    public func loadKeys() async throws -> [StoredKey] {
        try await pool.run { connection throws(RouterError) in
            try connection.find(MongoSchema.keys, sort: ["_id": 1]).map { document throws(RouterError) in
                try MongoRow(document: document, fields: KeyDocument.fields).storedKey(table: MongoSchema.keys)
            }
        }
    }

    public func saveKey(_ key: StoredKey, expectedVersion: Int64?) async throws {
        let fields = try KeyDocument.fields(of: key)
        try await pool.run { connection throws(RouterError) in
            guard let expectedVersion else {
                guard try connection.insertUnlessPresent(MongoSchema.keys, .document([.init(name: "_id", value: .string(key.id.rawValue))] + fields)) else {
                    throw RouterError(.versionConflict, "key '\(key.id)' already exists in the store", keyID: key.id)
                }
                return
            }
            // Compare-and-set in one atomic single-document update: only the expected version matches.
            let matched = try connection.updateOne(
                MongoSchema.keys, ["_id": .string(key.id.rawValue), "version": .int64(expectedVersion)], ["$set": .document(fields)])
            guard matched == 0 else { return }
            guard let current = try connection.find(MongoSchema.keys, ["_id": .string(key.id.rawValue)], limit: 1).first else {
                throw RouterError(.unknownKey, "key '\(key.id)' is not in the store", keyID: key.id)
            }
            throw RouterError(.versionConflict, "key '\(key.id)' is at version \(current["version"]?.integer ?? -1), expected \(expectedVersion)", keyID: key.id)
        }
    }

    public func deleteKey(_ id: KeyID) async throws {
        try await pool.run { connection throws(RouterError) in
            guard try connection.deleteOne(MongoSchema.keys, ["_id": .string(id.rawValue)]) > 0 else {
                throw RouterError(.unknownKey, "key '\(id)' is not in the store", keyID: id)
            }
        }
    }

    public func loadBudgets() async throws -> [StoredBudget] {
        try await pool.run { connection throws(RouterError) in
            try connection.find(MongoSchema.budgets, sort: ["_id": 1]).map { document throws(RouterError) in
                try MongoRow(document: document, fields: ["_id", "definition", "version", "updatedAt"]).storedBudget(table: MongoSchema.budgets)
            }
        }
    }

    public func saveBudget(_ budget: StoredBudget, expectedVersion: Int64?) async throws {
        let fields: [BSON.Field] = [
            .init(name: "definition", value: .string(try StoreRecordCoding.encode(budget.budget))),
            .init(name: "version", value: .int64(budget.version)),
            .init(name: "updatedAt", value: .int64(budget.updatedAt.nanosecondsSinceEpoch)),
        ]
        let id = BSON.string(budget.id.rawValue)
        try await pool.run { connection throws(RouterError) in
            guard let expectedVersion else {
                guard try connection.insertUnlessPresent(MongoSchema.budgets, .document([.init(name: "_id", value: id)] + fields)) else {
                    throw RouterError(.versionConflict, "budget '\(budget.id)' already exists in the store", budgetID: budget.id)
                }
                return
            }
            // Compare-and-set in one atomic single-document update. A budget saved before
            // budgets were versioned has no version field: it is version 1.
            let version: BSON = expectedVersion == 1 ? ["$in": [.int64(1), .null]] : .int64(expectedVersion)
            guard try connection.updateOne(MongoSchema.budgets, ["_id": id, "version": version], ["$set": .document(fields)]) == 0 else { return }
            guard let current = try connection.find(MongoSchema.budgets, ["_id": id], limit: 1).first else {
                throw RouterError(.unknownBudget, "budget '\(budget.id)' is not in the store", budgetID: budget.id)
            }
            throw RouterError(
                .versionConflict, "budget '\(budget.id)' is at version \(current["version"]?.integer ?? 1), expected \(expectedVersion)", budgetID: budget.id)
        }
    }

    public func deleteBudget(_ id: BudgetID) async throws {
        try await pool.run { connection throws(RouterError) in
            guard try connection.deleteOne(MongoSchema.budgets, ["_id": .string(id.rawValue)]) > 0 else {
                throw RouterError(.unknownBudget, "budget '\(id)' is not in the store", budgetID: id)
            }
        }
    }

    public func append(_ batch: StoreBatch) async throws {
        guard !batch.isEmpty else { return }
        let transitions = try batch.transitions.map { transition throws(RouterError) in (transition, try StoreRecordCoding.encode(transition)) }
        let decisions = try batch.decisions.map { sample throws(RouterError) in (sample, try StoreRecordCoding.encode(sample)) }
        try await pool.run { connection throws(RouterError) in
            // A batch of the router's writer is applied once: its writer's last sequence is kept
            // in the same transaction. A retry of a batch whose commit went through is skipped.
            if let id = batch.id, try Self.alreadyApplied(id, connection) { return }
            // Ledger ids come from one counter, reserved outside the transaction so concurrent
            // writers never conflict on it (a failed batch leaves a harmless gap).
            let count = Int64(batch.usage.count + transitions.count + decisions.count)
            var next: Int64 = 0
            if count > 0 {
                let counter = try connection.findAndModify(MongoSchema.meta, ["_id": .string(MongoSchema.sequenceID)], ["$inc": ["next": .int64(count)]], upsert: true)
                guard let last = counter?["next"]?.integer else {
                    throw RouterError(.corruptRecord, "the sequence document in \(MongoSchema.meta) is corrupted: 'next' is not an integer")
                }
                next = last - count + 1
            }
            func take() -> Int64 {
                defer { next += 1 }
                return next
            }
            let usage = batch.usage.map { UsageDocument.make($0, id: take()) }
            let transitionDocuments: [BSON] = transitions.map { transition, record in
                ["_id": .int64(take()), "keyID": .string(transition.keyID.rawValue), "record": .string(record), "at": .int64(transition.at.nanosecondsSinceEpoch)]
            }
            let decisionDocuments: [BSON] = decisions.map { sample, record in
                ["_id": .int64(take()), "record": .string(record), "at": .int64(sample.at.nanosecondsSinceEpoch)]
            }
            var duplicate = false
            do throws(RouterError) {
                try connection.transaction { session throws(RouterError) in
                    if let id = batch.id {
                        let advanced = try connection.updateOne(
                            MongoSchema.writers, ["_id": .string(id.writer), "sequence": ["$lt": .int64(id.sequence)]],
                            ["$set": ["sequence": .int64(id.sequence)]], session: session)
                        if advanced == 0 {
                            // First batch of this writer, or one a concurrent commit already applied.
                            if try Self.alreadyApplied(id, connection) {
                                duplicate = true
                                throw RouterError(.versionConflict, "batch already applied")
                            }
                            try connection.insertMany(MongoSchema.writers, [["_id": .string(id.writer), "sequence": .int64(id.sequence)]], session: session)
                        }
                    }
                    try Self.write(batch, usage: usage, transitions: transitionDocuments, decisions: decisionDocuments, connection, session)
                }
            } catch {
                if !duplicate { throw error }
            }
        }
    }

    /// Whether the writer of `id` already applied this batch or a later one.
    private static func alreadyApplied(_ id: BatchID, _ connection: MongoConnection) throws(RouterError) -> Bool {
        guard let document = try connection.find(MongoSchema.writers, ["_id": .string(id.writer)], limit: 1).first else { return false }
        return (document["sequence"]?.integer ?? 0) >= id.sequence
    }

    /// The writes of one batch, inside its transaction.
    private static func write(
        _ batch: StoreBatch, usage: [BSON], transitions transitionDocuments: [BSON], decisions decisionDocuments: [BSON],
        _ connection: MongoConnection, _ session: MongoSession
    ) throws(RouterError) {
        try connection.insertMany(MongoSchema.usageEvents, usage, session: session)
        try connection.insertMany(MongoSchema.transitions, transitionDocuments, session: session)
        try connection.insertMany(MongoSchema.decisionSamples, decisionDocuments, session: session)
        for delta in batch.spend {
            try connection.updateOne(
                MongoSchema.budgetSpend, ["_id": .string(Self.spendID(delta.budgetID, delta.periodStart))],
                [
                    "$inc": ["spent": .int64(delta.amount.nanodollars)],
                    "$setOnInsert": ["budgetID": .string(delta.budgetID.rawValue), "periodStart": .int64(delta.periodStart.nanosecondsSinceEpoch)],
                ],
                upsert: true, session: session)
        }
    }

    public func transitions(of keyID: KeyID?, limit: Int) async throws -> [KeyTransition] {
        guard limit > 0 else { return [] }  // MongoDB reads a limit of 0 as "no limit"
        return try await pool.run { connection throws(RouterError) in
            try connection.find(MongoSchema.transitions, keyID.map { ["keyID": .string($0.rawValue)] } ?? [:], sort: ["_id": -1], limit: limit).map { document throws(RouterError) in
                try Self.decodeRecord(KeyTransition.self, document, field: "record", record: "transition #\(document.idDescription)")
            }
        }
    }

    public func pruneLedger(before cutoff: Timestamp) async throws -> Int {
        try await pool.run { connection throws(RouterError) in
            let old: BSON = ["at": ["$lt": .int64(cutoff.nanosecondsSinceEpoch)]]
            let deleted = try connection.deleteMany(MongoSchema.usageEvents, old)
            _ = try connection.deleteMany(MongoSchema.transitions, old)
            _ = try connection.deleteMany(MongoSchema.decisionSamples, old)
            return Int(deleted)
        }
    }

    public func ledgerSize() async throws -> Int {
        try await pool.run { connection throws(RouterError) in
            Int(try connection.aggregate(MongoSchema.usageEvents, [["$count": "n"]]).first?["n"]?.integer ?? 0)
        }
    }

    public func latestTransitions() async throws -> [KeyID: KeyTransition] {
        try await pool.run { connection throws(RouterError) in
            let pipeline: [BSON] = [
                ["$sort": ["_id": -1]],
                ["$group": ["_id": "$keyID", "newest": ["$first": "$_id"], "record": ["$first": "$record"]]],
            ]
            var result: [KeyID: KeyTransition] = [:]
            for document in try connection.aggregate(MongoSchema.transitions, pipeline) {
                let transition = try Self.decodeRecord(KeyTransition.self, document, field: "record", record: "transition #\(document["newest"]?.integer ?? 0)")
                result[transition.keyID] = transition
            }
            return result
        }
    }

    public func usageEvents(from: Timestamp, to: Timestamp, limit: Int) async throws -> [UsageEvent] {
        guard limit > 0 else { return [] }
        return try await pool.run { connection throws(RouterError) in
            try connection.find(MongoSchema.usageEvents, Self.window(from, to), sort: ["_id": 1], limit: limit).map { document throws(RouterError) in
                try MongoRow(document: document, fields: UsageDocument.fields).usageEvent()
            }
        }
    }

    public func spend(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: Money] {
        try await usageTotals(from: from, to: to, groupedBy: grouping).mapValues(\.cost)
    }

    public func usageTotals(from: Timestamp, to: Timestamp, groupedBy grouping: SpendGrouping) async throws -> [String: UsageTotals] {
        let group: BSON = switch grouping {
        case .total: .null
        case .key: "$keyID"
        case .provider: "$provider"
        case .model: ["$concat": ["$provider", "/", "$model"]]
        case .tag: "$tags"
        }
        var pipeline: [BSON] = [["$match": Self.window(from, to)]]
        if grouping == .tag { pipeline.append(["$unwind": "$tags"]) }
        // `$sum` skips non-numbers silently; count them so a hand-edited cost or token count is
        // an error, not a wrong total.
        let integer: BSON = ["long", "int"]
        func unreadable(_ field: String) -> BSON { ["$cond": [["$in": [["$type": .string(field)], integer]], 0, 1]] }
        pipeline.append(["$group": [
            "_id": group, "requests": ["$sum": 1], "input": ["$sum": "$inputTokens"], "output": ["$sum": "$outputTokens"], "total": ["$sum": "$cost"],
            "unreadable": ["$sum": ["$add": [unreadable("$cost"), unreadable("$inputTokens"), unreadable("$outputTokens")]]],
        ]])
        return try await pool.run { [pipeline] connection throws(RouterError) in
            var result: [String: UsageTotals] = [:]
            for document in try connection.aggregate(MongoSchema.usageEvents, pipeline) {
                let name = grouping == .total ? "total" : document["_id"]?.text
                guard let name, let requests = document["requests"]?.integer, let input = document["input"]?.integer,
                    let output = document["output"]?.integer, let total = document["total"]?.integer, document["unreadable"]?.integer == 0
                else {
                    throw RouterError(.corruptRecord, "usage events in \(MongoSchema.usageEvents) are corrupted: a cost or token count in the '\(document["_id"]?.text ?? "total")' \(grouping.rawValue) group is not an integer")
                }
                result[name] = UsageTotals(requests: Int(requests), inputTokens: input, outputTokens: output, cost: Money(nanodollars: total))
            }
            return result
        }
    }

    public func decisionSamples(limit: Int) async throws -> [DecisionSample] {
        guard limit > 0 else { return [] }
        return try await pool.run { connection throws(RouterError) in
            try connection.find(MongoSchema.decisionSamples, sort: ["_id": -1], limit: limit).map { document throws(RouterError) in
                try Self.decodeRecord(DecisionSample.self, document, field: "record", record: "decision sample #\(document.idDescription)")
            }
        }
    }

    public func spend(of budget: BudgetID, periodStart: Timestamp) async throws -> Money {
        try await pool.run { connection throws(RouterError) in
            guard let document = try connection.find(MongoSchema.budgetSpend, ["_id": .string(Self.spendID(budget, periodStart))], limit: 1).first else { return .zero }
            return try Self.spent(document, budget)
        }
    }

    public func addSpend(_ amount: Money, to budget: BudgetID, periodStart: Timestamp, limit: Money?) async throws -> Money? {
        if let limit, amount > limit { return nil }
        let id = Self.spendID(budget, periodStart)
        // Matches only while the counter has room for `amount`; the increment is one atomic
        // findAndModify, so concurrent callers (in any process) re-check the room each time.
        var condition: [BSON.Field] = [.init(name: "_id", value: .string(id))]
        if let limit {
            let (room, overflow) = limit.nanodollars.subtractingReportingOverflow(amount.nanodollars)
            condition.append(.init(name: "spent", value: ["$lte": .int64(overflow ? .max : room)]))
        }
        let increment: BSON = ["$inc": ["spent": .int64(amount.nanodollars)]]
        let first: BSON = [
            "_id": .string(id), "budgetID": .string(budget.rawValue), "periodStart": .int64(periodStart.nanosecondsSinceEpoch), "spent": .int64(amount.nanodollars),
        ]
        return try await pool.run { [condition] connection throws(RouterError) -> Money? in
            if let updated = try connection.findAndModify(MongoSchema.budgetSpend, .document(condition), increment) {
                return try Self.spent(updated, budget)
            }
            // Nothing matched: the period has no counter yet, or it has no room. Creating the
            // counter fails on the unique _id if another caller created it first; then the
            // conditional increment decides.
            if try connection.insertUnlessPresent(MongoSchema.budgetSpend, first) { return amount }
            return try connection.findAndModify(MongoSchema.budgetSpend, .document(condition), increment).map { document throws(RouterError) in
                try Self.spent(document, budget)
            }
        }
    }

    // A shared record is one document (`_id`: the key, `version`, `body`). Inserting it relies
    // on the unique `_id`; replacing it is one findAndModify matching the expected version, so
    // of concurrent writers of one version exactly one matches. (An earlier design kept one
    // document per version and read the newest with a sorted query; a four-process run on
    // SecantusDB overspent $0.125 of $20 with it, cause not pinned down, so it was dropped.)

    public func sharedRecord(_ key: String) async throws -> SharedRecord? {
        try await pool.run { connection throws(RouterError) -> SharedRecord? in
            guard let document = try connection.find(MongoSchema.sharedRecords, ["_id": .string(key)], limit: 1).first else { return nil }
            guard let version = document["version"]?.integer, case .string(let body)? = document["body"] else {
                throw RouterError(.corruptRecord, "shared record '\(key)' in \(MongoSchema.sharedRecords) is corrupted")
            }
            return SharedRecord(version: version, body: body)
        }
    }

    public func writeSharedRecord(_ key: String, body: String, expectedVersion: Int64?) async throws -> Bool {
        try await pool.run { connection throws(RouterError) -> Bool in
            guard let expectedVersion else {
                return try connection.insertUnlessPresent(MongoSchema.sharedRecords, ["_id": .string(key), "version": .int64(1), "body": .string(body)])
            }
            let update: BSON = ["$set": ["version": .int64(expectedVersion + 1), "body": .string(body)]]
            return try connection.findAndModify(MongoSchema.sharedRecords, ["_id": .string(key), "version": .int64(expectedVersion)], update) != nil
        }
    }

    // MARK: Documents

    /// The `_id` of a budget period's spend counter (periods are integers, so it is unambiguous).
    private static func spendID(_ budget: BudgetID, _ periodStart: Timestamp) -> String {
        "\(budget.rawValue)@\(periodStart.nanosecondsSinceEpoch)"
    }

    private static func spent(_ document: BSON, _ budget: BudgetID) throws(RouterError) -> Money {
        guard let spent = document["spent"]?.integer else {
            throw RouterError(.corruptRecord, "spend of budget '\(budget)' in \(MongoSchema.budgetSpend) is corrupted: 'spent' is not an integer")
        }
        return Money(nanodollars: spent)
    }

    private static func window(_ from: Timestamp, _ to: Timestamp) -> BSON {
        ["at": ["$gte": .int64(from.nanosecondsSinceEpoch), "$lt": .int64(to.nanosecondsSinceEpoch)]]
    }

    private static func decodeRecord<Value: Decodable>(_ type: Value.Type, _ document: BSON, field: String, record: String) throws(RouterError) -> Value {
        try StoreRecordCoding.decode(type, from: try MongoRow(document: document, fields: [field]).text(0, record), record: record)
    }
}

/// How a key is laid out in `routersdk_keys`.
private enum KeyDocument {
    /// The fields in the column order of ``StoreRow/storedKey(table:)``.
    static let fields = ["_id", "settings", "masterKeyID", "sealedSecret", "state", "version", "updatedAt"]

    /// Every field but `_id`.
    static func fields(of key: StoredKey) throws(RouterError) -> [BSON.Field] {
        [
            .init(name: "provider", value: .string(key.settings.provider.rawValue)),
            .init(name: "settings", value: .string(try StoreRecordCoding.encode(key.settings))),
            .init(name: "masterKeyID", value: .string(key.sealedSecret.masterKeyID)),
            .init(name: "sealedSecret", value: .binary(key.sealedSecret.combined)),
            .init(name: "state", value: .string(try StoreRecordCoding.encode(key.state))),
            .init(name: "version", value: .int64(key.version)),
            .init(name: "updatedAt", value: .int64(key.updatedAt.nanosecondsSinceEpoch)),
        ]
    }
}

/// How a usage event is laid out in `routersdk_usage_events` (tags as a native array, so spend
/// by tag is an `$unwind`).
private enum UsageDocument {
    /// The fields in the column order of ``StoreRow/usageEvent()``.
    static let fields = ["_id", "leaseID", "keyID", "provider", "model", "inputTokens", "outputTokens", "cost", "latencyNs", "outcome", "failure", "tags", "at"]

    static func make(_ event: UsageEvent, id: Int64) -> BSON {
        [
            "_id": .int64(id), "leaseID": .int64(Int64(bitPattern: event.leaseID)), "keyID": .string(event.keyID.rawValue),
            "provider": .string(event.model.provider.rawValue), "model": .string(event.model.name),
            "inputTokens": .int64(Int64(event.inputTokens)), "outputTokens": .int64(Int64(event.outputTokens)),
            "cost": .int64(event.cost.nanodollars), "latencyNs": event.latencyNanoseconds.map(BSON.int64) ?? .null,
            "outcome": .string(event.outcome.rawValue), "failure": event.failure.map(BSON.string) ?? .null,
            "tags": .array(event.tags.map(BSON.string)), "at": .int64(event.at.nanosecondsSinceEpoch),
        ]
    }
}

extension BSON {
    /// A document's `_id`, for naming it in messages.
    fileprivate var idDescription: String {
        switch self["_id"] {
        case .string(let text): text
        case let value?: value.integer.map(String.init) ?? "?"
        case nil: "?"
        }
    }
}
