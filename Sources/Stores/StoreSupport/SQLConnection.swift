package import RouterSDK

/// What the shared SQL statements (``SQLLedger``) need from a connection: parameterized queries
/// returning rows, and transactions. The SQLite and PostgreSQL connections conform.
package protocol SQLConnection: BlockingConnection {
    associatedtype Row: StoreRow
    /// Runs one statement with `parameters` bound in order and returns its rows.
    @discardableResult
    func query(_ sql: String, _ parameters: [SQLValue]) throws(RouterError) -> [Row]
    /// Runs `body` in a transaction: committed when it returns, rolled back when it throws.
    func transaction<T>(_ body: () throws(RouterError) -> T) throws(RouterError) -> T
}
