/// The SQLite schema, as an ordered list of migrations; `PRAGMA user_version` records how many ran.
///
/// Append new migrations; never edit a released one. A database whose version is higher than
/// ``migrations``'s count was written by newer code and is refused before anything is written.
enum SQLiteSchema {
    static let migrations: [String] = [
        // 1: keys, budgets, the usage ledger, transitions and decision samples.
        """
        CREATE TABLE keys (
            id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            settings TEXT NOT NULL,
            master_key_id TEXT NOT NULL,
            sealed_secret BLOB NOT NULL,
            state TEXT NOT NULL,
            version INTEGER NOT NULL,
            updated_at INTEGER NOT NULL
        );
        CREATE TABLE budgets (id TEXT PRIMARY KEY, definition TEXT NOT NULL);
        CREATE TABLE usage_events (
            seq INTEGER PRIMARY KEY AUTOINCREMENT,
            lease_id INTEGER NOT NULL,
            key_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            input_tokens INTEGER NOT NULL,
            output_tokens INTEGER NOT NULL,
            cost INTEGER NOT NULL,
            latency_ns INTEGER,
            outcome TEXT NOT NULL,
            failure TEXT,
            tags TEXT NOT NULL,
            at INTEGER NOT NULL
        );
        CREATE INDEX usage_events_at ON usage_events (at);
        CREATE TABLE usage_tags (usage_seq INTEGER NOT NULL, tag TEXT NOT NULL, cost INTEGER NOT NULL, at INTEGER NOT NULL);
        CREATE INDEX usage_tags_at ON usage_tags (at);
        CREATE TABLE transitions (seq INTEGER PRIMARY KEY AUTOINCREMENT, key_id TEXT NOT NULL, record TEXT NOT NULL, at INTEGER NOT NULL);
        CREATE TABLE decision_samples (seq INTEGER PRIMARY KEY AUTOINCREMENT, record TEXT NOT NULL, at INTEGER NOT NULL);
        """,
        // 2: budget spend counters (atomic conditional increments) and per-key transition lookups.
        """
        CREATE TABLE budget_spend (
            budget_id TEXT NOT NULL,
            period_start INTEGER NOT NULL,
            spent INTEGER NOT NULL,
            PRIMARY KEY (budget_id, period_start)
        );
        CREATE INDEX transitions_key ON transitions (key_id, seq);
        """,
        // 3: the last batch each router writer applied, so a retried batch is applied once.
        """
        CREATE TABLE writer_batches (writer TEXT PRIMARY KEY, sequence INTEGER NOT NULL);
        """,
        // 4: versioned records the instances of a fleet share (fleet budget slice leases).
        """
        CREATE TABLE shared_records (key TEXT PRIMARY KEY, version INTEGER NOT NULL, body TEXT NOT NULL);
        """,
        // 5: versioned budget definitions (compare-and-set like keys); existing ones are version 1.
        """
        ALTER TABLE budgets ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
        ALTER TABLE budgets ADD COLUMN updated_at INTEGER NOT NULL DEFAULT 0;
        """,
    ]

    static var currentVersion: Int { migrations.count }
}
