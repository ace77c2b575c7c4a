/// The PostgreSQL schema as ordered migrations; `routersdk_schema.version` records how many ran.
///
/// Append new migrations; never edit a released one. A database at a higher version than
/// ``currentVersion`` was written by newer code and is refused before anything is written.
enum PostgresSchema {
    static let migrations: [String] = [
        // 1: keys, budgets, the usage ledger, transitions and decision samples.
        """
        CREATE TABLE routersdk_keys (
            id TEXT PRIMARY KEY,
            provider TEXT NOT NULL,
            settings TEXT NOT NULL,
            master_key_id TEXT NOT NULL,
            sealed_secret BYTEA NOT NULL,
            state TEXT NOT NULL,
            version BIGINT NOT NULL,
            updated_at BIGINT NOT NULL
        );
        CREATE TABLE routersdk_budgets (id TEXT PRIMARY KEY, definition TEXT NOT NULL);
        CREATE TABLE routersdk_usage_events (
            seq BIGSERIAL PRIMARY KEY,
            lease_id BIGINT NOT NULL,
            key_id TEXT NOT NULL,
            provider TEXT NOT NULL,
            model TEXT NOT NULL,
            input_tokens BIGINT NOT NULL,
            output_tokens BIGINT NOT NULL,
            cost BIGINT NOT NULL,
            latency_ns BIGINT,
            outcome TEXT NOT NULL,
            failure TEXT,
            tags TEXT NOT NULL,
            at BIGINT NOT NULL
        );
        CREATE INDEX routersdk_usage_events_at ON routersdk_usage_events (at);
        CREATE TABLE routersdk_usage_tags (usage_seq BIGINT NOT NULL, tag TEXT NOT NULL, cost BIGINT NOT NULL, at BIGINT NOT NULL);
        CREATE INDEX routersdk_usage_tags_at ON routersdk_usage_tags (at);
        CREATE TABLE routersdk_transitions (seq BIGSERIAL PRIMARY KEY, key_id TEXT NOT NULL, record TEXT NOT NULL, at BIGINT NOT NULL);
        CREATE TABLE routersdk_decision_samples (seq BIGSERIAL PRIMARY KEY, record TEXT NOT NULL, at BIGINT NOT NULL);
        """,
        // 2: budget spend counters (atomic conditional increments) and per-key transition lookups.
        """
        CREATE TABLE routersdk_budget_spend (
            budget_id TEXT NOT NULL,
            period_start BIGINT NOT NULL,
            spent BIGINT NOT NULL,
            PRIMARY KEY (budget_id, period_start)
        );
        CREATE INDEX routersdk_transitions_key ON routersdk_transitions (key_id, seq);
        """,
        // 3: the last batch each router writer applied, so a retried batch is applied once.
        """
        CREATE TABLE routersdk_writer_batches (writer TEXT PRIMARY KEY, sequence BIGINT NOT NULL);
        """,
        // 4: versioned records the instances of a fleet share (fleet budget slice leases).
        """
        CREATE TABLE routersdk_shared_records (key TEXT PRIMARY KEY, version BIGINT NOT NULL, body TEXT NOT NULL);
        """,
        // 5: versioned budget definitions (compare-and-set like keys); existing ones are version 1.
        """
        ALTER TABLE routersdk_budgets ADD COLUMN version BIGINT NOT NULL DEFAULT 1, ADD COLUMN updated_at BIGINT NOT NULL DEFAULT 0;
        """,
    ]

    static var currentVersion: Int { migrations.count }
}
