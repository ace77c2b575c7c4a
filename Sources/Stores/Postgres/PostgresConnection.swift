internal import CPostgres
import Foundation
import RouterSDK
import StoreSupport

/// The pool of libpq connections a store uses.
typealias PostgresConnectionPool = BlockingConnectionPool<PostgresConnection>

extension BlockingConnectionPool where Connection == PostgresConnection {
    /// A pool that connects to `url` lazily, up to `size` connections.
    init(url: String, redactor: URLRedactor, size: Int) {
        self.init(label: "RouterSDK.PostgresConnection", size: size, closedMessage: "the PostgreSQL store is closed") { () throws(RouterError) in
            try PostgresConnection(url: url, redactor: redactor)
        }
    }

    /// Opens one connection outside any pool (on its own queue).
    static func connect(url: String, redactor: URLRedactor) async throws(RouterError) -> Lease {
        try await connect(label: "RouterSDK.PostgresConnection") { () throws(RouterError) in try PostgresConnection(url: url, redactor: redactor) }
    }
}

/// One libpq connection. Blocking: its owner only calls it from that connection's serial queue.
///
/// `@unchecked Sendable` so it can be handed to that queue's work items; safe because each
/// connection is used by one work item at a time (the pool hands it out exclusively).
final class PostgresConnection: SQLConnection, @unchecked Sendable {
    /// A parameter value; everything travels in libpq's text format (``SQLValue/postgresText``).
    typealias Value = SQLValue

    private var handle: OpaquePointer?
    private let redactor: URLRedactor

    /// Connects; gives up after the URL's `connect_timeout` (libpq's own timeout).
    init(url: String, redactor: URLRedactor) throws(RouterError) {
        self.redactor = redactor
        let connection = PQconnectdb(url)
        guard let connection, PQstatus(connection) == CONNECTION_OK else {
            let message = connection.map { String(cString: PQerrorMessage($0)) } ?? "out of memory"
            PQfinish(connection)
            throw RouterError(.storeUnreachable, "cannot connect to PostgreSQL at \(redactor.redactedURL): \(redactor.scrub(message))")
        }
        handle = connection
        // Notices (e.g. "relation already exists, skipping") are not errors; keep them off stderr.
        PQsetNoticeProcessor(connection, { _, _ in }, nil)
    }

    deinit { close() }

    func close() {
        if let handle { PQfinish(handle) }
        handle = nil
    }

    /// Whether the connection is still usable; resets it once if not.
    func ensureHealthy() throws(RouterError) {
        guard let handle else { throw RouterError(.storeFailure, "PostgreSQL connection is closed") }
        if PQstatus(handle) != CONNECTION_OK {
            PQreset(handle)
            guard PQstatus(handle) == CONNECTION_OK else {
                throw RouterError(.storeUnreachable, "lost the connection to PostgreSQL at \(redactor.redactedURL)")
            }
        }
    }

    /// Runs one parameterized statement and returns its rows as text (`nil` for NULL).
    @discardableResult
    func query(_ sql: String, _ parameters: [Value] = []) throws(RouterError) -> [PostgresRow] {
        guard let handle else { throw RouterError(.storeFailure, "PostgreSQL connection is closed") }
        let texts = parameters.map(\.postgresText)
        // strdup'd C strings live until the call returns.
        let pointers: [UnsafeMutablePointer<CChar>?] = texts.map { $0.flatMap { strdup($0) } }
        defer { pointers.forEach { free($0) } }
        let result = pointers.withUnsafeBufferPointer { buffer in
            buffer.baseAddress!.withMemoryRebound(to: UnsafePointer<CChar>?.self, capacity: max(buffer.count, 1)) { values in
                PQexecParams(handle, sql, Int32(parameters.count), nil, parameters.isEmpty ? nil : values, nil, nil, 0)
            }
        }
        defer { PQclear(result) }
        guard let result else { throw RouterError(.storeFailure, "PostgreSQL returned no result") }
        let status = PQresultStatus(result)
        guard status == PGRES_COMMAND_OK || status == PGRES_TUPLES_OK else {
            let message = String(cString: PQresultErrorMessage(result)).trimmingCharacters(in: .whitespacesAndNewlines)
            if PQstatus(handle) != CONNECTION_OK {
                throw RouterError(.storeUnreachable, "lost the connection to PostgreSQL at \(redactor.redactedURL): \(redactor.scrub(message))")
            }
            throw RouterError(.storeFailure, "PostgreSQL error: \(redactor.scrub(message))")
        }
        var rows: [PostgresRow] = []
        let columns = PQnfields(result)
        for row in 0..<PQntuples(result) {
            rows.append(PostgresRow(cells: (0..<columns).map { column in
                PQgetisnull(result, row, column) == 1 ? nil : String(cString: PQgetvalue(result, row, column))
            }))
        }
        return rows
    }

    /// Runs `body` in a transaction, committing on success and rolling back on error.
    func transaction<T>(_ body: () throws(RouterError) -> T) throws(RouterError) -> T {
        try query("BEGIN")
        do {
            let result = try body()
            try query("COMMIT")
            return result
        } catch {
            _ = try? query("ROLLBACK")
            throw error
        }
    }
}

/// One result row in libpq's text format (`nil` for NULL).
struct PostgresRow: StoreRow {
    let cells: [String?]

    /// The first cell's text, for naming a record in messages.
    var firstCell: String { (cells.first ?? nil) ?? "?" }

    func integer(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Int64 {
        guard column < cells.count, let text = cells[column], let value = Int64(text) else {
            throw RouterError(.corruptRecord, "\(record()) is corrupted: column \(column) is not an integer")
        }
        return value
    }

    func optionalInteger(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Int64? {
        guard column < cells.count, cells[column] != nil else { return nil }
        return try integer(column, record())
    }

    func text(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> String {
        guard column < cells.count, let text = cells[column] else {
            throw RouterError(.corruptRecord, "\(record()) is corrupted: column \(column) is NULL")
        }
        return text
    }

    func optionalText(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> String? {
        guard column < cells.count else { return nil }
        return cells[column]
    }

    /// A `bytea` cell in hex format (`\x0a1b…`).
    func bytes(_ column: Int, _ record: @autoclosure () -> String) throws(RouterError) -> Data {
        let text = try text(column, record())
        guard text.hasPrefix("\\x"), text.count % 2 == 0 else {
            throw RouterError(.corruptRecord, "\(record()) is corrupted: column \(column) is not hex bytea")
        }
        var data = Data(capacity: (text.count - 2) / 2)
        var index = text.index(text.startIndex, offsetBy: 2)
        while index < text.endIndex {
            let next = text.index(index, offsetBy: 2)
            guard let byte = UInt8(text[index..<next], radix: 16) else {
                throw RouterError(.corruptRecord, "\(record()) is corrupted: column \(column) is not hex bytea")
            }
            data.append(byte)
            index = next
        }
        return data
    }
}

extension SQLValue {
    /// The value in libpq's text format (`nil` is SQL NULL; bytes as `bytea` hex).
    var postgresText: String? {
        switch self {
        case .integer(let number): String(number)
        case .text(let text): text
        case .bytes(let data): "\\x" + data.map { String(format: "%02x", $0) }.joined()
        case .null: nil
        }
    }
}
