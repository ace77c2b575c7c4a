public import RouterSDK

/// The ``RouterSDK/StateStore`` contract as runnable checks: run them against your own backend
/// to know it behaves as the router expects — the same suite RouterSDK runs against its
/// in-memory, SQLite, PostgreSQL and MongoDB stores.
///
/// It depends on no test framework: each check throws a ``Failure`` naming what differed. With
/// Swift Testing, one parameterized test runs them all:
///
/// ```swift
/// import StateStoreConformance
/// import Testing
///
/// @Test(arguments: StateStoreConformance.checks)
/// func conformance(_ check: StateStoreConformance.Check) async throws {
///     let store = try await MyStore.open(freshDatabase())   // empty, of its own
///     try await check.run(StateStoreConformance.Subject(store: store) { try await MyStore.open(sameDatabase) })
///     await store.close()
/// }
/// ```
///
/// Every check needs a fresh, empty store. Checks marked ``Check/needsReopen`` also need a way
/// to open a second instance on the same data; without one they pass vacuously only if you
/// skip them (``Subject/reopen`` `nil` makes them throw).
public enum StateStoreConformance {
    /// The store under test, and how to open another instance on its data.
    public struct Subject: Sendable {
        /// A fresh, empty store.
        public var store: any StateStore
        /// Opens a new instance on the same data (a process restart); `nil` for stores whose
        /// data does not outlive the instance.
        public var reopen: (@Sendable () async throws -> any StateStore)?

        /// Describes the store under test.
        public init(store: any StateStore, reopen: (@Sendable () async throws -> any StateStore)? = nil) {
            self.store = store
            self.reopen = reopen
        }
    }

    /// One property of the contract.
    public struct Check: Sendable, CustomStringConvertible {
        /// A stable name, such as `keysCRUDWithOptimisticVersions`.
        public let name: String
        /// Whether it needs ``Subject/reopen``.
        public let needsReopen: Bool
        let body: @Sendable (Subject) async throws -> Void

        /// Runs the check; throws ``Failure`` when the store breaks the contract (or whatever
        /// the store itself threw where the contract expects success).
        public func run(_ subject: Subject) async throws {
            do {
                try await body(subject)
            } catch var failure as Failure {
                failure.check = name
                throw failure
            }
        }

        public var description: String { name }
    }

    /// What differed from the contract.
    public struct Failure: Error, Sendable, CustomStringConvertible {
        /// The check that failed.
        public var check: String
        /// What was expected and what the store did.
        public var message: String

        public var description: String { "\(check): \(message)" }
    }

    /// Every check, in a stable order.
    public static let checks: [Check] = [
        Check(name: "pingAnswers", needsReopen: false) { try await $0.store.ping() },
        Check(name: "keysCRUDWithOptimisticVersions", needsReopen: false, body: keysCRUDWithOptimisticVersions),
        Check(name: "budgetsCRUDWithOptimisticVersions", needsReopen: false, body: budgetsCRUDWithOptimisticVersions),
        Check(name: "batchesAndAggregateQueries", needsReopen: false, body: batchesAndAggregateQueries),
        Check(name: "spendCountersAreAtomicUnderConcurrency", needsReopen: false, body: spendCountersAreAtomicUnderConcurrency),
        Check(name: "sharedRecordsAreCompareAndSet", needsReopen: false, body: sharedRecordsAreCompareAndSet),
        Check(name: "batchesWithAnIDAreAppliedExactlyOnce", needsReopen: false, body: batchesWithAnIDAreAppliedExactlyOnce),
        Check(name: "retentionPrunesOldRecordsAndKeepsSpendCounters", needsReopen: false, body: retentionPrunesOldRecordsAndKeepsSpendCounters),
        Check(name: "reopenReadsEverythingBack", needsReopen: true, body: reopenReadsEverythingBack),
    ]

    /// The check called `name`, if there is one.
    public static func check(named name: String) -> Check? {
        checks.first { $0.name == name }
    }
}
