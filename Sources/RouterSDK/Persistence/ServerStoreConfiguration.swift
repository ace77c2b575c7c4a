/// How a ``StateStore`` backed by a database server connects: the PostgreSQL and MongoDB stores
/// both take it (as `PostgresStateStore.Configuration` and `MongoStateStore.Configuration`).
public struct ServerStoreConfiguration: Sendable, Hashable {
    /// The connection URL (`postgres://…`, `mongodb://…`); its password never appears in errors
    /// or logs.
    public var url: String
    /// Connections (clients) in the store's pool (≥ 1).
    public var poolSize: Int
    /// Seconds to wait for the server, used when the URL sets no timeout of its own (≥ 1).
    public var connectTimeoutSeconds: Int

    /// Creates a configuration.
    public init(url: String, poolSize: Int = 4, connectTimeoutSeconds: Int = 5) {
        self.url = url
        self.poolSize = poolSize
        self.connectTimeoutSeconds = connectTimeoutSeconds
    }

    /// Checks the pool size and timeout.
    ///
    /// - Throws: `invalidArgument` when either is below 1.
    package func validate() throws(RouterError) {
        guard poolSize >= 1, connectTimeoutSeconds >= 1 else {
            throw RouterError(.invalidArgument, "pool size and connect timeout must be at least 1 (got \(poolSize) and \(connectTimeoutSeconds))")
        }
    }
}
