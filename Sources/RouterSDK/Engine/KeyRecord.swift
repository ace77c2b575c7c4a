/// A key's place in one (provider, model) pool.
struct PoolMembership {
    var pool: Int32
    var local: Int32
    /// Until when this key is out for this pool's model only (a per-model rate limit), in
    /// engine milliseconds; `nil`: not cooling.
    var coolingUntilMs: Int64?
}

/// The circuit breaker of one key.
enum CircuitState: Equatable {
    case closed
    case open(untilMs: Int64)
    case halfOpen(probeInFlight: Bool)
}

/// Everything the engine knows about one registered key. Lives in a contiguous array indexed by
/// slot; a removed key's slot is reused with a new generation so stale leases are recognised.
struct KeyRecord {
    var id: KeyID
    var secret: Secret
    var settings: KeySettings
    var state: KeyState
    /// When the state last changed here (wall clock): a state another instance stored earlier
    /// than this is stale (fleet key sync).
    var stateChangedAt = Timestamp(nanosecondsSinceEpoch: 0)
    var version: Int64
    var generation: UInt32
    var live: Bool

    var requestsPerMinute: RateWindow?
    var tokensPerMinute: RateWindow?
    var requestsPerDay: RateWindow?
    /// Grants on the fleet-wide limits (``FleetRateLimits``); `nil` unless the fleet shares them.
    var fleetPermits: FleetPermits?
    var inFlight: Int = 0

    /// Whether the key is in its pools' available sets.
    var dispatchable = false
    /// The wake-up time queued in the deadline heap, and the generation that entry must match.
    var scheduledWakeMs: Int64?
    var wakeGeneration: UInt32 = 0

    var memberships: [PoolMembership] = []
    /// Whether some membership is cooling down (``PoolMembership/coolingUntilMs``): only then does
    /// a refresh look at memberships one by one.
    var hasModelCooldowns = false
    /// Key-scoped budget accounts.
    var budgetAccounts: [Int32] = []

    var requests = 0
    var failures = 0
    var spend = Money.zero
    /// Moving-average latency in nanoseconds; 0 until measured.
    var latencyEWMA: Int64 = 0
    /// Moving-average success rate in parts per million.
    var successPPM: Int64 = 1_000_000
    var consecutiveFailures = 0
    var consecutiveRateLimits = 0
    var circuit = CircuitState.closed
    /// Moving-average milliseconds between routed requests (for exhaustion prediction).
    var intervalEWMAms: Int64 = 0
    var lastRoutedMs: Int64?
    var exhaustionWarned = false

    init(id: KeyID, secret: Secret, settings: KeySettings, state: KeyState, version: Int64, generation: UInt32) {
        self.id = id
        self.secret = secret
        self.settings = settings
        self.state = state
        self.version = version
        self.generation = generation
        self.live = true
        applyLimits()
    }

    /// Rebuilds the rate windows from the settings (usage in the old windows is forgotten only
    /// when a limit is added or its size changes).
    mutating func applyLimits() {
        let limits = settings.limits
        requestsPerMinute = rebuilt(requestsPerMinute, limits.requestsPerMinute, 60_000)
        tokensPerMinute = rebuilt(tokensPerMinute, limits.tokensPerMinute, 60_000)
        requestsPerDay = rebuilt(requestsPerDay, limits.requestsPerDay, 86_400_000)
    }

    private func rebuilt(_ current: RateWindow?, _ limit: Int?, _ windowMs: Int64) -> RateWindow? {
        guard let limit else { return nil }
        if let current, current.limit == Int64(limit) { return current }
        return RateWindow(limit: limit, windowMs: windowMs)
    }
}

/// A deadline-heap entry: wake `slot` at `ms` if its wake generation still matches.
struct WakeEntry: Comparable {
    var ms: Int64
    var slot: Int32
    var generation: UInt32
    var keyGeneration: UInt32

    static func < (lhs: WakeEntry, rhs: WakeEntry) -> Bool {
        (lhs.ms, lhs.slot) < (rhs.ms, rhs.slot)
    }
}
