internal import CMongo
import Dispatch
import Foundation
import Logging
import RouterSDK
import StoreSupport

/// libmongoc's thread-safe client pool for one URL: it owns the topology (server discovery and
/// monitoring in libmongoc's own background thread), and the store's connections pop clients
/// from it.
final class MongoClientPool: @unchecked Sendable {
    /// Calls `mongoc_init()` once per process, before any other libmongoc call, and sends
    /// libmongoc's log (which goes to stderr by default, debug messages included) to swift-log.
    private static let runtime: Void = {
        mongoc_init()
        mongoc_log_set_handler({ level, domain, message, _ in
            let text = "\(domain.map { String(cString: $0) } ?? "mongoc"): \(message.map { String(cString: $0) } ?? "")"
            // libmongoc logs at ERROR what it also returns to the caller (e.g. a bad URL), and
            // the store reports those as typed errors, so they are only worth a debug line here.
            switch level {
            case MONGOC_LOG_LEVEL_CRITICAL: MongoClientPool.libraryLogger.critical("\(text)")
            case MONGOC_LOG_LEVEL_ERROR: MongoClientPool.libraryLogger.debug("\(text)")
            case MONGOC_LOG_LEVEL_WARNING: MongoClientPool.libraryLogger.warning("\(text)")
            case MONGOC_LOG_LEVEL_MESSAGE, MONGOC_LOG_LEVEL_INFO: MongoClientPool.libraryLogger.info("\(text)")
            default: MongoClientPool.libraryLogger.trace("\(text)")
            }
        }, nil)
    }()

    /// Where libmongoc's own log messages go.
    private static let libraryLogger = Logger(label: "RouterSDK.Mongo.libmongoc")

    /// The `mongoc_client_pool_t`; libmongoc makes pop/push safe from any thread.
    let pointer: OpaquePointer
    /// The database the URL names (`routersdk` if it names none).
    let databaseName: String
    let redactor: URLRedactor

    /// The default `socketTimeoutMS`: longer than any single write of ours should take.
    static let socketTimeoutMilliseconds: Int32 = 30_000

    /// Parses `url` and creates the pool. Connects lazily: nothing blocks here.
    ///
    /// When the URL sets neither, `serverSelectionTimeoutMS` and `connectTimeoutMS` are both
    /// `connectTimeoutMilliseconds`, so an unreachable server fails an operation within it.
    init(url: String, size: Int, connectTimeoutMilliseconds: Int32) throws(RouterError) {
        _ = Self.runtime
        let redactor = URLRedactor(url: url)
        guard url.hasPrefix("mongodb://") || url.hasPrefix("mongodb+srv://") else {
            throw RouterError(.invalidStoreURL, "'\(redactor.redactedURL)' is not a mongodb:// URL")
        }
        var error = bson_error_t()
        guard let uri = mongoc_uri_new_with_error(url, &error) else {
            throw RouterError(.invalidStoreURL, "'\(redactor.redactedURL)' is not a valid MongoDB URL: \(redactor.scrub(String(cString: cmongo_error_message(&error))))")
        }
        defer { mongoc_uri_destroy(uri) }
        for option in [MONGOC_URI_SERVERSELECTIONTIMEOUTMS, MONGOC_URI_CONNECTTIMEOUTMS] where !mongoc_uri_has_option(uri, option) {
            _ = mongoc_uri_set_option_as_int32(uri, option, connectTimeoutMilliseconds)
        }
        // A server that stops answering mid-operation (stopped, partitioned) fails the operation
        // after this long instead of blocking a pooled client forever; the router's writer then
        // retries with backoff. The URL's own `socketTimeoutMS` wins.
        if !mongoc_uri_has_option(uri, MONGOC_URI_SOCKETTIMEOUTMS) {
            _ = mongoc_uri_set_option_as_int32(uri, MONGOC_URI_SOCKETTIMEOUTMS, Self.socketTimeoutMilliseconds)
        }
        if !mongoc_uri_has_option(uri, MONGOC_URI_APPNAME) {
            _ = mongoc_uri_set_option_as_utf8(uri, MONGOC_URI_APPNAME, "RouterSDK")
        }
        databaseName = mongoc_uri_get_database(uri).map { String(cString: $0) } ?? "routersdk"
        guard !databaseName.isEmpty, let pool = mongoc_client_pool_new_with_error(uri, &error) else {
            throw RouterError(.invalidStoreURL, "cannot use MongoDB URL '\(redactor.redactedURL)': \(redactor.scrub(String(cString: cmongo_error_message(&error))))")
        }
        // Version 2 reports server errors in the MONGOC_ERROR_SERVER domain with the server's code.
        _ = mongoc_client_pool_set_error_api(pool, Int32(MONGOC_ERROR_API_VERSION_2))
        mongoc_client_pool_max_size(pool, UInt32(size))
        self.pointer = pool
        self.redactor = redactor
    }

    deinit {
        // Destroying the pool stops and joins libmongoc's monitor thread: keep that blocking
        // call off whatever thread released the last reference (possibly a cooperative one).
        let pool = UncheckedPointer(pointer: pointer)
        DispatchQueue.global(qos: .utility).async { mongoc_client_pool_destroy(pool.pointer) }
    }
}

/// Moves a C pointer into a dispatch work item; the receiver is its only user.
private struct UncheckedPointer: @unchecked Sendable {
    let pointer: OpaquePointer
}
