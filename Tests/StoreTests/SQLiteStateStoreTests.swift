import Foundation
import RouterSDK
import StateStoreConformance
import StoreSupport
@testable import SQLiteStateStore
import Testing

/// SQLite-specific behaviour: migrations, refusing newer schemas, corrupted rows, no plaintext.
@Suite struct SQLiteStateStoreTests {
    private func temporaryPath() throws -> (URL, String) {
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("routersdk-sqlite-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        return (directory, directory.appendingPathComponent("state.db").path)
    }

    @Test func migratesAnEmptyDatabaseAndThePreviousSchemaVersion() async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        // Build a version-1 database by hand, with data in it.
        do {
            let connection = try SQLiteConnection(path: path)
            try SQLiteStateStore.migrate(connection, to: 1, logger: quietLogger)
            try connection.query("INSERT INTO budgets (id, definition) VALUES (?, ?)", [.text("b"), .text(try StoreRecordCoding.encode(Budget(id: "b", period: .day, limit: 3)))])
            #expect(try connection.query("PRAGMA user_version").first?.integer(0, "") == 1)
            connection.close()
        }
        let store = try await SQLiteStateStore.open(path: path, logger: quietLogger)
        #expect(try await store.schemaVersion() == SQLiteStateStore.schemaVersion)
        #expect(SQLiteStateStore.schemaVersion == 5)
        try await expectMigratedBudgetIsVersionOne(store, id: "b")
        #expect(try await store.addSpend(Money(nanodollars: 5), to: "b", periodStart: epoch, limit: nil) == Money(nanodollars: 5))
        // An empty in-memory database migrates straight to the current version.
        let memory = try await SQLiteStateStore.open(path: ":memory:", logger: quietLogger)
        #expect(try await memory.schemaVersion() == SQLiteStateStore.schemaVersion)
    }

    @Test func refusesANewerSchemaWithoutWriting() async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("CREATE TABLE future (x INTEGER); PRAGMA user_version = 99")
            connection.close()
        }
        let before = try Data(contentsOf: URL(fileURLWithPath: path))
        let error = await expectCode(.schemaTooNew) { try await SQLiteStateStore.open(path: path, logger: quietLogger) }
        #expect(error?.message.contains("99") == true)
        #expect(try Data(contentsOf: URL(fileURLWithPath: path)) == before)
        #expect(!FileManager.default.fileExists(atPath: path + "-wal"))
    }

    @Test func corruptedRowsGiveTypedErrorsNamingTheRecord() async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStateStore.open(path: path, logger: quietLogger)
        try await store.saveKey(try sampleKey("victim"), expectedVersion: nil)
        try await store.saveBudget(StoredBudget(budget: Budget(id: "budget", period: .day, limit: 1), version: 1, updatedAt: epoch), expectedVersion: nil)
        try await store.append(StoreBatch(transitions: [KeyTransition(keyID: "victim", from: .available, to: .invalid, reason: .authInvalid, at: epoch)]))
        await store.close()
        do {
            let connection = try SQLiteConnection(path: path)
            try connection.execute("UPDATE keys SET settings = '{not json' WHERE id = 'victim'")
            try connection.execute("UPDATE budgets SET definition = '42'")
            try connection.execute("UPDATE transitions SET record = 'garbage'")
            connection.close()
        }
        let reopened = try await SQLiteStateStore.open(path: path, logger: quietLogger)
        let keyError = await expectCode(.corruptRecord) { try await reopened.loadKeys() }
        #expect(keyError?.message.contains("victim") == true)
        let budgetError = await expectCode(.corruptRecord) { try await reopened.loadBudgets() }
        #expect(budgetError?.message.contains("budget") == true)
        await expectCode(.corruptRecord) { try await reopened.transitions(of: nil, limit: 5) }
    }

    @Test func unopenablePathsGiveTypedErrors() async throws {
        await expectCode(.storeFailure) { try await SQLiteStateStore.open(path: "/nonexistent-dir/sub/state.db", logger: quietLogger) }
    }

    @Test func rawDatabaseFilesHoldNoPlaintextSecret() async throws {
        let (directory, path) = try temporaryPath()
        defer { try? FileManager.default.removeItem(at: directory) }
        let store = try await SQLiteStateStore.open(path: path, logger: quietLogger)
        let router = try LLMRouter(configuration: RouterConfiguration(masterKey: testMasterKey), store: store, logger: quietLogger)
        try await router.register(APIKey(id: "k", provider: .openai, secret: "sk-PLAINTEXT-MUST-NOT-APPEAR", models: ["gpt-4o-mini"]))
        try await router.rotate("k", to: "sk-ROTATED-MUST-NOT-APPEAR")
        try await router.settle(try await router.route(RouteRequest(model: "gpt-4o-mini")), usage: Usage(inputTokens: 1, outputTokens: 1))
        try await router.shutdown()
        var dump = Data()
        for file in try FileManager.default.contentsOfDirectory(atPath: directory.path) {
            dump.append(try Data(contentsOf: directory.appendingPathComponent(file)))
        }
        #expect(dump.count > 4096)
        for needle in ["PLAINTEXT-MUST-NOT-APPEAR", "ROTATED-MUST-NOT-APPEAR"] {
            #expect(dump.range(of: Data(needle.utf8)) == nil, "found \(needle) in the raw database")
        }
    }
}
