internal import CMongo
import Foundation
import RouterSDK
import StoreSupport

/// The pool of MongoDB clients a store uses: each on its own serial queue.
typealias MongoConnectionPool = BlockingConnectionPool<MongoConnection>

/// One client popped from a ``MongoClientPool``, with the operations the store needs. Blocking:
/// its owner only calls it from its serial queue (``BlockingConnectionPool`` hands it out
/// exclusively), which is why it may be `@unchecked Sendable`.
final class MongoConnection: BlockingConnection, @unchecked Sendable {
    private let pool: MongoClientPool
    private var client: OpaquePointer?
    /// Whether the last failed operation carried MongoDB's `TransientTransactionError` label
    /// (the whole transaction may be retried).
    private var lastFailureWasTransient = false

    /// Pops a client (blocks while the pool is at its maximum size).
    init(pool: MongoClientPool) {
        self.pool = pool
        client = mongoc_client_pool_pop(pool.pointer)
    }

    deinit { close() }

    func ensureHealthy() throws(RouterError) {
        // libmongoc reconnects by itself; only a closed connection is unusable.
        guard client != nil else { throw RouterError(.storeFailure, "the MongoDB connection is closed") }
    }

    func close() {
        if let client { mongoc_client_pool_push(pool.pointer, client) }
        client = nil
    }

    // MARK: Operations

    /// Runs a command on the store's database (or `admin`).
    @discardableResult
    func command(_ command: BSON, onAdmin: Bool = false) throws(RouterError) -> BSON {
        let client = try openClient()
        return try command.withDocument { (document) throws(RouterError) in
            try withReply("run \(command.firstFieldName)") { reply, error in
                mongoc_client_command_simple(client, onAdmin ? "admin" : pool.databaseName, document, nil, reply, error)
            }
        }
    }

    /// The documents matching `filter`, in `sort` order, at most `limit` (all if `nil`).
    func find(_ collection: String, _ filter: BSON = [:], sort: BSON? = nil, limit: Int? = nil) throws(RouterError) -> [BSON] {
        var options: [BSON.Field] = []
        if let sort { options.append(.init(name: "sort", value: sort)) }
        if let limit { options.append(.init(name: "limit", value: .int64(Int64(limit)))) }
        return try withCollection(collection) { (handle) throws(RouterError) in
            try filter.withDocument { (filterDocument) throws(RouterError) in
                try BSON.document(options).withDocument { (optionsDocument) throws(RouterError) in
                    try drain(mongoc_collection_find_with_opts(handle, filterDocument, optionsDocument, nil), "read \(collection)")
                }
            }
        }
    }

    /// The results of an aggregation pipeline.
    func aggregate(_ collection: String, _ pipeline: [BSON]) throws(RouterError) -> [BSON] {
        try withCollection(collection) { (handle) throws(RouterError) in
            try BSON.array(pipeline).withDocument { (pipelineDocument) throws(RouterError) in
                try drain(mongoc_collection_aggregate(handle, MONGOC_QUERY_NONE, pipelineDocument, nil, nil), "aggregate \(collection)")
            }
        }
    }

    /// Inserts documents in order, in `session`'s transaction if given.
    func insertMany(_ collection: String, _ documents: [BSON], session: MongoSession? = nil) throws(RouterError) {
        guard !documents.isEmpty else { return }
        let pointers = documents.map { $0.makeDocument() }
        defer { pointers.forEach { bson_destroy($0) } }
        try withCollection(collection) { (handle) throws(RouterError) in
            try withOptions(session: session) { (options) throws(RouterError) in
                var constPointers: [OpaquePointer?] = pointers
                _ = try withReply("insert into \(collection)") { reply, error in
                    mongoc_collection_insert_many(handle, &constPointers, constPointers.count, options, reply, error)
                }
            }
        }
    }

    /// Inserts one document; returns `false` (and writes nothing) if its `_id` already exists.
    func insertUnlessPresent(_ collection: String, _ document: BSON) throws(RouterError) -> Bool {
        do {
            try insertMany(collection, [document])
            return true
        } catch let error where error.code == .versionConflict {
            return false
        }
    }

