package import RouterSDK
package import Foundation

/// One result row of a SQL backend, read by column with typed errors naming the record.
///
/// Backends conform their row type so the records every SQL store shares (keys, usage events)
/// decode in one place, from the same column order.
package protocol StoreRow {
    /// The integer in `column`; throws ``RouterError/Code/corruptRecord`` naming `record` otherwise.
    func integer(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Int64
    /// The integer in `column`, or `nil` for NULL.
    func optionalInteger(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Int64?
    /// The text in `column`; throws ``RouterError/Code/corruptRecord`` naming `record` otherwise.
    func text(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> String
    /// The text in `column`, or `nil` for NULL.
    func optionalText(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> String?
    /// The bytes in `column`; throws ``RouterError/Code/corruptRecord`` naming `record` otherwise.
    func bytes(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Data
}

extension StoreRow {
    /// A key from the columns `id, settings, master_key_id, sealed_secret, state, version, updated_at`.
    package func storedKey(table: String) throws(RouterError) -> StoredKey {
        let id = try text(0, "a row of \(table)")
        let record = "key '\(id)' in \(table)"
        return StoredKey(
            id: KeyID(id),
            settings: try StoreRecordCoding.decode(KeySettings.self, from: try text(1, record), record: record),
            sealedSecret: SealedSecret(masterKeyID: try text(2, record), combined: try bytes(3, record)),
            state: try StoreRecordCoding.decode(KeyState.self, from: try text(4, record), record: record),
            version: try integer(5, record),
            updatedAt: Timestamp(nanosecondsSinceEpoch: try integer(6, record)))
    }

    /// A stored budget from the columns `id, definition, version, updated_at`. A record written
    /// before budgets were versioned (no version) is version 1.
    package func storedBudget(table: String) throws(RouterError) -> StoredBudget {
        let record = "budget '\((try? text(0, "")) ?? "?")' in \(table)"
        return StoredBudget(
            budget: try StoreRecordCoding.decode(Budget.self, from: try text(1, record), record: record),
            version: try optionalInteger(2, record) ?? 1,
            updatedAt: Timestamp(nanosecondsSinceEpoch: try optionalInteger(3, record) ?? 0))
    }

    /// A usage event from the columns `seq, lease_id, key_id, provider, model, input_tokens,
    /// output_tokens, cost, latency_ns, outcome, failure, tags, at`.
    package func usageEvent() throws(RouterError) -> UsageEvent {
        let record = "usage event #\((try? optionalInteger(0, "")).flatMap { $0 }.map(String.init) ?? "?")"
        // Any name reads: a newer version's outcome is kept as written.
        let outcome = UsageEvent.Outcome(rawValue: try text(9, record))
        return UsageEvent(
            leaseID: UInt64(bitPattern: try integer(1, record)), keyID: KeyID(try text(2, record)),
            model: ModelRef(provider: ProviderID(try text(3, record)), name: try text(4, record)),
            inputTokens: Int(try integer(5, record)), outputTokens: Int(try integer(6, record)),
            cost: Money(nanodollars: try integer(7, record)), latencyNanoseconds: try optionalInteger(8, record),
            outcome: outcome, failure: try optionalText(10, record),
            tags: try StoreRecordCoding.decode([String].self, from: try text(11, record), record: record),
            at: Timestamp(nanosecondsSinceEpoch: try integer(12, record)))
    }
}
