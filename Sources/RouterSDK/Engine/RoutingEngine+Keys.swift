extension RoutingEngine {
    /// Models a key serves: its listed ones, or every catalog model of its provider.
    private func models(for id: KeyID, _ settings: KeySettings) throws(RouterError) -> [ModelRef] {
        if settings.models.isEmpty { return catalog.models(of: settings.provider).map(\.ref) }
        var refs: [ModelRef] = []
        for name in settings.models.sorted() {
            let ref = ModelRef(provider: settings.provider, name: name)
            guard catalog.models[ref] != nil else {
                throw RouterError(.unknownModel, "key '\(id)' lists model '\(name)', which the catalog has no entry for at provider '\(settings.provider)'", keyID: id, model: name)
            }
            refs.append(ref)
        }
        return refs
    }

    private func validateSecret(_ secret: Secret, id: KeyID, provider: ProviderID) throws(RouterError) {
        let needsKey = catalog.providers[provider]?.requiresKey ?? true
        if needsKey, secret.isEmpty {
            throw RouterError(.invalidArgument, "key '\(id)' has an empty secret", keyID: id)
        }
    }

    func slot(of id: KeyID) throws(RouterError) -> Int32 {
        guard let slot = slotByID[id] else { throw RouterError(.unknownKey, "no key with id '\(id)' is registered", keyID: id) }
        return slot
    }

    /// Checks a key could be registered (id, duplicates, settings, secret, models) without
    /// registering it, and returns the models it would serve.
    @discardableResult
    func checkRegistrable(_ key: APIKey) throws(RouterError) -> [ModelRef] {
        guard !key.id.rawValue.isEmpty else { throw RouterError(.invalidArgument, "a key needs a non-empty id") }
        guard slotByID[key.id] == nil else {
            throw RouterError(.duplicateKeyID, "a key with id '\(key.id)' is already registered", keyID: key.id)
        }
        try key.settings.validate(keyID: key.id)
        try validateSecret(key.secret, id: key.id, provider: key.settings.provider)
        return try models(for: key.id, key.settings)
    }

    /// The settings and secret a registered key has (`nil`: no such key).
    func definition(of id: KeyID) -> (settings: KeySettings, secret: Secret)? {
        guard let slot = slotByID[id] else { return nil }
        return (keys[Int(slot)].settings, keys[Int(slot)].secret)
    }

    /// Registers a key; `state` and `version` let a store restore a key as it was.
    func register(_ key: APIKey, state: KeyState = .available, version: Int64 = 1, now: Timestamp) throws(RouterError) {
        let refs = try checkRegistrable(key)
        let slot: Int32
        let generation: UInt32
        if let free = freeSlots.popLast() {
            slot = free
            generation = keys[Int(free)].generation &+ 1
            keys[Int(free)] = KeyRecord(id: key.id, secret: key.secret, settings: key.settings, state: state, version: version, generation: generation)
        } else {
            slot = Int32(keys.count)
            keys.append(KeyRecord(id: key.id, secret: key.secret, settings: key.settings, state: state, version: version, generation: 0))
        }
        slotByID[key.id] = slot
        keys[Int(slot)].stateChangedAt = wallNow
        keys[Int(slot)].budgetAccounts = budgets.byKey[key.id] ?? []
        if sharesRateLimits { keys[Int(slot)].fleetPermits = FleetPermits(key.settings.limits, keeping: nil) }
        for ref in refs { join(slot: slot, model: ref) }
        refresh(slot: slot, nowMs: now.millisecondsSinceEpoch)
    }

    /// Replaces a key's settings, re-indexing it if its provider or models changed.
    /// Throws what ``update(_:settings:now:)`` would, without changing anything.
    @discardableResult
    func checkUpdate(_ id: KeyID, settings: KeySettings) throws(RouterError) -> [ModelRef] {
        let slot = try slot(of: id)
        try settings.validate(keyID: id)
        try validateSecret(keys[Int(slot)].secret, id: id, provider: settings.provider)
        return try models(for: id, settings)
    }

    /// Throws what ``rotate(_:secret:now:)`` would, without changing anything.
    func checkRotate(_ id: KeyID, secret: Secret) throws(RouterError) {
        let slot = try slot(of: id)
        try validateSecret(secret, id: id, provider: keys[Int(slot)].settings.provider)
    }

    /// Throws what ``enable(_:now:)`` would, without changing anything.
    func checkEnable(_ id: KeyID) throws(RouterError) {
        let slot = try slot(of: id)
        if case .invalid = keys[Int(slot)].state {
            throw RouterError(.invalidTransition, "key '\(id)' is invalid (credential rejected); rotate its secret instead of enabling it", keyID: id)
        }
    }

    func update(_ id: KeyID, settings: KeySettings, now: Timestamp) throws(RouterError) {
        let slot = try slot(of: id)
        let refs = try checkUpdate(id, settings: settings)
        let old = keys[Int(slot)].settings
        keys[Int(slot)].settings = settings
        keys[Int(slot)].applyLimits()
        if sharesRateLimits { keys[Int(slot)].fleetPermits = FleetPermits(settings.limits, keeping: keys[Int(slot)].fleetPermits) }
        keys[Int(slot)].version += 1
        if old.provider != settings.provider || old.models != settings.models {
            leaveAllPools(slot: slot)
            for ref in refs { join(slot: slot, model: ref) }
        } else if old.weight != settings.weight {
            for membership in keys[Int(slot)].memberships {
                pools[Int(membership.pool)].reweight(membership.local, weight: Int64(settings.weight))
            }
        }
        rescore(slot: slot)
        refresh(slot: slot, nowMs: now.millisecondsSinceEpoch)
    }

    /// Replaces a key's secret; an `invalid` key becomes `available` again.
    func rotate(_ id: KeyID, secret: Secret, now: Timestamp) throws(RouterError) {
        let slot = try slot(of: id)
        try validateSecret(secret, id: id, provider: keys[Int(slot)].settings.provider)
        keys[Int(slot)].secret = secret
        keys[Int(slot)].version += 1
        keys[Int(slot)].consecutiveFailures = 0
        keys[Int(slot)].consecutiveRateLimits = 0
        if case .invalid = keys[Int(slot)].state {
            transition(slot: slot, to: .available, reason: .secretRotated, detail: nil, now: now)
        }
    }

    /// An operator turns a key off.
    func disable(_ id: KeyID, reason: String, now: Timestamp) throws(RouterError) {
        let slot = try slot(of: id)
        keys[Int(slot)].version += 1
        transition(slot: slot, to: .disabled(reason: reason), reason: .operatorDisabled, detail: reason, now: now)
    }

    /// An operator turns a key back on (also lifts a throttle or exhaustion early). An `invalid`
    /// key cannot be enabled: rotate its secret.
    func enable(_ id: KeyID, now: Timestamp) throws(RouterError) {
        try checkEnable(id)
        let slot = try slot(of: id)
        keys[Int(slot)].version += 1
        transition(slot: slot, to: .available, reason: .operatorEnabled, detail: nil, now: now)
    }

    /// Unregisters a key. Its outstanding leases still settle against budgets.
    func remove(_ id: KeyID, now: Timestamp) throws(RouterError) -> KeyState {
        let slot = try slot(of: id)
        let index = Int(slot)
        let state = keys[index].state
        leaveAllPools(slot: slot)
        keys[index].live = false
        keys[index].dispatchable = false
        keys[index].secret = Secret("")
        slotByID[id] = nil
        freeSlots.append(slot)
        resolvedNames.removeAll(keepingCapacity: true)
        // Audited as a transition to `disabled`; the key's row is deleted from the store, so a
        // restore never sees it again whatever the log says.
        effects.append(.transition(KeyTransition(keyID: id, from: state, to: .disabled(reason: "removed"), reason: .removed, detail: nil, at: wallNow)))
        return state
    }

    // MARK: Budgets

    /// Throws what ``setBudget(_:version:now:)`` would for `budget`, changing nothing.
    func checkBudget(_ budget: Budget) throws(RouterError) {
        try budget.validate()
        if case .model(let name) = budget.scope, catalog.resolve(name).isEmpty {
            throw RouterError(.unknownModel, "budget '\(budget.id)' names model '\(name)', which the catalog does not know", budgetID: budget.id, model: name)
        }
    }

    /// Adds or replaces a budget whose stored definition is at `version`.
    func setBudget(_ budget: Budget, version: Int64, now: Timestamp) throws(RouterError) {
        try checkBudget(budget)
        budgets.set(budget, version: version, nowMs: now.millisecondsSinceEpoch)
        reindexBudgets()
    }

    /// A budget's definition here and the store version it came from; `nil` if there is none.
    func budgetDefinition(_ id: BudgetID) -> (budget: Budget, version: Int64)? {
        guard let index = budgets.indexByID[id], let account = budgets[index] else { return nil }
        return (account.budget, account.version)
    }

    /// The current period start of a budget, as stores key spend counters.
    func currentPeriodStart(_ id: BudgetID, now: Timestamp) -> Timestamp? {
        guard let index = budgets.indexByID[id] else { return nil }
        budgets[index]!.roll(to: now.millisecondsSinceEpoch)
        return budgets[index]!.periodStart
    }

    /// Sets a budget's settled spend for its current period (restoring from a store).
    func restoreSpend(_ id: BudgetID, spent: Money, now: Timestamp) {
        guard let index = budgets.indexByID[id] else { return }
        budgets[index]!.roll(to: now.millisecondsSinceEpoch)
        // Never below what this process already charged: settles since the store was read (or
        // not yet written to it) must not be forgotten.
        let before = budgets[index]!.spent
        budgets[index]!.spent = max(before, spent)
        // A fleet budget's cap is this instance's spend plus its slices: spend restored from the
        // store was granted before (or outside) this instance's slices, so the cap moves with it.
        if budgets[index]!.fleetCap != nil { budgets[index]!.fleetCap! += budgets[index]!.spent - before }
        // Thresholds the restored spend already passed were alerted by the process that spent it.
        budgets[index]!.markPassedThresholds()
    }

    func removeBudget(_ id: BudgetID) throws(RouterError) {
        guard budgets.remove(id) else { throw RouterError(.unknownBudget, "no budget with id '\(id)'", budgetID: id) }
        reindexBudgets()
    }

    func budgetStatus(_ id: BudgetID, now: Timestamp) throws(RouterError) -> BudgetStatus {
        guard let index = budgets.indexByID[id] else { throw RouterError(.unknownBudget, "no budget with id '\(id)'", budgetID: id) }
        budgets[index]!.roll(to: now.millisecondsSinceEpoch)
        return budgets[index]!.status()
    }

    func allBudgetStatuses(now: Timestamp) -> [BudgetStatus] {
        budgets.indexByID.keys.sorted().compactMap { try? budgetStatus($0, now: now) }
    }

    /// Refreshes the per-pool and per-key budget lists after budgets change (management path, O(n)).
    private func reindexBudgets() {
        for index in pools.indices {
            let model = pools[index].model
            pools[index].budgetAccounts = (budgets.byProvider[model.provider] ?? []) + (budgets.byModel[model.name] ?? [])
        }
        for index in keys.indices where keys[index].live {
            keys[index].budgetAccounts = budgets.byKey[keys[index].id] ?? []
        }
    }

    // MARK: Views

    func quota(_ id: KeyID, now: Timestamp) throws(RouterError) -> KeyQuota {
        wakeDueKeys(now: now)
        let slot = try slot(of: id)
        let nowMs = now.millisecondsSinceEpoch
        let index = Int(slot)
        keys[index].requestsPerMinute?.advance(to: nowMs)
        keys[index].tokensPerMinute?.advance(to: nowMs)
        keys[index].requestsPerDay?.advance(to: nowMs)
        let key = keys[index]
        let windows = [key.requestsPerMinute, key.tokensPerMinute, key.requestsPerDay].compactMap { $0 }
        var fraction = 1_000_000 as Int64
        for window in windows {
            fraction = min(fraction, window.remaining * 1_000_000 / window.limit)
        }
        if let max = key.settings.limits.maxConcurrentRequests {
            fraction = min(fraction, Int64(max - key.inFlight) * 1_000_000 / Int64(max))
        }
        let capacity: KeyQuota.CapacityState
        switch key.state {
        case .available:
            if case .open = key.circuit {
                capacity = .exhausted
            } else if fraction <= 0 {
                capacity = .exhausted
            } else if case .halfOpen = key.circuit {
                capacity = .recovering
            } else if fraction > 500_000 {
                capacity = .abundant
            } else if fraction >= 200_000 {
                capacity = .constrained
            } else {
                capacity = .critical
            }
        case .throttled(let until), .exhausted(let until):
            capacity = until <= now ? .recovering : .exhausted
        case .disabled, .invalid:
            capacity = .exhausted
        }
        var quota = KeyQuota(
            keyID: id, state: key.state,
            remainingRequestsPerMinute: key.requestsPerMinute.map { Int($0.remaining) },
            remainingTokensPerMinute: key.tokensPerMinute.map { Int($0.remaining) },
            remainingRequestsPerDay: key.requestsPerDay.map { Int($0.remaining) },
            inFlight: key.inFlight, capacity: capacity, predictedExhaustion: predictedExhaustion(slot: slot, nowMs: nowMs),
            requests: key.requests, failures: key.failures, spend: key.spend,
            averageLatency: key.latencyEWMA > 0 ? .nanoseconds(key.latencyEWMA) : nil,
            successRatePPM: Int(key.successPPM))
        for membership in key.memberships {
            if let until = membership.coolingUntilMs, until > nowMs {
                quota.modelCooldowns[pools[Int(membership.pool)].model] = Timestamp(nanosecondsSinceEpoch: until * 1_000_000)
            }
        }
        return quota
    }

    var registeredKeyIDs: [KeyID] { slotByID.keys.sorted() }
}