    /// Updates the first document matching `filter`; returns how many matched (0 or 1).
    @discardableResult
    func updateOne(_ collection: String, _ filter: BSON, _ update: BSON, upsert: Bool = false, session: MongoSession? = nil) throws(RouterError) -> Int64 {
        let reply = try withCollection(collection) { (handle) throws(RouterError) in
            try filter.withDocument { (filterDocument) throws(RouterError) in
                try update.withDocument { (updateDocument) throws(RouterError) in
                    try withOptions(session: session, extra: upsert ? [.init(name: "upsert", value: .bool(true))] : []) { (options) throws(RouterError) in
                        try withReply("update \(collection)") { reply, error in
                            mongoc_collection_update_one(handle, filterDocument, updateDocument, options, reply, error)
                        }
                    }
                }
            }
        }
        return (reply["matchedCount"]?.integer ?? 0) + (reply["upsertedCount"]?.integer ?? 0)
    }

    /// Deletes every document matching `filter`; returns how many were deleted.
    func deleteMany(_ collection: String, _ filter: BSON) throws(RouterError) -> Int64 {
        try delete(collection, filter, mongoc_collection_delete_many)
    }

    /// Deletes the first document matching `filter`; returns how many were deleted (0 or 1).
    func deleteOne(_ collection: String, _ filter: BSON) throws(RouterError) -> Int64 {
        try delete(collection, filter, mongoc_collection_delete_one)
    }

    /// One body for both deletes: `operation` is `mongoc_collection_delete_one` or `_many`.
    private func delete(
        _ collection: String, _ filter: BSON,
        _ operation: (OpaquePointer?, OpaquePointer?, OpaquePointer?, OpaquePointer?, UnsafeMutablePointer<bson_error_t>?) -> Bool
    ) throws(RouterError) -> Int64 {
        let reply = try withCollection(collection) { (handle) throws(RouterError) in
            try filter.withDocument { (filterDocument) throws(RouterError) in
                try withReply("delete from \(collection)") { reply, error in
                    operation(handle, filterDocument, nil, reply, error)
                }
            }
        }
        return reply["deletedCount"]?.integer ?? 0
    }

    /// Atomically applies `update` to the document matching `query` and returns it as updated,
    /// or `nil` if none matched (and `upsert` is off).
    func findAndModify(_ collection: String, _ query: BSON, _ update: BSON, upsert: Bool = false, session: MongoSession? = nil) throws(RouterError) -> BSON? {
        let options = mongoc_find_and_modify_opts_new()
        defer { mongoc_find_and_modify_opts_destroy(options) }
        let reply = try withCollection(collection) { (handle) throws(RouterError) in
            try query.withDocument { (queryDocument) throws(RouterError) in
                try update.withDocument { (updateDocument) throws(RouterError) in
                    _ = mongoc_find_and_modify_opts_set_update(options, updateDocument)
                    let flags = MONGOC_FIND_AND_MODIFY_RETURN_NEW.rawValue | (upsert ? MONGOC_FIND_AND_MODIFY_UPSERT.rawValue : 0)
                    _ = mongoc_find_and_modify_opts_set_flags(options, mongoc_find_and_modify_flags_t(rawValue: flags))
                    return try withOptions(session: session) { (extra) throws(RouterError) in
                        _ = mongoc_find_and_modify_opts_append(options, extra)
                        return try withReply("update \(collection)") { reply, error in
                            mongoc_collection_find_and_modify_with_opts(handle, queryDocument, options, reply, error)
                        }
                    }
                }
            }
        }
        guard let value = reply["value"], value != .null else { return nil }
        return value
    }

    /// Runs `body` in a multi-document transaction, committing on success and aborting on error.
    /// Retries the whole transaction when MongoDB labels a failure `TransientTransactionError`,
    /// e.g. a write conflict with another process — as the drivers' `withTransaction` does, up to
    /// ``transientRetries`` times with a short, growing, jittered pause: writers of several
    /// processes committing at once conflict routinely, and a conflict surfacing as a failed
    /// batch would release the settles waiting for it (``RouterConfiguration/Persistence``).
    /// Runs on the store's blocking threads, so the pause sleeps the thread.
    func transaction<T>(_ body: (MongoSession) throws(RouterError) -> T) throws(RouterError) -> T {
        let client = try openClient()
        var attempt = 0
        while true {
            attempt += 1
            var error = bson_error_t()
            guard let session = mongoc_client_start_session(client, nil, &error) else {
                throw failure(error, reply: nil, "start a session")
            }
            defer { mongoc_client_session_destroy(session) }
            let wrapped = MongoSession(pointer: session)
            do throws(RouterError) {
                guard mongoc_client_session_start_transaction(session, nil, &error) else {
                    throw failure(error, reply: nil, "start a transaction")
                }
                let result = try body(wrapped)
                _ = try withReply("commit a transaction") { reply, error in
                    mongoc_client_session_commit_transaction(session, reply, error)
                }
                return result
            } catch {
                if mongoc_client_session_in_transaction(session) {
                    var abortError = bson_error_t()
                    _ = mongoc_client_session_abort_transaction(session, &abortError)
                }
                guard lastFailureWasTransient, attempt < Self.transientRetries else { throw error }
                // 1, 2, 4 … 64 ms, then 64 ms: about 2 s in all before a conflict is reported.
                let pause = UInt32(1_000 << min(attempt - 1, 6))
                usleep(pause / 2 + UInt32.random(in: 0...(pause / 2)))
            }
        }
    }

