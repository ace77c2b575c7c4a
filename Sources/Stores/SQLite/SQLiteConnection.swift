internal import CSQLite
import Foundation
import RouterSDK
internal import StoreSupport

/// One SQLite connection with a prepared-statement cache. Not thread-safe by design: its owner
/// (``SQLiteStateStore``, through a ``BlockingConnectionPool`` of one) only touches it from the
/// pool's serial queue.
///
/// `@unchecked Sendable` so it can be handed to that queue's work items; safe because every use
/// happens inside work items of one serial queue (and, in tests, on one task at a time).
final class SQLiteConnection: SQLConnection, @unchecked Sendable {
    /// A value bound to a statement parameter, or read from a column.
    typealias Value = SQLValue

    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]
    let path: String

    init(path: String) throws(RouterError) {
        self.path = path
        var db: OpaquePointer?
        let flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_URI
        let status = sqlite3_open_v2(path, &db, flags, nil)
        guard status == SQLITE_OK, let db else {
            let message = db.map { String(cString: sqlite3_errmsg($0)) } ?? "out of memory"
            sqlite3_close(db)
            throw RouterError(.storeFailure, "cannot open SQLite database '\(path)': \(message)")
        }
        handle = db
        // Several processes may share the file: wait for locks rather than failing at once.
        sqlite3_busy_timeout(db, 5_000)
    }

    deinit { close() }

    /// A closed connection stays closed: the store was closed.
    func ensureHealthy() throws(RouterError) {
        guard handle != nil else { throw RouterError(.storeFailure, "SQLite database '\(path)' is closed") }
    }

    func close() {
        for statement in statements.values { sqlite3_finalize(statement) }
        statements.removeAll()
        if let handle { sqlite3_close_v2(handle) }
        handle = nil
    }

    /// Runs one or more statements without parameters or results.
    func execute(_ sql: String) throws(RouterError) {
        guard let handle else { throw RouterError(.storeFailure, "SQLite database '\(path)' is closed") }
        var error: UnsafeMutablePointer<CChar>?
        if sqlite3_exec(handle, sql, nil, nil, &error) != SQLITE_OK {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite3_free(error)
            throw RouterError(.storeFailure, "SQLite error: \(message)")
        }
    }

    /// Runs a prepared statement with `bindings` and returns every row.
    @discardableResult
    func query(_ sql: String, _ bindings: [Value] = []) throws(RouterError) -> [Row] {
        let statement = try prepared(sql)
        defer {
            sqlite3_reset(statement)
            sqlite3_clear_bindings(statement)
        }
        for (offset, value) in bindings.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .integer(let number): status = sqlite3_bind_int64(statement, index, number)
            case .text(let text): status = csqlite_bind_text(statement, index, text, -1)
            case .bytes(let data): status = data.withUnsafeBytes { csqlite_bind_blob(statement, index, $0.baseAddress, Int32($0.count)) }
            case .null: status = sqlite3_bind_null(statement, index)
            }
            try check(status)
        }
        var rows: [Row] = []
        while true {
            let status = sqlite3_step(statement)
            if status == SQLITE_DONE { break }
            guard status == SQLITE_ROW else { try check(status); break }
            rows.append(Row(statement: statement))
        }
        return rows
    }

    /// Runs `body` in an immediate transaction (taking the write lock up front), committing on
    /// success and rolling back on any error.
    func transaction<T>(_ body: () throws(RouterError) -> T) throws(RouterError) -> T {
        try execute("BEGIN IMMEDIATE")
        do {
            let result = try body()
            try execute("COMMIT")
            return result
        } catch {
            try? execute("ROLLBACK")
            throw error
        }
    }

    private func prepared(_ sql: String) throws(RouterError) -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        guard let handle else { throw RouterError(.storeFailure, "SQLite database '\(path)' is closed") }
        var statement: OpaquePointer?
        try check(sqlite3_prepare_v3(handle, sql, -1, UInt32(SQLITE_PREPARE_PERSISTENT), &statement, nil))
        guard let statement else { throw RouterError(.storeFailure, "SQLite returned no statement for: \(sql)") }
        statements[sql] = statement
        return statement
    }

    private func check(_ status: Int32) throws(RouterError) {
        guard status == SQLITE_OK || status == SQLITE_ROW || status == SQLITE_DONE else {
            let message = handle.map { String(cString: sqlite3_errmsg($0)) } ?? "database closed"
            throw RouterError(.storeFailure, "SQLite error \(status): \(message)")
        }
    }

    /// One result row, copied out of the statement.
    struct Row: StoreRow {
        private var values: [Value] = []

        fileprivate init(statement: OpaquePointer) {
            for column in 0..<sqlite3_column_count(statement) {
                switch sqlite3_column_type(statement, column) {
                case SQLITE_INTEGER: values.append(.integer(sqlite3_column_int64(statement, column)))
                case SQLITE_TEXT: values.append(.text(String(cString: sqlite3_column_text(statement, column))))
                case SQLITE_BLOB:
                    let count = Int(sqlite3_column_bytes(statement, column))
                    let bytes = sqlite3_column_blob(statement, column)
                    values.append(.bytes(bytes.map { Data(bytes: $0, count: count) } ?? Data()))
                case SQLITE_FLOAT: values.append(.integer(Int64(sqlite3_column_double(statement, column))))
                default: values.append(.null)
                }
            }
        }

        /// The integer in `column`, or a typed error naming `record`.
        func integer(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Int64 {
            guard column < values.count, case .integer(let value) = values[column] else {
                throw RouterError(.corruptRecord, "\(record()) is corrupted: column \(column) is not an integer")
            }
            return value
        }

        /// The integer in `column`, or `nil` for NULL.
        func optionalInteger(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Int64? {
            if column < values.count, case .null = values[column] { return nil }
            return try integer(column, record())
        }

        /// The text in `column`, or a typed error naming `record`.
        func text(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> String {
            guard column < values.count, case .text(let value) = values[column] else {
                throw RouterError(.corruptRecord, "\(record()) is corrupted: column \(column) is not text")
            }
            return value
        }

        /// The text in `column`, or `nil` for NULL.
        func optionalText(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> String? {
            if column < values.count, case .null = values[column] { return nil }
            return try text(column, record())
        }

        /// The blob in `column`, or a typed error naming `record`.
        func bytes(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Data {
            guard column < values.count, case .bytes(let value) = values[column] else {
                throw RouterError(.corruptRecord, "\(record()) is corrupted: column \(column) is not a blob")
            }
            return value
        }
    }
}
