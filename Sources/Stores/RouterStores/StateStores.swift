public import Logging
import MongoStateStore
import PostgresStateStore
public import RouterSDK
import SQLiteStateStore

/// Opens a ``RouterSDK/StateStore`` from a URL, so an app picks its store in configuration.
///
/// This product links every backend it supports; link a backend's own product instead if you
/// want only that one (an app using SQLite alone never needs libpq).
public enum StateStores {
    /// Opens the store `url` names.
    ///
    /// - `memory:` — a new ``RouterSDK/InMemoryStateStore``.
    /// - `sqlite:///absolute/path.db`, `sqlite://relative/path.db`, `sqlite:path.db`, or
    ///   `sqlite::memory:` — an ``SQLiteStateStore/SQLiteStateStore``.
    /// - `postgres://user:password@host:port/db?sslmode=…` (or `postgresql://`) — a
    ///   ``PostgresStateStore/PostgresStateStore`` with a connection pool.
    /// - `mongodb://user:password@host:port/db?replicaSet=…` (or `mongodb+srv://`) — a
    ///   ``MongoStateStore/MongoStateStore`` with a client pool.
    ///
    /// - Throws: `invalidStoreURL` for anything else; the backend's own errors when it cannot open.
    public static func open(url: String, logger: Logger = Logger(label: "RouterSDK.Store")) async throws -> any StateStore {
        if url == "memory:" || url == "memory://" {
            return InMemoryStateStore()
        }
        if url.hasPrefix("sqlite:") {
            return try await SQLiteStateStore.open(path: try sqlitePath(url), logger: logger)
        }
        if url.hasPrefix("postgres://") || url.hasPrefix("postgresql://") {
            return try await PostgresStateStore.open(.init(url: url), logger: logger)
        }
        if url.hasPrefix("mongodb://") || url.hasPrefix("mongodb+srv://") {
            return try await MongoStateStore.open(.init(url: url), logger: logger)
        }
        let scheme = url.split(separator: ":", maxSplits: 1).first.map(String.init) ?? url
        throw RouterError(.invalidStoreURL, "unsupported state store URL scheme '\(scheme)'; use memory:, sqlite:, postgres:// or mongodb://")
    }

    /// The file path (or `:memory:`) an `sqlite:` URL names.
    static func sqlitePath(_ url: String) throws(RouterError) -> String {
        var rest = url.dropFirst("sqlite:".count)
        if rest == ":memory:" || rest == "//:memory:" { return ":memory:" }
        if rest.hasPrefix("//") { rest = rest.dropFirst(2) }
        guard !rest.isEmpty else { throw RouterError(.invalidStoreURL, "'\(url)' names no SQLite file") }
        return String(rest)
    }
}
