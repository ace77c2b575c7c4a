package import RouterSDK

/// What the shared SQL statements (``SQLLedger``) need from a connection: parameterized queries
/// returning rows. The SQLite and PostgreSQL connections conform (each keeps its own
/// transactions; the stores open them around the shared statements).
package protocol SQLConnection: BlockingConnection {
    associatedtype Row: StoreRow
    /// Runs one statement with `parameters` bound in order and returns its rows.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue]) throws(RouterError) -> [Row]
}
