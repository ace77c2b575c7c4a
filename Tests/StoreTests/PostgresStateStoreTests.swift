import Foundation
#if canImport(Glibc)
import Glibc
#endif
@testable import PostgresStateStore
import RouterSDK
import StateStoreConformance
import StoreSupport
import Testing

/// PostgreSQL-specific behaviour: URLs, unreachable servers, migrations, newer schemas, corrupted
/// rows, passwords and plaintext secrets kept out of errors and the database.
@Suite struct PostgresStateStoreTests {
    @Test func urlsAreValidatedAndGetAConnectTimeout() throws {
        #expect(try PostgresStateStore.withConnectTimeout("postgres://u:p@127.0.0.1:5432/db?sslmode=disable", seconds: 3).contains("connect_timeout=3"))
        #expect(try PostgresStateStore.withConnectTimeout("postgresql://h/db?connect_timeout=9", seconds: 3).contains("connect_timeout=9"))
        #expect(try PostgresStateStore.withConnectTimeout("postgres://h/db?sslmode=require", seconds: 3).contains("sslmode=require"))
        #expect(throws: RouterError.self) { try PostgresStateStore.withConnectTimeout("mysql://h/db", seconds: 3) }
        #expect(throws: RouterError.self) { try PostgresStateStore.withConnectTimeout("not a url", seconds: 3) }
        #expect(URLRedactor(url: "postgres://user:hunter2@h/db").redactedURL == "postgres://user:***@h/db")
        #expect(URLRedactor(url: "postgres://user:hunter2@h/db").scrub("auth failed for hunter2") == "auth failed for ***")
    }

    @Test func unreachableServerFailsFastWithATypedErrorAndNoPassword() async throws {
        // Nothing listens on a freshly released port: the connection is refused at once.
        let port = try freePort()
        let error = await expectCode(.storeUnreachable) {
            try await PostgresStateStore.open(.init(url: "postgres://routersdk:Sup3rSecretPw@127.0.0.1:\(port)/postgres", connectTimeoutSeconds: 2), logger: quietLogger)
        }
        #expect(error?.description.contains("Sup3rSecretPw") == false)
        #expect(error?.description.contains("***") == true)
    }

    @Test(.enabled(if: postgresURL != nil, "needs ROUTERSDK_POSTGRES_URL"))
    func wrongPasswordIsReportedWithoutThePassword() async throws {
        let admin = try #require(postgresURL)
        var components = try #require(URLComponents(string: admin))
        let realPassword = try #require(components.password)
        components.password = "Wr0ngPassw0rdValue"
        let wrongURL = try #require(components.string)
        let error = await expectCode(.storeUnreachable) { try await PostgresStateStore.open(.init(url: wrongURL), logger: quietLogger) }
        #expect(error?.description.contains("Wr0ngPassw0rdValue") == false)
        #expect(error?.description.contains(realPassword) == false)
    }

    @Test(.enabled(if: postgresURL != nil, "needs ROUTERSDK_POSTGRES_URL"))
    func migratesFromThePreviousVersionAndRefusesNewerSchemas() async throws {
        let database = try await makePostgresDatabase()
        defer { Task { try? await dropPostgresDatabase(database.name) } }
        // Open at version 1 by hand, write data, then open normally: migrated to 2, data kept.
        let old = try await PostgresStateStore.open(.init(url: database.url), logger: quietLogger)
        #expect(try await old.schemaVersion() == PostgresStateStore.schemaVersion)
        await old.close()
        let lease = try await PostgresConnectionPool.connect(url: database.url, redactor: URLRedactor(url: database.url))
        try lease.connection.query("DROP TABLE routersdk_budget_spend")
        try lease.connection.query("DROP INDEX routersdk_transitions_key")
        try lease.connection.query("DROP TABLE routersdk_writer_batches")
        try lease.connection.query("DROP TABLE routersdk_shared_records")
        try lease.connection.query("ALTER TABLE routersdk_budgets DROP COLUMN version, DROP COLUMN updated_at")
        try lease.connection.query("UPDATE routersdk_schema SET version = 1")
        try lease.connection.query("INSERT INTO routersdk_budgets (id, definition) VALUES ('kept', $1)", [.text(try StoreRecordCoding.encode(Budget(id: "kept", period: .day, limit: 1)))])
        let migrated = try await PostgresStateStore.open(.init(url: database.url), logger: quietLogger)
        #expect(try await migrated.schemaVersion() == PostgresStateStore.schemaVersion)
        #expect(PostgresStateStore.schemaVersion == 5)
        try await expectMigratedBudgetIsVersionOne(migrated, id: "kept")
        #expect(try await migrated.addSpend(Money(nanodollars: 3), to: "kept", periodStart: epoch, limit: nil) == Money(nanodollars: 3))
        await migrated.close()
        // A newer schema is refused and left untouched.
        try lease.connection.query("UPDATE routersdk_schema SET version = 99")
        let error = await expectCode(.schemaTooNew) { try await PostgresStateStore.open(.init(url: database.url), logger: quietLogger) }
        #expect(error?.message.contains("99") == true)
        #expect(try lease.connection.query("SELECT version FROM routersdk_schema").first?.cells.first == "99")
        // Corrupted rows name the record.
        try lease.connection.query("UPDATE routersdk_schema SET version = \(PostgresStateStore.schemaVersion)")
        try lease.connection.query("UPDATE routersdk_budgets SET definition = 'nonsense'")
        let reopened = try await PostgresStateStore.open(.init(url: database.url), logger: quietLogger)
        let corrupt = await expectCode(.corruptRecord) { try await reopened.loadBudgets() }
        #expect(corrupt?.message.contains("kept") == true)
        await reopened.close()
        lease.connection.close()
    }

    @Test(.enabled(if: postgresURL != nil, "needs ROUTERSDK_POSTGRES_URL"))
    func rawDumpHoldsNoPlaintextSecret() async throws {
        try await withStore(.postgres) { fixture in
            let router = try LLMRouter(configuration: RouterConfiguration(masterKey: testMasterKey), store: fixture.store, logger: quietLogger)
            try await router.register(APIKey(id: "k", provider: .openai, secret: "sk-PG-PLAINTEXT-MUST-NOT-APPEAR", models: ["gpt-4o-mini"]))
            try await router.settle(try await router.route(RouteRequest(model: "gpt-4o-mini")), usage: Usage(inputTokens: 1, outputTokens: 1))
            try await router.shutdown()
            let lease = try await PostgresConnectionPool.connect(url: fixture.url!, redactor: URLRedactor(url: fixture.url!))
            defer { lease.connection.close() }
            var dump = ""
            for table in ["routersdk_keys", "routersdk_usage_events", "routersdk_transitions", "routersdk_budgets", "routersdk_decision_samples"] {
                for row in try lease.connection.query("SELECT t::text FROM \(table) t") { dump += (row.cells.first ?? nil) ?? "" }
            }
            #expect(dump.contains("\\x"))
            #expect(!dump.contains("PLAINTEXT-MUST-NOT-APPEAR"))
        }
    }
}

/// A loopback port with nothing listening on it.
func freePort() throws -> Int {
    let descriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { close(descriptor) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    address.sin_port = 0
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(descriptor, $0, length) == 0 && getsockname(descriptor, $0, &length) == 0 }
    }
    guard bound else { throw RouterError(.storeFailure, "could not find a free port") }
    return Int(UInt16(bigEndian: address.sin_port))
}
