import Foundation
import RouterSDK
@testable import RouterStores
import Testing

@Suite struct StateStoresTests {
    @Test func opensEachSupportedURL() async throws {
        #expect(try await StateStores.open(url: "memory:", logger: quietLogger) is InMemoryStateStore)
        try await StateStores.open(url: "sqlite::memory:", logger: quietLogger).ping()
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("routersdk-url-\(UUID().uuidString).db").path
        defer { for suffix in ["", "-wal", "-shm"] { try? FileManager.default.removeItem(atPath: path + suffix) } }
        try await StateStores.open(url: "sqlite://\(path)", logger: quietLogger).ping()
        #expect(FileManager.default.fileExists(atPath: path))
        #expect(try StateStores.sqlitePath("sqlite:relative/state.db") == "relative/state.db")
        #expect(try StateStores.sqlitePath("sqlite:///var/lib/state.db") == "/var/lib/state.db")
    }

    @Test(arguments: ["mongodb://", "mongodb://h/db?replicaSet=", "redis://x", "", "sqlite:", "postgres://", "file.db"])
    func rejectsUnsupportedOrMalformedURLs(url: String) async {
        await expectCode(.invalidStoreURL) { try await StateStores.open(url: url, logger: quietLogger) }
    }

    @Test(.enabled(if: postgresURL != nil, "ROUTERSDK_POSTGRES_URL is not set: the postgres:// URL is not opened (scripts/test.sh starts a local server)"))
    func opensAPostgresURL() async throws {
        let store = try await StateStores.open(url: try #require(postgresURL), logger: quietLogger)
        try await store.ping()
        await store.close()
    }

    @Test(.enabled(if: mongoURL != nil, "ROUTERSDK_MONGO_URL is not set: the mongodb:// URL is not opened (scripts/test.sh starts a local server)"))
    func opensAMongoURL() async throws {
        let store = try await StateStores.open(url: try makeMongoDatabaseURL(), logger: quietLogger)
        try await store.ping()
        await store.close()
    }
}
