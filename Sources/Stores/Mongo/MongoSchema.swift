/// The MongoDB layout: collection names and the indexes each schema version adds.
///
/// MongoDB creates collections on first write, so a migration step is the indexes (and seed
/// documents) that version needs; every step is idempotent, so processes that open the same
/// database at once may both run it. `routersdk_meta`'s `schema` document records the version.
/// Append new steps; never edit a released one.
enum MongoSchema {
    static let meta = "routersdk_meta"
    static let keys = "routersdk_keys"
    static let budgets = "routersdk_budgets"
    static let budgetSpend = "routersdk_budget_spend"
    static let usageEvents = "routersdk_usage_events"
    static let transitions = "routersdk_transitions"
    static let decisionSamples = "routersdk_decision_samples"
    /// The last batch each router writer applied (`_id`: writer id, `sequence`).
    static let writers = "routersdk_writers"
    /// Versioned records the instances of a fleet share (`_id`: the key, `version`, `body`).
    static let sharedRecords = "routersdk_shared_records"
    /// The `_id` of the meta document holding the next ledger sequence number.
    static let sequenceID = "sequence"
    /// The `_id` of the meta document holding the schema version.
    static let schemaID = "schema"

    /// One index: the collection, its name and its key pattern.
    struct Index {
        let collection: String
        let name: String
        let keys: BSON
    }

    /// The indexes each version adds (index `i` holds version `i + 1`'s).
    static let migrations: [[Index]] = [
        // 1: the ledger is read by time window.
        [
            Index(collection: usageEvents, name: "at", keys: ["at": 1]),
            Index(collection: transitions, name: "at", keys: ["at": 1]),
        ],
        // 2: per-key transition lookups (restore reads each key's newest transition).
        [
            Index(collection: transitions, name: "key_seq", keys: ["keyID": 1, "_id": -1]),
        ],
    ]

    static var currentVersion: Int { migrations.count }
}
