public import ServiceLifecycle

extension LLMRouter: Service {
    /// Runs the router's store writer until the router shuts down; the `Service` entry point.
    ///
    /// Put the router in the app's `ServiceGroup` *before* the HTTP server, so the group's
    /// graceful shutdown (which goes in reverse order) stops the server first and the router
    /// second, and after the router a ``StateStoreService`` closing the store:
    ///
    /// ```swift
    /// let group = ServiceGroup(
    ///     services: [StateStoreService(store), router, app],
    ///     gracefulShutdownSignals: [.sigterm, .sigint],
    ///     logger: logger)
    /// try await group.run()
    /// ```
    ///
    /// - Graceful shutdown calls ``shutdown()``: new routes fail with `shutDown`, leases in
    ///   flight get ``RouterConfiguration/drainTimeout`` to settle, and every buffered record
    ///   is written before `run()` returns.
    /// - Cancellation (the group's hard stop) shuts down without waiting for leases.
    /// - Calling ``shutdown()`` yourself also ends `run()`.
    ///
    /// - Throws: what ``shutdown()`` throws — `storeFailure` when records could not be written
    ///   or leases were still outstanding — so the service group reports it.
    public nonisolated func run() async throws {
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await self.writer.run() }
            group.addTask {
                // Returns on graceful shutdown; throws when the task is cancelled.
                try? await gracefulShutdown()
                try await self.shutdown()
            }
            try await group.next()
            group.cancelAll()
            try await group.waitForAll()
        }
    }
}
