import Dispatch
import RouterSDK

/// A fixed-size pool of libpq connections, each with its own serial dispatch queue so blocking
/// libpq calls never run on Swift's cooperative thread pool. Connections open lazily, up to
/// `size`; callers beyond that wait for one to be returned.
actor PostgresConnectionPool {
    struct Lease: Sendable {
        let connection: PostgresConnection
        let queue: DispatchQueue
    }

    private let url: String
    private let redactor: URLRedactor
    private let size: Int
    private var idle: [Lease] = []
    private var opened = 0
    private var waiters: [CheckedContinuation<Lease, Never>] = []
    private var closed = false

    init(url: String, redactor: URLRedactor, size: Int) {
        self.url = url
        self.redactor = redactor
        self.size = size
    }

    /// Runs `body` with a connection on that connection's queue.
    @discardableResult
    func run<T: Sendable>(_ body: @escaping @Sendable (PostgresConnection) throws(RouterError) -> T) async throws(RouterError) -> T {
        let lease = try await acquire()
        let result: Result<T, RouterError> = await withCheckedContinuation { continuation in
            lease.queue.async {
                do throws(RouterError) {
                    try lease.connection.ensureHealthy()
                    continuation.resume(returning: .success(try body(lease.connection)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        release(lease)
        return try result.get()
    }

    private func acquire() async throws(RouterError) -> Lease {
        guard !closed else { throw RouterError(.storeFailure, "the PostgreSQL store is closed") }
        if let lease = idle.popLast() { return lease }
        if opened < size {
            opened += 1
            do {
                return try await Self.connect(url: url, redactor: redactor)
            } catch {
                opened -= 1
                throw error
            }
        }
        return await withCheckedContinuation { waiters.append($0) }
    }

    private func release(_ lease: Lease) {
        if closed {
            lease.queue.async { lease.connection.close() }
        } else if !waiters.isEmpty {
            waiters.removeFirst().resume(returning: lease)
        } else {
            idle.append(lease)
        }
    }

    /// Opens one connection on a fresh queue (the connect itself blocks up to `connect_timeout`).
    static func connect(url: String, redactor: URLRedactor) async throws(RouterError) -> Lease {
        let queue = DispatchQueue(label: "RouterSDK.PostgresConnection")
        let result: Result<PostgresConnection, RouterError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(RouterError) {
                    continuation.resume(returning: .success(try PostgresConnection(url: url, redactor: redactor)))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return Lease(connection: try result.get(), queue: queue)
    }

    /// Closes idle connections now and busy ones when they are returned.
    func close() {
        closed = true
        for lease in idle { lease.queue.async { lease.connection.close() } }
        idle.removeAll()
    }
}
