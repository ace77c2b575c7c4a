/// How a ``LLMRouter`` behaves. Every field has a production default.
public struct RouterConfiguration: Sendable {
    /// The circuit breaker applied to every key.
    public struct CircuitBreaker: Sendable, Hashable {
        /// Consecutive server errors or timeouts that open the breaker (≥ 1).
        public var failureThreshold: Int
        /// How long it stays open before one half-open probe is let through.
        public var openDuration: Duration
        /// Creates a policy.
        public init(failureThreshold: Int = 5, openDuration: Duration = .seconds(30)) {
            self.failureThreshold = failureThreshold
            self.openDuration = openDuration
        }
    }

    /// How usage events, transitions and decision samples reach the store.
    public struct Persistence: Sendable, Hashable {
        /// What a returned ``LLMRouter/settle(_:usage:logger:)`` (or `release`) means for its record.
        ///
        /// Frozen: the three durability modes.
        public enum Acknowledgement: Sendable, Hashable {
            /// Committed for stores that outlive the process
            /// (``StateStore/persistsAcrossRestarts``), buffered for the rest.
            case automatic
            /// `settle` returns once its usage event and spend are committed in the store (group
            /// commit: every settle waiting at that moment shares one transaction). A SIGKILL
            /// then loses no acknowledged settle. While the store is failing, or a write runs past
            /// ``commitWaitTimeout``, settles stop waiting and their records stay buffered
            /// (``StoreHealth``): an outage slows no caller beyond that timeout.
            case committed
            /// `settle` returns once its record is in the writer's buffer. A crash loses at most
            /// the buffer: ``bufferCapacity`` records, written within about ``gatherDelay`` plus
            /// one commit while the store is healthy (`routersdk_store_buffered_records`).
            case buffered
        }

        /// What an acknowledged settle means; see ``Acknowledgement``.
        public var acknowledgement: Acknowledgement
        /// Records buffered before writers wait for the store (backpressure, never unbounded).
        public var bufferCapacity: Int
        /// Most records written per batch.
        public var batchSize: Int
        /// How long the writer, once woken by a record, waits for more before writing. Records
        /// arriving meanwhile cost the hot path one lock and no wake-up; `flush()` and shutdown
        /// still see everything. Zero writes each wake-up at once.
        public var gatherDelay: Duration
        /// Delay before retrying a failed batch; doubles per consecutive failure up to
        /// ``maxRetryDelay``. A running router retries until the store takes the batch.
        public var retryDelay: Duration
        /// The longest delay between retries.
        public var maxRetryDelay: Duration
        /// How long a settle waits for room in a full buffer before its records are dropped
        /// (counted in ``StoreHealth/droppedRecords`` and `routersdk_store_records_dropped_total`).
        public var enqueueTimeout: Duration
        /// In committed mode, how long a settle waits for a store write in progress before it
        /// returns with its record still buffered.
        public var commitWaitTimeout: Duration
        /// Creates persistence settings.
        public init(
            acknowledgement: Acknowledgement = .automatic, bufferCapacity: Int = 262_144, batchSize: Int = 1_000,
            gatherDelay: Duration = .milliseconds(5), retryDelay: Duration = .milliseconds(100), maxRetryDelay: Duration = .seconds(5),
            enqueueTimeout: Duration = .seconds(1), commitWaitTimeout: Duration = .seconds(2)
        ) {
            self.acknowledgement = acknowledgement
            self.bufferCapacity = bufferCapacity
            self.batchSize = batchSize
            self.gatherDelay = gatherDelay
            self.retryDelay = retryDelay
            self.maxRetryDelay = maxRetryDelay
            self.enqueueTimeout = enqueueTimeout
            self.commitWaitTimeout = commitWaitTimeout
        }
    }

