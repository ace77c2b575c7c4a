internal import DequeModule
internal import HeapModule

/// What the engine asks its owner (the ``LLMRouter`` actor) to do after a call: emit events, log,
/// and hand records to the store writer. The engine itself never does I/O.
enum EngineEffect {
    case transition(KeyTransition)
    case event(RouterEvent)
    case usage(UsageEvent)
    case sample(DecisionSample)
    case spend(SpendDelta)
}

/// An outstanding lease as the engine tracks it.
struct LeaseRecord {
    var id: UInt64
    var slot: Int32
    var keyGeneration: UInt32
    var keyID: KeyID
    var model: ModelRef
    var price: ModelPrice
    var reservedCost: Money
    var reservedTokens: Int
    var accounts: [Int32]
    var tags: Set<String>
    /// When the lease is reclaimed if neither settled nor released (wall milliseconds).
    var expiresAtMs: Int64
    /// The epoch of the fleet tokens-per-minute grant its tokens were reserved from, if any.
    var tokenPermitEpoch: UInt32?
}

/// A lease the engine reclaimed after its time-to-live: a late settle still charges what the
/// call really used (its reservation and slot were already returned).
struct ExpiredLease {
    var record: LeaseRecord
    var expiredAtMs: Int64
}

/// The synchronous heart of the router: keys, pools, limits, budgets and leases.
///
/// Owned and isolated by the ``LLMRouter`` actor, so it needs no locks; every method runs to
/// completion without suspension, which is what makes a decision one actor hop. Reference type so
/// the actor mutates it in place without exclusivity bookkeeping on a large struct.
final class RoutingEngine {
    var configuration: RouterConfiguration
    private(set) var catalog: ModelCatalog
    var keys: [KeyRecord] = []
    var freeSlots: [Int32] = []
    var slotByID: [KeyID: Int32] = [:]
    var pools: [KeyPool] = []
    var poolByModel: [ModelRef: Int32] = [:]
    /// Requested model name → pools, rebuilt lazily after keys or the catalog change.
    var resolvedNames: [String: [Int32]] = [:]
    var deadlines = Heap<WakeEntry>()
    var budgets = BudgetLedger()
    var leases: [UInt64: LeaseRecord] = [:]
    /// When the outstanding leases are next checked for expiry (engine milliseconds). They are
    /// checked at most once per ``leaseScanIntervalMs``, so the hot path pays one comparison and
    /// nothing is kept per settled lease.
    var nextLeaseScanMs: Int64 = .min
    /// Recently reclaimed leases (bounded), so a settle arriving after the TTL is still charged.
    var expiredLeases: [UInt64: ExpiredLease] = [:]
    var expiredOrder = Deque<UInt64>()
    static let expiredLeaseMemory = 4_096
    /// How often outstanding leases are checked: a lease is reclaimed within this long after its
    /// time-to-live (or the TTL itself, if shorter).
    var leaseScanIntervalMs: Int64 { min(1_000, max(1, configuration.leaseTimeToLive.wholeMillisecondsRoundedUp)) }
    /// Lease ids start at a random point of a 62-bit space, so ids from different router
    /// instances (processes, restarts) on one store do not collide in its ledger.
    var nextLeaseID: UInt64 = UInt64.random(in: 1 ... (1 << 62))
    var rng: SplitMix64
    var effects: [EngineEffect] = []
    /// The wall-clock time of the current call, set by the router: budget periods, ledger and
    /// transition timestamps use it. Every other `now` the engine gets is monotonic-derived.
    var wallNow = Timestamp(nanosecondsSinceEpoch: 0)
    var decisionCount = 0

    init(configuration: RouterConfiguration, catalog: ModelCatalog) {
        self.configuration = configuration
        self.catalog = catalog
        self.rng = SplitMix64(seed: configuration.randomSeed ?? UInt64.random(in: .min ... .max))
        leases.reserveCapacity(1024)
        effects.reserveCapacity(16)
    }

