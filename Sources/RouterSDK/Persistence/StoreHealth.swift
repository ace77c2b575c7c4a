/// How the router's writes to its ``StateStore`` are going, from ``LLMRouter/storeHealth``.
///
/// While the store refuses writes the router keeps routing and settling from memory: records
/// wait in a bounded buffer and are retried with backoff until the store takes them, exactly once
/// (batches are idempotent). Apps serve this on a readiness probe.
public struct StoreHealth: Sendable, Hashable {
    /// Whether the last write to the store succeeded (or nothing has failed yet).
    public var isAvailable: Bool
    /// When the store became unavailable, or recovered (the last change).
    public var since: Timestamp
    /// Records waiting to be written.
    public var bufferedRecords: Int
    /// Records dropped since the router started: the buffer stayed full past
    /// ``RouterConfiguration/Persistence/enqueueTimeout``, or shutdown gave up on a dead store.
    /// Each drop is also logged and counted in `routersdk_store_records_dropped_total`.
    public var droppedRecords: Int
    /// The last write error, if the store is unavailable (never contains secrets).
    public var lastError: String?

    /// Creates a health report.
    public init(isAvailable: Bool, since: Timestamp, bufferedRecords: Int, droppedRecords: Int, lastError: String?) {
        self.isAvailable = isAvailable
        self.since = since
        self.bufferedRecords = bufferedRecords
        self.droppedRecords = droppedRecords
        self.lastError = lastError
    }
}