    /// The default strategy; requests may override it.
    public var strategy: RoutingStrategy
    /// Seals secrets before they reach the store. `nil`: ``MasterKey/fromEnvironment(_:)`` or, if
    /// unset, a random per-process key (fine in memory; persistent stores need a stable key).
    public var masterKey: MasterKey?
    /// Older master keys still accepted when opening sealed secrets.
    public var previousMasterKeys: [MasterKey]
    /// First cooldown after a 429 without `Retry-After`; doubles per consecutive 429.
    public var rateLimitBackoff: Duration
    /// The longest such backoff.
    public var maxRateLimitBackoff: Duration
    /// Cooldown after quota exhaustion without a reset time.
    public var quotaResetFallback: Duration
    /// The circuit breaker.
    public var circuitBreaker: CircuitBreaker
    /// Batched persistence.
    public var persistence: Persistence
    /// Record every Nth decision as a ``DecisionSample`` (0: none).
    public var decisionSampleInterval: Int
    /// Warn (``RouterEvent/exhaustionPredicted(keyID:at:)``) when a key's daily requests will run
    /// out within this horizon at the current rate.
    public var exhaustionWarningHorizon: Duration
    /// Seed for weighted-random routing; `nil` seeds from the system generator.
    public var randomSeed: UInt64?
    /// Extra input tokens reserved on top of ``RouteRequest/estimatedInputTokens``, in percent
    /// (0...1000), because estimates run low (images, CJK text, providers that count differently).
    /// A call that still uses more than its reservation is charged in full; see
    /// ``RouterEvent/Kind/budgetOverrun`` for the bound this gives a hard budget.
    public var reservationHeadroomPercent: Int
    /// How long a lease may stay neither settled nor released before the router reclaims it:
    /// returns its reservation, concurrency slot and tokens, emits ``RouterEvent/Kind/leaseExpired``
    /// and counts `routersdk_leases_expired_total`. A settle that arrives later is still charged.
    /// Leases are checked at most once a second, so one is reclaimed within a second after its
    /// TTL. Set it above your longest call (a long stream); the default is 10 minutes.
    public var leaseTimeToLive: Duration
    /// How long ``LLMRouter/shutdown()`` waits for leases in flight to be settled or released
    /// before it writes what it has and stops.
    public var drainTimeout: Duration
    /// Share hard budgets with every other instance on the same store (``FleetBudgets``);
    /// `nil` (the default): each instance enforces its budgets on its own view of the spend.
    public var fleet: FleetBudgets?

    /// Creates a configuration.
    public init(
        strategy: RoutingStrategy = .cost, masterKey: MasterKey? = nil, previousMasterKeys: [MasterKey] = [],
        rateLimitBackoff: Duration = .seconds(1), maxRateLimitBackoff: Duration = .seconds(60),
        quotaResetFallback: Duration = .seconds(3600), circuitBreaker: CircuitBreaker = .init(),
        persistence: Persistence = .init(), decisionSampleInterval: Int = 0,
        exhaustionWarningHorizon: Duration = .seconds(600), randomSeed: UInt64? = nil,
        reservationHeadroomPercent: Int = 10, leaseTimeToLive: Duration = .seconds(600), drainTimeout: Duration = .seconds(30),
        fleet: FleetBudgets? = nil
    ) {
        self.drainTimeout = drainTimeout
        self.fleet = fleet
        self.reservationHeadroomPercent = reservationHeadroomPercent
        self.leaseTimeToLive = leaseTimeToLive
        self.strategy = strategy
        self.masterKey = masterKey
        self.previousMasterKeys = previousMasterKeys
        self.rateLimitBackoff = rateLimitBackoff
        self.maxRateLimitBackoff = maxRateLimitBackoff
        self.quotaResetFallback = quotaResetFallback
        self.circuitBreaker = circuitBreaker
        self.persistence = persistence
        self.decisionSampleInterval = decisionSampleInterval
        self.exhaustionWarningHorizon = exhaustionWarningHorizon
        self.randomSeed = randomSeed
    }

    func validate() throws(RouterError) {
        guard circuitBreaker.failureThreshold >= 1 else {
            throw RouterError(.invalidArgument, "circuitBreaker.failureThreshold must be at least 1")
        }
        guard persistence.bufferCapacity >= 1, persistence.batchSize >= 1, persistence.gatherDelay >= .zero else {
            throw RouterError(.invalidArgument, "persistence buffer capacity and batch size must be at least 1, and the gather delay not negative")
        }
        guard (0...1000).contains(reservationHeadroomPercent) else {
            throw RouterError(.invalidArgument, "reservationHeadroomPercent must be 0...1000, got \(reservationHeadroomPercent)")
        }
        try fleet?.validate()
        guard leaseTimeToLive > .zero else {
            throw RouterError(.invalidArgument, "leaseTimeToLive must be positive")
        }
        guard decisionSampleInterval >= 0 else {
            throw RouterError(.invalidArgument, "decisionSampleInterval must not be negative")
        }
        for (name, value) in [
            ("persistence.retryDelay", persistence.retryDelay), ("persistence.maxRetryDelay", persistence.maxRetryDelay),
            ("persistence.enqueueTimeout", persistence.enqueueTimeout), ("persistence.commitWaitTimeout", persistence.commitWaitTimeout),
            ("drainTimeout", drainTimeout),
        ] where value <= .zero {
            throw RouterError(.invalidArgument, "\(name) must be positive")
        }
        for (name, value) in [("rateLimitBackoff", rateLimitBackoff), ("maxRateLimitBackoff", maxRateLimitBackoff), ("quotaResetFallback", quotaResetFallback), ("openDuration", circuitBreaker.openDuration)] where value <= .zero {
            throw RouterError(.invalidArgument, "\(name) must be positive")
        }
    }
}