    /// How many times a transaction is tried when it keeps meeting transient errors.
    static let transientRetries = 40

    // MARK: Plumbing

    private func openClient() throws(RouterError) -> OpaquePointer {
        guard let client else { throw RouterError(.storeFailure, "the MongoDB connection is closed") }
        return client
    }

    private func withCollection<T>(_ name: String, _ body: (OpaquePointer) throws(RouterError) -> T) throws(RouterError) -> T {
        let collection = mongoc_client_get_collection(try openClient(), pool.databaseName, name)!
        defer { mongoc_collection_destroy(collection) }
        return try body(collection)
    }

    /// Runs `body` with an options document holding `extra` and, if given, the session's id.
    private func withOptions<T>(session: MongoSession?, extra: [BSON.Field] = [], _ body: (OpaquePointer) throws(RouterError) -> T) throws(RouterError) -> T {
        try BSON.document(extra).withDocument { (options) throws(RouterError) in
            if let session {
                var error = bson_error_t()
                guard mongoc_client_session_append(session.pointer, options, &error) else { throw failure(error, reply: nil, "use the session") }
            }
            return try body(options)
        }
    }

    /// Calls a libmongoc function that fills a reply and an error; returns the reply or throws.
    private func withReply(_ what: @autoclosure () -> String, _ call: (OpaquePointer, UnsafeMutablePointer<bson_error_t>) -> Bool) throws(RouterError) -> BSON {
        let reply = cmongo_bson_alloc()!
        defer { cmongo_bson_free(reply) }
        var error = bson_error_t()
        guard call(reply, &error) else { throw failure(error, reply: reply, what()) }
        lastFailureWasTransient = false
        return BSON(reading: reply)
    }

    /// Reads every document of a cursor, then destroys it.
    private func drain(_ cursor: OpaquePointer?, _ what: @autoclosure () -> String) throws(RouterError) -> [BSON] {
        guard let cursor else { throw RouterError(.storeFailure, "MongoDB could not \(what())") }
        defer { mongoc_cursor_destroy(cursor) }
        var documents: [BSON] = []
        var document: OpaquePointer?
        while mongoc_cursor_next(cursor, &document) {
            if let document { documents.append(BSON(reading: document)) }
        }
        var error = bson_error_t()
        var reply: OpaquePointer?
        if mongoc_cursor_error_document(cursor, &error, &reply) {
            throw failure(error, reply: reply, what())
        }
        lastFailureWasTransient = false
        return documents
    }

    /// A typed error for a libmongoc failure, without the URL's password: `storeUnreachable` when
    /// no server answered, `versionConflict` for a duplicate `_id`, `storeFailure` otherwise.
    private func failure(_ error: bson_error_t, reply: OpaquePointer?, _ what: String) -> RouterError {
        var error = error
        lastFailureWasTransient = reply.map { mongoc_error_has_label($0, "TransientTransactionError") } ?? false
        let message = pool.redactor.scrub(String(cString: cmongo_error_message(&error)))
        if error.domain == MONGOC_ERROR_SERVER_SELECTION.rawValue || error.domain == MONGOC_ERROR_STREAM.rawValue {
            return RouterError(.storeUnreachable, "cannot reach MongoDB at \(pool.redactor.redactedURL) to \(what): \(message)")
        }
        if error.code == 11000 || error.code == 11001 {
            return RouterError(.versionConflict, "MongoDB refused to \(what): duplicate key")
        }
        return RouterError(.storeFailure, "MongoDB could not \(what): \(message)")
    }
}

/// A client session (`mongoc_client_session_t`) with a transaction in progress.
struct MongoSession {
    fileprivate let pointer: OpaquePointer
}

extension BSON {
    /// The first field's name (a command's name), for messages.
    fileprivate var firstFieldName: String {
        if case .document(let fields) = self, let first = fields.first { return first.name }
        return "a command"
    }
}