    // MARK: Catalog

    func setModel(_ info: ModelInfo) throws(RouterError) {
        try catalog.insert(info)
        if let pool = poolByModel[info.ref] {
            pools[Int(pool)].info = info
        } else {
            // Keys that serve every model of the provider join the new model's pool.
            for slot in keys.indices where keys[slot].live && keys[slot].settings.provider == info.ref.provider && keys[slot].settings.models.isEmpty {
                join(slot: Int32(slot), model: info.ref)
            }
        }
        resolvedNames.removeAll(keepingCapacity: true)
    }

    func setProvider(_ provider: ProviderInfo) {
        catalog.setProvider(provider)
    }

    // MARK: Pools

    func pool(for model: ModelRef) -> Int32 {
        if let index = poolByModel[model] { return index }
        let index = Int32(pools.count)
        var pool = KeyPool(info: catalog.models[model]!)
        pool.budgetAccounts = (budgets.byProvider[model.provider] ?? []) + (budgets.byModel[model.name] ?? [])
        pools.append(pool)
        poolByModel[model] = index
        resolvedNames.removeAll(keepingCapacity: true)
        return index
    }

    func join(slot: Int32, model: ModelRef) {
        let poolIndex = pool(for: model)
        let local = pools[Int(poolIndex)].addMember(slot: slot)
        keys[Int(slot)].memberships.append(PoolMembership(pool: poolIndex, local: local))
        if keys[Int(slot)].dispatchable {
            let inputs = ScoreInputs(keys[Int(slot)])
            pools[Int(poolIndex)].makeAvailable(local, weight: inputs.weight) { inputs.score($0, local) }
        }
    }

    func leaveAllPools(slot: Int32) {
        for membership in keys[Int(slot)].memberships {
            pools[Int(membership.pool)].makeUnavailable(membership.local)
            pools[Int(membership.pool)].removeMember(local: membership.local)
        }
        keys[Int(slot)].memberships.removeAll()
    }

    /// Pools serving the requested names, in request order; throws for names the catalog lacks.
    func resolvePools(_ names: [String]) throws(RouterError) -> [Int32] {
        if names.count == 1, let cached = resolvedNames[names[0]] { return cached }
        var result: [Int32] = []
        for name in names {
            if let cached = resolvedNames[name] {
                result.append(contentsOf: cached)
                continue
            }
            let refs = catalog.resolve(name)
            guard !refs.isEmpty else {
                throw RouterError(.unknownModel, "model '\(name)' is not in the catalog; add it with setModel", model: name)
            }
            let found = refs.compactMap { poolByModel[$0] }
            resolvedNames[name] = found
            result.append(contentsOf: found)
        }
        return result
    }

    // MARK: Scores

    /// The figures scored strategies order by, copied out of a key record so closures do not
    /// retain the whole record.
    struct ScoreInputs {
        var latency: Int64
        var inFlight: Int64
        var successPPM: Int64
        var requests: Int64
        var priority: Int64
        var weight: Int64

        init(_ key: KeyRecord) {
            latency = key.latencyEWMA
            inFlight = Int64(key.inFlight)
            successPPM = key.successPPM
            requests = Int64(key.requests)
            priority = Int64(key.settings.priority)
            weight = Int64(key.settings.weight)
        }

        func score(_ strategy: RoutingStrategy, _ local: Int32) -> StrategyScore {
            switch strategy {
            case .latency: StrategyScore(primary: latency, secondary: inFlight, local: local)
            case .reliability: StrategyScore(primary: -successPPM, secondary: latency, local: local)
            case .leastUsed: StrategyScore(primary: inFlight, secondary: requests, local: local)
            case .priority: StrategyScore(primary: priority, secondary: requests, local: local)
            default: StrategyScore(primary: 0, secondary: 0, local: local)
            }
        }
    }

