import Foundation
import Logging
@testable import MongoStateStore
@testable import PostgresStateStore
import RouterSDK
import RouterTesting
import SQLiteStateStore
import StoreSupport
import Testing

/// The live PostgreSQL server's URL, exported by scripts/with-services.sh (scripts/test.sh).
let postgresURL = ProcessInfo.processInfo.environment["ROUTERSDK_POSTGRES_URL"].flatMap { $0.isEmpty ? nil : $0 }
/// The live MongoDB-compatible server's URL, exported by scripts/with-services.sh.
let mongoURL = ProcessInfo.processInfo.environment["ROUTERSDK_MONGO_URL"].flatMap { $0.isEmpty ? nil : $0 }

/// Every StateStore backend the conformance suite runs against. Live-server backends join only
/// when their server's URL is in the environment; ``LiveServerAvailability`` says so visibly.
enum Backend: String, CaseIterable, CustomTestStringConvertible, Sendable {
    case memory
    case sqlite
    case postgres
    case mongo

    static var allCases: [Backend] { [.memory, .sqlite] + (postgresURL != nil ? [.postgres] : []) + (mongoURL != nil ? [.mongo] : []) }

    var testDescription: String { rawValue }

    /// Whether a reopened store sees what an earlier instance wrote.
    var isPersistent: Bool { self != .memory }
}

let quietLogger = Logger(label: "store-tests") { _ in SwiftLogNoOpLogHandler() }

/// A fresh, empty store of one backend, and a way to open it again (a new instance on the same data).
struct StoreFixture: Sendable {
    let backend: Backend
    let directory: URL
    let store: any StateStore

    /// For server backends: the URL of this fixture's own database.
    let url: String?

    func reopen() async throws -> any StateStore {
        switch backend {
        case .memory: store
        case .sqlite: try await SQLiteStateStore.open(path: directory.appendingPathComponent("state.db").path, logger: quietLogger)
        case .postgres: try await PostgresStateStore.open(.init(url: url!), logger: quietLogger)
        case .mongo: try await MongoStateStore.open(.init(url: url!), logger: quietLogger)
        }
    }
}

/// Creates a fresh database on the live PostgreSQL server (or the one at `admin`) and returns its URL.
func makePostgresDatabase(admin: String? = nil) async throws -> (url: String, name: String) {
    let admin = try #require(admin ?? postgresURL)
    let name = "rt_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
    let lease = try await PostgresConnectionPool.connect(url: admin, redactor: URLRedactor(url: admin))
    defer { lease.connection.close() }
    try lease.connection.query("CREATE DATABASE \(name)")
    var components = try #require(URLComponents(string: admin))
    components.path = "/\(name)"
    return (try #require(components.string), String(name))
}

/// Drops a database created by ``makePostgresDatabase()``.
func dropPostgresDatabase(_ name: String, admin: String? = nil) async throws {
    let admin = try #require(admin ?? postgresURL)
    let lease = try await PostgresConnectionPool.connect(url: admin, redactor: URLRedactor(url: admin))
    defer { lease.connection.close() }
    try lease.connection.query("DROP DATABASE IF EXISTS \(name) WITH (FORCE)")
}

/// The URL of a fresh database (unique name) on the live MongoDB server; it is created on first write.
func makeMongoDatabaseURL(base: String? = nil) throws -> String {
    let base = try #require(base ?? mongoURL)
    var components = try #require(URLComponents(string: base))
    components.path = "/rt_" + UUID().uuidString.replacingOccurrences(of: "-", with: "").lowercased().prefix(20)
    return try #require(components.string)
}

/// Runs `body` with a fresh store of `backend` and removes its files afterwards.
func withStore(_ backend: Backend, _ body: (StoreFixture) async throws -> Void) async throws {
    let directory = FileManager.default.temporaryDirectory.appendingPathComponent("routersdk-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    defer { try? FileManager.default.removeItem(at: directory) }
    switch backend {
    case .memory:
        try await body(StoreFixture(backend: backend, directory: directory, store: InMemoryStateStore(), url: nil))
    case .sqlite:
        let store = try await SQLiteStateStore.open(path: directory.appendingPathComponent("state.db").path, logger: quietLogger)
        try await body(StoreFixture(backend: backend, directory: directory, store: store, url: nil))
    case .postgres:
        let database = try await makePostgresDatabase()
        let store = try await PostgresStateStore.open(.init(url: database.url), logger: quietLogger)
        do {
            try await body(StoreFixture(backend: backend, directory: directory, store: store, url: database.url))
        } catch {
            await store.close()
            try? await dropPostgresDatabase(database.name)
            throw error
        }
        await store.close()
        try await dropPostgresDatabase(database.name)
    case .mongo:
        let url = try makeMongoDatabaseURL()
        let store = try await MongoStateStore.open(.init(url: url), logger: quietLogger)
        do {
            try await body(StoreFixture(backend: backend, directory: directory, store: store, url: url))
        } catch {
            try? await store.dropDatabase()
            await store.close()
            throw error
        }
        try await store.dropDatabase()
        await store.close()
    }
}

/// Says visibly when live-server backends are not part of this run.
@Suite struct LiveServerAvailability {
    @Test(.enabled(if: postgresURL != nil, "ROUTERSDK_POSTGRES_URL is not set: PostgreSQL tests are skipped (scripts/test.sh starts a local server)"))
    func postgresServerAnswers() async throws {
        let store = try await PostgresStateStore.open(.init(url: try #require(postgresURL)), logger: quietLogger)
        try await store.ping()
        await store.close()
    }

    @Test(.enabled(if: mongoURL != nil, "ROUTERSDK_MONGO_URL is not set: MongoDB tests are skipped (scripts/test.sh starts a local server)"))
    func mongoServerAnswers() async throws {
        let store = try await MongoStateStore.open(.init(url: try makeMongoDatabaseURL()), logger: quietLogger)
        try await store.ping()
        try await store.dropDatabase()
        await store.close()
    }
}

/// The one budget of a store migrated from before budgets were versioned: it reads as version 1
/// and changes like any other, with a compare-and-set on that version.
func expectMigratedBudgetIsVersionOne(_ store: any StateStore, id: BudgetID, sourceLocation: SourceLocation = #_sourceLocation) async throws {
    let migrated = try #require(try await store.loadBudgets().first, sourceLocation: sourceLocation)
    #expect(migrated.id == id && migrated.version == 1, sourceLocation: sourceLocation)
    var changed = migrated
    changed.budget.limit = Money(nanodollars: 7)
    changed.version = 2
    try await store.saveBudget(changed, expectedVersion: 1)
    #expect(try await store.loadBudgets() == [changed], sourceLocation: sourceLocation)
    await expectCode(.versionConflict, sourceLocation: sourceLocation) { try await store.saveBudget(changed, expectedVersion: 1) }
}

/// Expects `body` to throw a `RouterError` with `code` (RouterTesting's `routerError(from:)`
/// with an expectation).
@discardableResult
func expectCode<T>(_ code: RouterError.Code, sourceLocation: SourceLocation = #_sourceLocation, _ body: () async throws -> T) async -> RouterError? {
    let error = await routerError(from: body)
    #expect(error?.code == code, "expected RouterError.\(code), got \(error.map(String.init(describing:)) ?? "no RouterError")", sourceLocation: sourceLocation)
    return error
}
