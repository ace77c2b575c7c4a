internal import CoreMetrics
public import Logging
public import Tracing

/// Routes LLM requests across many API keys: picks a key in microseconds, enforces rate limits
/// and budgets, tracks cost, cools keys down and fails over.
///
/// One decision is one hop onto this actor and a synchronous, allocation-light decision; nothing
/// on that path awaits I/O. Usage events and key transitions go to the ``StateStore`` through a
/// bounded batched writer off the hot path.
///
/// In a server app, run it as a swift-service-lifecycle `Service` (``run()``): the writer runs
/// inside the service, and graceful shutdown drains leases and writes everything buffered. A
/// router nobody runs (a script, a test) starts its writer on the first record; call
/// ``shutdown()`` to flush it, or drop the router and the writer ends after writing what is left.
///
/// ```swift
/// let router = try LLMRouter(store: InMemoryStateStore())
/// try await router.register(APIKey(id: "openai-1", provider: .openai, secret: Secret(key)))
/// try await router.setBudget(Budget(id: "daily", period: .day, limit: Money(dollars: 25)))
/// let lease = try await router.route(RouteRequest(model: "gpt-4o-mini", estimatedInputTokens: 500, maxOutputTokens: 300))
/// // ... call the provider with lease.secret ...
/// try await router.settle(lease, usage: Usage(inputTokens: 480, outputTokens: 212))
/// ```
public actor LLMRouter {
    let engine: RoutingEngine
    /// The state store the router persists to. An application may keep records of its own
    /// there through ``StateStore/sharedRecord(_:)`` and ``StateStore/writeSharedRecord(_:body:expectedVersion:)``
    /// under keys outside the router's own (which start with `fleet/` or `fleet-rate/`).
    public nonisolated let store: any StateStore
    let sealer: SecretSealer
    /// The injected clock; `nonisolated` so `execute` can read it without a hop.
    public nonisolated let clock: any RouterClock
    let logger: Logger
    let metrics = RouterMetrics()
    /// Spans, or `nil` when no tracer is set up (one branch on the hot path then).
    package nonisolated let tracing: RouterTracing?
    nonisolated let writer: StoreWriter
    /// The catalog as last set, readable without a hop: a `ChatClient` call reads the provider's
    /// wire format and the model's flags from it on the hot path.
    private nonisolated let catalogSnapshot: Locked<ModelCatalog>
    /// The wall time and monotonic reading at start: the engine's clock is the wall time at
    /// start plus the monotonic time elapsed since, so wall-clock steps do not move it.
    private let anchor: (wall: Timestamp, monotonic: Duration)
    /// Whether `settle`/`release` wait for their records to commit (group commit).
    let acknowledgesCommitted: Bool
    private var drainWaiters: [CheckedContinuation<Void, Never>] = []
    /// Keys and budgets with a management change in progress, and who waits for each (changes
    /// to one are serialised across the store write, which suspends this actor).
    private var busyRecords: [ManagedRecord: [CheckedContinuation<Void, Never>]] = [:]
    private var subscribers: [Int: AsyncStream<RouterEvent>.Continuation] = [:]
    private var nextSubscriber = 0
    private var stateCounts: [String: Int] = [:]
    var isShutDown = false
    /// Store records produced by synchronous calls (`route`, `state(of:)`), written by the next
    /// asynchronous call (`settle`, `release`, management, `flush`, `shutdown`) in order.
    private var pendingRecords: [StoreWriter.Record] = []
    private var spareEffects: [EngineEffect] = []
    /// Fleet budget settings (``RouterConfiguration/fleet``), read on every decision.
    let fleet: FleetBudgets?
    /// Fleet budgets: the slice being taken for each budget, so concurrent requests share one.
    var fleetRefills: [BudgetID: Task<Void, Never>] = [:]
    /// Fleet budgets: this instance's lease on each budget period's slices.
    var fleetLeases: [BudgetID: FleetLease] = [:]
    /// Fleet budgets: this instance's recent spend rate of each, which sizes its next slice.
    var fleetSpendRates: [BudgetID: FleetSpendRate] = [:]
    /// Fleet budgets: renews the leases every third of their TTL.
    var fleetHeartbeat: Task<Void, Never>?
    /// Fleet budgets: how long the store has answered without a break (gates reclaiming).
    var fleetContact = StoreContact()
    /// Fleet budgets: the unbroken store contact a reclaim needs (``FleetBudgets/reclaimGrace``
    /// plus the writer's longest retry delay, so a live instance's queued settles are written).
    let fleetReclaimContact: Duration
    /// Fleet rate limits: the grant renewal under way for each key limit's shared record.
    var permitRenewals: [String: Task<Void, Never>] = [:]
    /// Fleet key sync: reads the keys from the store every ``FleetBudgets/keySyncInterval``.
    var keySync: Task<Void, Never>?
    /// Fleet key sync: the keys the store had at the last sync (a key gone since was removed).
    var keysInStore: Set<KeyID>?
    /// The budgets the last fleet sync found in the store (`nil` before the first).
    var budgetsInStore: Set<BudgetID>?
    /// Fleet rate limits: the key limits whose window the store last found full.
    var permitRefusals: [String: FleetPermitRefusal] = [:]

    /// Creates a router.
    ///
    /// - Parameters:
    ///   - configuration: Strategy, cooldowns, circuit breaker, persistence and sealing settings.
    ///   - catalog: Providers, models and prices; `nil` loads the bundled catalog.
    ///   - store: Where keys (sealed), budgets and the ledger persist.
    ///   - clock: The time source; inject RouterTesting's `ManualClock` in tests.
    ///   - logger: Where the router logs (transitions at `notice`, alerts at `warning`).
    ///   - tracer: Where spans go (route, settle, release, each provider attempt, store
    ///     batches); `nil` uses the tracer bootstrapped in swift-distributed-tracing's
    ///     `InstrumentationSystem`, and none is created when that is the no-op tracer.
    /// - Throws: ``RouterError`` for an invalid configuration, a malformed catalog or master key;
    ///   `invalidMasterKey` when `store` outlives the process (``StateStore/persistsAcrossRestarts``)
    ///   and no master key is configured or in `ROUTERSDK_MASTER_KEY` — a random one would seal
    ///   secrets that the next start could never open.
    public init(
        configuration: RouterConfiguration = RouterConfiguration(),
        catalog: ModelCatalog? = nil,
        store: any StateStore = InMemoryStateStore(),
        clock: any RouterClock = SystemClock(),
        logger: Logger = Logger(label: "RouterSDK"),
        tracer: (any Tracer)? = nil
    ) throws {
        try configuration.validate()
        var master = configuration.masterKey
        if master == nil { master = try MasterKey.fromEnvironment() }
        if master == nil, store.persistsAcrossRestarts {
            throw RouterError(
                .invalidMasterKey,
                "a store that outlives the process needs a stable master key: set RouterConfiguration.masterKey or ROUTERSDK_MASTER_KEY (a random key would seal secrets the next start cannot open)")
        }
        self.sealer = SecretSealer(current: master ?? MasterKey.random(), previous: configuration.previousMasterKeys)
        let resolvedCatalog: ModelCatalog
        if let catalog { resolvedCatalog = catalog } else { resolvedCatalog = try ModelCatalog.bundled() }
        self.engine = RoutingEngine(configuration: configuration, catalog: resolvedCatalog)
        self.catalogSnapshot = Locked(resolvedCatalog)
        self.fleet = configuration.fleet.map { fleet in
            var resolved = fleet
            if resolved.instanceID == nil { resolved.instanceID = FleetBudgets.randomInstanceID() }
            return resolved
        }
        self.fleetReclaimContact = (configuration.fleet?.reclaimGrace ?? .zero) + configuration.persistence.maxRetryDelay
        self.store = store
        self.clock = clock
        self.anchor = (clock.now(), clock.monotonicNow())
        self.logger = logger
        self.tracing = RouterTracing.resolve(tracer)
        switch configuration.persistence.acknowledgement {
        case .automatic: self.acknowledgesCommitted = store.persistsAcrossRestarts
        case .committed: self.acknowledgesCommitted = true
        case .buffered: self.acknowledgesCommitted = false
        }
        // Fleet budgets count spend once it is in the store: a settle must return only then.
        if configuration.fleet != nil, !acknowledgesCommitted {
            throw RouterError(.invalidArgument, "fleet budgets need committed acknowledgement (persistence.acknowledgement = .committed, the default on persistent stores)")
        }
        var persistence = configuration.persistence
        // Callers wait for the commit in committed mode: no gathering pause, group commit instead.
        if acknowledgesCommitted { persistence.gatherDelay = .zero }
        self.writer = StoreWriter(store: store, settings: persistence, watchesCommits: acknowledgesCommitted, clock: clock, logger: logger, metrics: metrics, tracing: tracing)
        writer.observeHealth { [weak self] health in
            guard let self else { return }
            Task { await self.storeHealthChanged(health) }
        }
    }

    /// The catalog in use, without a hop onto the actor (a snapshot taken after every change).
    package nonisolated var currentCatalog: ModelCatalog { catalogSnapshot.withLock { $0 } }

    /// Publishes the engine's catalog after a change.
    func catalogChanged() {
        let catalog = engine.catalog
        catalogSnapshot.withLock { $0 = catalog }
    }

    deinit {
        // A router nobody ran as a service and nobody shut down: its writer writes what is
        // buffered and ends, so dropping the router leaks no task.
        writer.abandon()
    }

    /// The engine's time: rate windows, cooldowns, breakers and lease TTLs run on it. It is the
    /// wall time at start plus monotonic time since; the wall time, which budget periods and
    /// every stored timestamp use, is handed to the engine beside it.
    func engineNow() -> Timestamp {
        engine.wallNow = clock.now()
        return anchor.wall + (clock.monotonicNow() - anchor.monotonic)
    }

    // MARK: Routing

    /// Chooses a key for `request` and reserves its worst-case cost and limits.
    ///
    /// `logger`, if given, gets this call's log lines (with its metadata, such as a request id)
    /// instead of the router's logger: the decision at `trace`, a refusal at `debug`.
    ///
    /// - Returns: A ``Lease``; settle it with ``settle(_:usage:logger:)`` or release it with
    ///   ``release(_:failure:usage:logger:)`` exactly once.
    /// With ``RouterConfiguration/fleet`` set, a request the instance's slices of a shared hard
    /// budget cannot cover first takes a new slice from the store (one or two round trips), and a
    /// key whose fleet-wide rate limit (``FleetRateLimits``) has no grant left first takes one;
    /// every other decision stays local.
    ///
    /// - Throws: ``RouterError`` — `noEligibleKey` (with an ``IneligibilityReport``),
    ///   `budgetExceeded`, `unknownModel`, `invalidArgument`, `shutDown`.
    public func route(_ request: RouteRequest, logger: Logger? = nil) async throws -> Lease {
        // Without fleet budgets a decision never suspends: no async call on the hot path.
        guard fleet != nil else { return try tracedLease(for: request, logger: logger) }
        return try await lease(for: request, logger: logger)
    }

    /// One decision inside a `routersdk.route` span when tracing is on.
    func tracedLease(for request: RouteRequest, logger callLogger: Logger? = nil) throws(RouterError) -> Lease {
        guard let tracing else { return try decide(request, callLogger) }
        let span = tracing.start("routersdk.route")
        defer { span.end() }
        span.attributes["routersdk.models"] = request.models.joined(separator: ",")
        do {
            let lease = try decide(request, callLogger)
            span.attributes["routersdk.key"] = lease.keyID.rawValue
            span.attributes["routersdk.model"] = lease.model.description
            span.attributes["routersdk.reserved_nanodollars"] = Int(lease.reservedCost.nanodollars)
            return lease
        } catch {
            span.attributes["routersdk.error"] = error.code.description
            span.fail(error)
            throw error
        }
    }

    private func decide(_ request: RouteRequest, _ callLogger: Logger?) throws(RouterError) -> Lease {
        guard !isShutDown else { throw RouterError(.shutDown, "the router has been shut down") }
        let started = ContinuousClock.now
        do {
            let lease = try engine.route(request, now: engineNow())
            metrics.decisions.increment()
            metrics.decisionDuration.recordNanoseconds((ContinuousClock.now - started).wholeNanoseconds)
            if !engine.effects.isEmpty { deferEffects() }
            // No Logger copy on the hot path: the router's own is read in place.
            if let callLogger {
                if callLogger.logLevel <= .trace { logRouted(lease, to: callLogger) }
            } else if logger.logLevel <= .trace {
                logRouted(lease, to: logger)
            }
            return lease
        } catch {
            metrics.decisionFailures.increment()
            if !engine.effects.isEmpty { deferEffects() }
            if let callLogger, callLogger.logLevel <= .debug {
                callLogger.debug("no key for the request", metadata: ["error": "\(error.code)", "message": "\(error.message)"])
            }
            throw error
        }
    }

    private func logRouted(_ lease: Lease, to logger: Logger) {
        logger.trace("routed", metadata: ["lease": "\(lease.id)", "key": "\(lease.keyID)", "model": "\(lease.model)"])
    }

    /// Charges the lease's real cost, returns the rest of its reservation and records success.
    ///
    /// Durability: with committed acknowledgements (the default on stores that outlive the
    /// process) it returns once the usage event and its spend are committed in the store, so a
    /// crash right after loses nothing; while the store is failing or a write runs past
    /// ``RouterConfiguration/Persistence/commitWaitTimeout`` it returns with the record buffered
    /// (see ``storeHealth``). With buffered acknowledgements it returns once the record is buffered.
    ///
    /// The lease is consumed even when this throws `invalidArgument`: usage that is negative or
    /// above ``Usage/maximumTokens`` is refused and the lease settled at its reserved cost.
    ///
    /// `logger`, if given, gets a `debug` line with the cost and tokens charged.
    ///
    /// - Returns: The ``UsageEvent`` written to the ledger.
    /// - Throws: `leaseNotActive` if the lease was already settled or released; `invalidArgument`
    ///   for impossible token counts.
    @discardableResult
    public func settle(_ lease: Lease, usage: Usage, logger callLogger: Logger? = nil) async throws -> UsageEvent {
        let span = tracing?.start("routersdk.settle")
        defer { span?.end() }
        span?.attributes["routersdk.lease"] = Int(truncatingIfNeeded: lease.id)
        let event: UsageEvent
        do {
            event = try engine.settle(leaseID: lease.id, usage: usage, now: engineNow())
        } catch {
            span?.fail(error)
            await persist(leaseEnded(), waitingForCommit: error.code == .invalidArgument)
            throw error
        }
        span?.attributes["routersdk.cost_nanodollars"] = Int(event.cost.nanodollars)
        span?.attributes["routersdk.input_tokens"] = event.inputTokens
        span?.attributes["routersdk.output_tokens"] = event.outputTokens
        if let callLogger, callLogger.logLevel <= .debug {
            callLogger.debug("settled", metadata: [
                "lease": "\(lease.id)", "key": "\(event.keyID)", "model": "\(event.model)", "cost": "\(event.cost)",
                "inputTokens": "\(event.inputTokens)", "outputTokens": "\(event.outputTokens)",
            ])
        }
        metrics.settled.increment()
        metrics.cost.increment(by: event.cost.nanodollars)
        let offer = leaseEnded()
        if acknowledgesCommitted || offer.needsEnqueue { await persist(offer, waitingForCommit: true) }
        return event
    }

    /// Returns the lease's reservation after a failed call and applies `failure` to its key:
    /// a rate limit throttles it (never shortening an existing cooldown), quota exhaustion
    /// exhausts it, an auth failure makes it invalid, server errors and timeouts count toward
    /// its circuit breaker. `usage`, if given, is charged (tokens a failed stream consumed).
    ///
    /// `logger`, if given, gets a `debug` line with the failure and the cost charged.
    ///
    /// - Throws: `leaseNotActive` if the lease was already settled or released.
    @discardableResult
    public func release(_ lease: Lease, failure: ProviderFailure, usage: Usage? = nil, logger callLogger: Logger? = nil) async throws -> UsageEvent {
        let span = tracing?.start("routersdk.release")
        defer { span?.end() }
        span?.attributes["routersdk.lease"] = Int(truncatingIfNeeded: lease.id)
        span?.attributes["routersdk.failure"] = failure.label
        let event: UsageEvent
        do {
            event = try engine.release(leaseID: lease.id, failure: failure, usage: usage, now: engineNow())
        } catch {
            span?.fail(error)
            await persist(leaseEnded(), waitingForCommit: error.code == .invalidArgument)
            throw error
        }
        if let callLogger, callLogger.logLevel <= .debug {
            callLogger.debug("released", metadata: ["lease": "\(lease.id)", "key": "\(event.keyID)", "failure": "\(failure)", "cost": "\(event.cost)"])
        }
        metrics.failed[failure.label]?.increment()
        metrics.cost.increment(by: event.cost.nanodollars)
        let offer = leaseEnded()
        if acknowledgesCommitted || offer.needsEnqueue { await persist(offer, waitingForCommit: true) }
        return event
    }

    /// After a settle or release (or one that threw having consumed its lease): wakes a shutdown
    /// waiting for leases to drain and offers the records to the writer — synchronously, so the
    /// buffered fast path adds no async frame to a request.
    private func leaseEnded() -> StoreWriter.Offer {
        if !drainWaiters.isEmpty, engine.leases.isEmpty {
            let waiters = drainWaiters
            drainWaiters.removeAll()
            waiters.forEach { $0.resume() }
        }
        return writer.offer(takeRecords())
    }

    /// The records deferred so far and those of the engine's pending effects, in order.
    private func takeRecords() -> [StoreWriter.Record] {
        guard !engine.effects.isEmpty || !pendingRecords.isEmpty else { return [] }
        var records = pendingRecords
        pendingRecords.removeAll()
        records.append(contentsOf: dispatchEffects())
        return records
    }

    /// Finishes what ``leaseEnded()`` started: waits for room in a full buffer (bounded), and in
    /// committed mode for the commit (bounded by the store's health and `commitWaitTimeout`).
    private func persist(_ offer: StoreWriter.Offer, waitingForCommit: Bool) async {
        let sequence: Int?
        switch offer {
        case .accepted(let accepted): sequence = accepted
        case .full(let records): sequence = await writer.enqueue(records)
        case .empty, .closed: sequence = nil
        }
        if let sequence, waitingForCommit, acknowledgesCommitted { await writer.waitUntilWritten(sequence) }
    }

    /// Applies what a provider's rate-limit headers say about a key: when they report no
    /// requests or tokens left, the key is throttled until the reported reset (never shortening
    /// a cooldown), so the next request goes to another key instead of earning a 429.
    /// `ChatClient` calls it after every response.
    ///
    /// - Throws: `unknownKey`.
    public func observe(_ limits: ProviderRateLimits, for keyID: KeyID) async throws {
        guard let wait = limits.exhaustedFor else { return }
        try engine.throttleForProviderLimits(keyID: keyID, for: wait, now: engineNow())
        await dispatchEffectsAndWrite()
    }

    // MARK: Events

    /// A stream of ``RouterEvent``s from now on. Each call returns an independent stream; it keeps
    /// the newest 4,096 undelivered events if its consumer falls behind.
    public func events() -> AsyncStream<RouterEvent> {
        let (stream, continuation) = AsyncStream<RouterEvent>.makeStream(bufferingPolicy: .bufferingNewest(4096))
        let id = nextSubscriber
        nextSubscriber += 1
        subscribers[id] = continuation
        continuation.onTermination = { [weak self] _ in
            guard let self else { return }
            Task { await self.unsubscribe(id) }
        }
        return stream
    }

    private func unsubscribe(_ id: Int) {
        subscribers[id] = nil
    }

    func emit(_ event: RouterEvent) {
        for continuation in subscribers.values { continuation.yield(event) }
    }

    /// Delivers the engine's pending effects: events, logs, metrics; store records are returned.
    @discardableResult
    func dispatchEffects() -> [StoreWriter.Record] {
        var records: [StoreWriter.Record] = []
        records.reserveCapacity(engine.effects.count)
        // Ping-pong between two buffers so neither is reallocated on the settle path.
        swap(&engine.effects, &spareEffects)
        defer { spareEffects.removeAll(keepingCapacity: true) }
        for effect in spareEffects {
            switch effect {
            case .transition(let transition):
                // A state followed from another instance is in the store already, as that one wrote it.
                if transition.reason != .fleetSync { records.append(.transition(transition)) }
                metrics.transitions.increment()
                countState(from: transition.from, to: transition.reason == .removed ? nil : transition.to)
                logger.notice("key state changed", metadata: [
                    "key": "\(transition.keyID)", "from": "\(transition.from.name)", "to": "\(transition.to.name)",
                    "reason": "\(transition.reason)",
                ])
                emit(.keyStateChanged(transition))
            case .event(let event):
                if let alert = event.budgetAlert {
                    metrics.budgetAlerts.increment()
                    logger.warning("budget alert", metadata: [
                        "budget": "\(alert.budgetID)", "percent": "\(alert.percent)", "spent": "\(alert.spent)", "limit": "\(alert.limit)",
                    ])
                } else if let overrun = event.overrun {
                    metrics.budgetOverruns.increment()
                    metrics.budgetAlerts.increment()
                    metrics.budgetOverrunAmount.increment(by: max(0, (overrun.charged - overrun.reserved).nanodollars))
                    logger.warning("usage above its reservation took a hard budget past its limit", metadata: [
                        "budget": "\(overrun.budgetID)", "lease": "\(overrun.leaseID)", "reserved": "\(overrun.reserved)",
                        "charged": "\(overrun.charged)", "spent": "\(overrun.spent)", "limit": "\(overrun.limit)",
                    ])
                } else if let expiry = event.leaseExpiry {
                    metrics.leasesExpired.increment()
                    logger.warning("lease expired without settle or release; reservation returned", metadata: [
                        "lease": "\(expiry.leaseID)", "key": "\(expiry.keyID)", "model": "\(expiry.model)", "reserved": "\(expiry.reservedCost)",
                    ])
                } else if event.kind == .circuitOpened, let key = event.keyID, let until = event.at {
                    logger.warning("circuit breaker opened", metadata: ["key": "\(key)", "until": "\(until)"])
                } else if event.kind == .exhaustionPredicted, let key = event.keyID, let at = event.at {
                    logger.notice("key predicted to exhaust its daily requests", metadata: ["key": "\(key)", "at": "\(at)"])
                }
                emit(event)
            case .usage(let event):
                records.append(.usage(event))
            case .sample(let sample):
                records.append(.decision(sample))
            case .spend(let delta):
                records.append(.spend(delta))
            }
        }
        return records
    }

    /// Dispatches effects now and keeps their store records for the next asynchronous call.
    func deferEffects() {
        pendingRecords.append(contentsOf: dispatchEffects())
    }

    /// Hands pending records to the writer (waiting, bounded, for room); returns the sequence of
    /// the last one, if any was taken.
    @discardableResult
    private func dispatchEffectsAndWrite() async -> Int? {
        let records = takeRecords()
        guard !records.isEmpty else { return nil }
        return await writer.enqueue(records)
    }

    private func countState(from: KeyState?, to: KeyState?) {
        if let from {
            stateCounts[from.name, default: 0] -= 1
            metrics.keysByState[from.name]?.record(stateCounts[from.name, default: 0])
        }
        if let to {
            stateCounts[to.name, default: 0] += 1
            metrics.keysByState[to.name]?.record(stateCounts[to.name, default: 0])
        }
    }

    // MARK: Lifecycle

    /// Waits until every usage event, transition and sample produced so far is in the store.
    public func flush() async {
        await dispatchEffectsAndWrite()
        await writer.flush()
    }

    /// How writes to the state store are going: available or not since when, records buffered
    /// and records dropped. Serve it on a readiness probe; ``RouterEvent/Kind/storeUnavailable``
    /// and ``RouterEvent/Kind/storeRecovered`` announce the changes.
    public nonisolated var storeHealth: StoreHealth { writer.health }

    private func storeHealthChanged(_ health: StoreHealth) {
        if health.isAvailable {
            logger.notice("state store recovered", metadata: ["buffered": "\(health.bufferedRecords)"])
            emit(.storeRecovered(health))
        } else {
            logger.error("state store unavailable; routing goes on from memory and writes are buffered", metadata: [
                "buffered": "\(health.bufferedRecords)", "error": "\(health.lastError ?? "")",
            ])
            emit(.storeUnavailable(health))
        }
    }

    /// Stops routing, waits for the leases in flight, writes everything buffered to the store
    /// and closes the event streams.
    ///
    /// 1. New routes fail with `shutDown` from the moment it is called.
    /// 2. It waits up to ``RouterConfiguration/drainTimeout`` (on the router's clock) for every
    ///    outstanding lease to be settled or released; their records are written like any other.
    /// 3. It writes every buffered record; a store that keeps failing is given up on after a few
    ///    more attempts.
    ///
    /// The store stays open: whoever opened it closes it (``StateStore/close()``).
    ///
    /// - Throws: `storeFailure` if some records could not be written (the count is in the
    ///   message), or if leases were still outstanding after the drain timeout (their ids are
    ///   in the message; settling them later still works but is not written). Calling it twice
    ///   is harmless.
    public func shutdown() async throws {
        guard !isShutDown else { return }
        isShutDown = true
        keySync?.cancel()
        keySync = nil
        await drainLeases()
        let outstanding = engine.leases.keys.sorted()
        await dispatchEffectsAndWrite()
        let lost = await writer.finish()
        // After the writer: every settle this instance made is in its spend counter.
        await returnUnusedFleetSlices()
        await returnUnusedFleetPermits()
        for continuation in subscribers.values { continuation.finish() }
        subscribers.removeAll()
        if lost > 0 {
            throw RouterError(.storeFailure, "\(lost) record(s) could not be written to the state store")
        }
        if !outstanding.isEmpty {
            let shown = outstanding.prefix(10).map(String.init).joined(separator: ", ")
            throw RouterError(.storeFailure, "\(outstanding.count) lease(s) were still outstanding after the drain timeout: \(shown)")
        }
    }

    /// Waits until no lease is outstanding, or until the drain timeout passes on the router's clock.
    private func drainLeases() async {
        // A cancelled shutdown (the service group's hard stop) does not wait for leases.
        guard !engine.leases.isEmpty, !Task.isCancelled else { return }
        let clock = self.clock
        let deadline = clock.now() + engine.configuration.drainTimeout
        let timer = Task { [weak self] in
            try? await clock.sleep(until: deadline)
            await self?.endDrain()
        }
        await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
            drainWaiters.append(continuation)
        }
        timer.cancel()
    }

    private func endDrain() {
        let waiters = drainWaiters
        drainWaiters.removeAll()
        waiters.forEach { $0.resume() }
    }

    /// Waits until no other management change of key `id` is in progress, then marks one.
    func lockKey(_ id: KeyID) async { await lock(.key(id)) }

    /// Ends the change of key `id` and lets the next waiting one in.
    func unlockKey(_ id: KeyID) { unlock(.key(id)) }

    /// Waits until no other management change of `record` is in progress, then marks one.
    func lock(_ record: ManagedRecord) async {
        while busyRecords[record] != nil {
            await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
                busyRecords[record]!.append(continuation)
            }
        }
        busyRecords[record] = []
    }

    /// Ends the change of `record` and lets the next waiting one in.
    func unlock(_ record: ManagedRecord) {
        let waiters = busyRecords.removeValue(forKey: record) ?? []
        waiters.forEach { $0.resume() }
    }

    func checkOpen() throws(RouterError) {
        guard !isShutDown else { throw RouterError(.shutDown, "the router has been shut down") }
    }

    func recordRegistered(_ state: KeyState) {
        countState(from: nil, to: state)
    }

    func recordRemoved(_ state: KeyState) {
        countState(from: state, to: nil)
    }

    /// Flushes pending effects after a management call.
    func afterManagement() async {
        await dispatchEffectsAndWrite()
        startKeySync()
    }
}

/// A record whose management changes a router serialises (``LLMRouter/lock(_:)``).
enum ManagedRecord: Hashable {
    case key(KeyID)
    case budget(BudgetID)
}