    func rescore(slot: Int32) {
        let index = Int(slot)
        guard keys[index].dispatchable else { return }
        let inputs = ScoreInputs(keys[index])
        for membership in keys[index].memberships {
            pools[Int(membership.pool)].rescore(membership.local) { inputs.score($0, membership.local) }
        }
    }

    // MARK: Availability

    /// Whether a key can take a request now, and if not, when to look again.
    func evaluate(slot: Int32, nowMs: Int64) -> (ok: Bool, wakeMs: Int64?) {
        let index = Int(slot)
        switch keys[index].state {
        case .available: break
        case .throttled(let until), .exhausted(let until): return (false, until.millisecondsSinceEpoch)
        case .disabled, .invalid: return (false, nil)
        }
        switch keys[index].circuit {
        case .closed, .halfOpen(probeInFlight: false): break
        case .open(let untilMs): return (false, untilMs)
        case .halfOpen(probeInFlight: true): return (false, nil)
        }
        if let max = keys[index].settings.limits.maxConcurrentRequests, keys[index].inFlight >= max { return (false, nil) }
        if keys[index].requestsPerMinute != nil {
            keys[index].requestsPerMinute!.advance(to: nowMs)
            if !keys[index].requestsPerMinute!.fits(1) { return (false, nowMs + keys[index].requestsPerMinute!.millisecondsUntilFits(1)) }
        }
        if keys[index].requestsPerDay != nil {
            keys[index].requestsPerDay!.advance(to: nowMs)
            if !keys[index].requestsPerDay!.fits(1) { return (false, nowMs + keys[index].requestsPerDay!.millisecondsUntilFits(1)) }
        }
        if keys[index].tokensPerMinute != nil {
            keys[index].tokensPerMinute!.advance(to: nowMs)
            if !keys[index].tokensPerMinute!.fits(1) { return (false, nowMs + keys[index].tokensPerMinute!.millisecondsUntilFits(1)) }
        }
        // Without a grant on its fleet-wide limits: out until the router gets one from the store.
        if let permits = keys[index].fleetPermits, !permits.admit(tokens: 1, nowMs: nowMs) { return (false, nil) }
        return (true, nil)
    }

    /// Re-evaluates a key and moves it in or out of its pools' available sets; schedules a wake-up
    /// in the deadline heap when it is out until a known time.
    func refresh(slot: Int32, nowMs: Int64) {
        let index = Int(slot)
        guard keys[index].live else { return }
        let (ok, wakeMs) = evaluate(slot: slot, nowMs: nowMs)
        var wake = ok ? nil : wakeMs
        if keys[index].hasModelCooldowns {
            wake = refreshMemberships(slot: slot, keyAvailable: ok, nowMs: nowMs, wake: wake)
        } else if ok != keys[index].dispatchable {
            keys[index].dispatchable = ok
            let inputs = ScoreInputs(keys[index])
            for membership in keys[index].memberships {
                if ok {
                    pools[Int(membership.pool)].makeAvailable(membership.local, weight: inputs.weight) {
                        inputs.score($0, membership.local)
                    }
                } else {
                    pools[Int(membership.pool)].makeUnavailable(membership.local)
                }
            }
        }
        if let wake, keys[index].scheduledWakeMs.map({ wake < $0 }) ?? true {
            keys[index].wakeGeneration &+= 1
            keys[index].scheduledWakeMs = wake
            deadlines.insert(WakeEntry(ms: wake, slot: slot, generation: keys[index].wakeGeneration, keyGeneration: keys[index].generation))
        }
    }

