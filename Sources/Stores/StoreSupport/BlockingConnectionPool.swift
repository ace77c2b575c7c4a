package import Dispatch
package import RouterSDK

/// A connection to a server whose client library blocks: it is only ever used from the serial
/// queue it was opened on, by one work item at a time.
package protocol BlockingConnection: AnyObject, Sendable {
    /// Checks the connection is usable (reconnecting if the library can); called before each use.
    func ensureHealthy() throws(RouterError)
    /// Releases the connection; called on its queue.
    func close()
}

/// A fixed-size pool of blocking connections, each with its own serial dispatch queue, so blocking
/// C calls never run on Swift's cooperative thread pool. Connections open lazily, up to `size`;
/// callers beyond that wait for one to be returned.
///
/// The PostgreSQL and MongoDB stores share it; their connections differ, the queueing does not.
package actor BlockingConnectionPool<Connection: BlockingConnection> {
    /// A connection and the queue it lives on.
    package struct Lease: Sendable {
        package let connection: Connection
        package let queue: DispatchQueue
    }

    private let label: String
    private let size: Int
    private let open: @Sendable () throws(RouterError) -> Connection
    private let closedMessage: String
    private var idle: [Lease] = []
    private var opened = 0
    private var waiters: [CheckedContinuation<Lease, Never>] = []
    private var closed = false

    /// Creates an empty pool; `open` runs on a new connection's queue and may block.
    package init(label: String, size: Int, closedMessage: String, open: @escaping @Sendable () throws(RouterError) -> Connection) {
        self.label = label
        self.size = size
        self.closedMessage = closedMessage
        self.open = open
    }

    /// Runs `body` with a connection, on that connection's queue.
    @discardableResult
    package func run<T: Sendable>(_ body: @escaping @Sendable (Connection) throws(RouterError) -> T) async throws(RouterError) -> T {
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
        guard !closed else { throw RouterError(.storeFailure, closedMessage) }
        if let lease = idle.popLast() { return lease }
        if opened < size {
            opened += 1
            do {
                return try await Self.connect(label: label, open)
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

    /// Opens one connection on a fresh queue, outside any pool (the open itself may block).
    package static func connect(label: String, _ open: @escaping @Sendable () throws(RouterError) -> Connection) async throws(RouterError) -> Lease {
        let queue = DispatchQueue(label: label)
        let result: Result<Connection, RouterError> = await withCheckedContinuation { continuation in
            queue.async {
                do throws(RouterError) {
                    continuation.resume(returning: .success(try open()))
                } catch {
                    continuation.resume(returning: .failure(error))
                }
            }
        }
        return Lease(connection: try result.get(), queue: queue)
    }

    /// Closes idle connections now and busy ones when they are returned.
    package func close() {
        closed = true
        for lease in idle { lease.queue.async { lease.connection.close() } }
        idle.removeAll()
    }
}
