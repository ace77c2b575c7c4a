public import ServiceLifecycle

/// Closes a ``StateStore`` when its `ServiceGroup` shuts down.
///
/// List it *before* the router: the group shuts services down in reverse order, so the router
/// writes everything it buffered first and the store closes after.
///
/// ```swift
/// let store = try await StateStores.open(url: url)
/// let router = try LLMRouter(store: store)
/// let group = ServiceGroup(services: [StateStoreService(store), router, app], logger: logger)
/// ```
public struct StateStoreService: Service {
    /// The store closed at shutdown.
    public let store: any StateStore

    /// Wraps `store`; nothing is opened or checked here.
    public init(_ store: any StateStore) {
        self.store = store
    }

    /// Waits for graceful shutdown (or cancellation), then closes the store.
    public func run() async throws {
        try? await gracefulShutdown()
        await store.close()
    }
}