    /// The slow path of ``refresh(slot:nowMs:)`` for a key with per-model cooldowns: each
    /// membership is available when the key is and its model is not cooling; elapsed cooldowns
    /// are cleared. Returns the earliest wake-up (the key's, or a model cooldown's end).
    private func refreshMemberships(slot: Int32, keyAvailable: Bool, nowMs: Int64, wake: Int64?) -> Int64? {
        let index = Int(slot)
        var wake = wake
        var cooling = false
        let inputs = ScoreInputs(keys[index])
        for position in keys[index].memberships.indices {
            if let until = keys[index].memberships[position].coolingUntilMs {
                if until <= nowMs {
                    keys[index].memberships[position].coolingUntilMs = nil
                } else {
                    cooling = true
                    wake = min(wake ?? until, until)
                }
            }
            let membership = keys[index].memberships[position]
            let available = keyAvailable && membership.coolingUntilMs == nil
            let pool = Int(membership.pool)
            guard available != pools[pool].isAvailable(membership.local) else { continue }
            if available {
                pools[pool].makeAvailable(membership.local, weight: inputs.weight) { inputs.score($0, membership.local) }
            } else {
                pools[pool].makeUnavailable(membership.local)
            }
        }
        keys[index].dispatchable = keyAvailable
        keys[index].hasModelCooldowns = cooling
        return wake
    }

    /// Takes a key out for one model until `until` (a later cooldown wins), leaving its other
    /// models available.
    func coolDown(slot: Int32, model: ModelRef, until: Timestamp, now: Timestamp) {
        let index = Int(slot)
        guard let position = keys[index].memberships.firstIndex(where: { pools[Int($0.pool)].model == model }) else { return }
        let untilMs = until.millisecondsSinceEpoch
        if let current = keys[index].memberships[position].coolingUntilMs, current >= untilMs { return }
        keys[index].memberships[position].coolingUntilMs = untilMs
        keys[index].hasModelCooldowns = true
        effects.append(.event(.modelThrottled(keyID: keys[index].id, model: model, until: until)))
        refresh(slot: slot, nowMs: now.millisecondsSinceEpoch)
    }

    /// Until when a key is out for the model of `pool` alone (`nil`: it is not).
    func modelCooldown(slot: Int32, pool: Int32, nowMs: Int64) -> Int64? {
        let key = keys[Int(slot)]
        guard key.hasModelCooldowns else { return nil }
        for membership in key.memberships where membership.pool == pool {
            if let until = membership.coolingUntilMs, until > nowMs { return until }
        }
        return nil
    }

    /// Returns keys whose cooldown, breaker or window deadline has passed. O(k log n) for k due keys.
    func wakeDueKeys(now: Timestamp) {
        let nowMs = now.millisecondsSinceEpoch
        while let top = deadlines.min, top.ms <= nowMs {
            deadlines.removeMin()
            let index = Int(top.slot)
            guard index < keys.count, keys[index].live, keys[index].generation == top.keyGeneration,
                keys[index].wakeGeneration == top.generation
            else { continue }
            keys[index].scheduledWakeMs = nil
            if let until = keys[index].state.cooldownDeadline, until.millisecondsSinceEpoch <= nowMs {
                transition(slot: top.slot, to: .available, reason: .cooldownElapsed, detail: nil, now: now)
            }
            if case .open(let untilMs) = keys[index].circuit, untilMs <= nowMs {
                keys[index].circuit = .halfOpen(probeInFlight: false)
            }
            refresh(slot: top.slot, nowMs: nowMs)
        }
    }

    /// The earliest scheduled wake-up, for callers waiting on a cooldown.
    var earliestWake: Timestamp? {
        deadlines.min.map { Timestamp(nanosecondsSinceEpoch: $0.ms * 1_000_000) }
    }

    // MARK: Transitions

    func transition(slot: Int32, to newState: KeyState, reason: TransitionReason, detail: String?, now: Timestamp) {
        let index = Int(slot)
        let from = keys[index].state
        guard from != newState else { return }
        keys[index].state = newState
        keys[index].stateChangedAt = wallNow
        effects.append(.transition(KeyTransition(keyID: keys[index].id, from: from, to: newState, reason: reason, detail: detail, at: wallNow)))
        refresh(slot: slot, nowMs: now.millisecondsSinceEpoch)
    }
}
