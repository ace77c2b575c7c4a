internal import CoreMetrics
internal import Logging
extension Router {
    /// Registers a key: validates it, seals its secret into the store, and makes it routable.
    ///
    /// - Throws: `duplicateKeyID` (here or already in the store), `invalidArgument` (empty id or
    ///   secret, bad weight), `invalidLimits`, `unknownModel` (a listed model the catalog lacks),
    ///   `storeFailure`.
    public func register(_ key: APIKey) async throws(RouterError) {
        try checkOpen()
        try engine.checkRegistrable(key)
        let stored = StoredKey(
            id: key.id, settings: key.settings, sealedSecret: try sealer.seal(key.secret), state: .available,
            version: 1, updatedAt: clock.now())
        do {
            try await store.saveKey(stored, expectedVersion: nil)
        } catch let error as RouterError where error.code == .versionConflict {
            throw RouterError(.duplicateKeyID, "a key with id '\(key.id)' already exists in the state store; call restore() to load it", keyID: key.id)
        } catch {
            throw Self.storeError(error, "saving key '\(key.id)'", keyID: key.id)
        }
        try engine.register(key, now: clock.now())
        recordRegistered(.available)
        logger.debug("key registered", metadata: ["key": "\(key.id)", "provider": "\(key.settings.provider)"])
        await afterManagement()
    }

    /// Replaces a key's settings (provider, models, weight, priority, tags, limits).
    public func update(_ id: KeyID, settings: KeySettings) async throws(RouterError) {
        try checkOpen()
        try engine.update(id, settings: settings, now: clock.now())
        try await persist(id)
        await afterManagement()
    }

    /// Replaces a key's secret, keeping its id; an `invalid` key becomes `available`.
    public func rotate(_ id: KeyID, to secret: Secret) async throws(RouterError) {
        try checkOpen()
        try engine.rotate(id, secret: secret, now: clock.now())
        try await persist(id)
        logger.info("key secret rotated", metadata: ["key": "\(id)"])
        await afterManagement()
    }

    /// Disables a key with an operator's reason; it is not chosen until ``enable(_:)``.
    public func disable(_ id: KeyID, reason: String) async throws(RouterError) {
        try checkOpen()
        try engine.disable(id, reason: reason, now: clock.now())
        try await persist(id)
        await afterManagement()
    }

    /// Enables a key (also lifts a throttle or exhaustion early).
    ///
    /// - Throws: `invalidTransition` for an `invalid` key (rotate its secret instead).
    public func enable(_ id: KeyID) async throws(RouterError) {
        try checkOpen()
        try engine.enable(id, now: clock.now())
        try await persist(id)
        await afterManagement()
    }

    /// Removes a key from the router and the store. Outstanding leases may still be settled.
    public func remove(_ id: KeyID) async throws(RouterError) {
        try checkOpen()
        _ = try engine.remove(id, now: clock.now())
        do {
            try await store.deleteKey(id)
        } catch let error as RouterError where error.code == .unknownKey {
            // Already gone from the store: the outcome the caller asked for.
        } catch {
            throw Self.storeError(error, "deleting key '\(id)'", keyID: id)
        }
        await afterManagement()
    }

    /// A key's current state. Throws `unknownKey`.
    public func state(of id: KeyID) throws(RouterError) -> KeyState {
        engine.wakeDueKeys(now: clock.now())
        defer { deferEffects() }
        return engine.keys[Int(try engine.slot(of: id))].state
    }

    /// A forward-looking view of a key's remaining capacity. Throws `unknownKey`.
    public func quota(of id: KeyID) throws(RouterError) -> KeyQuota {
        defer { deferEffects() }
        return try engine.quota(id, now: clock.now())
    }

    /// The ids of all registered keys, sorted.
    public var keyIDs: [KeyID] { engine.registeredKeyIDs }

    /// Loads keys (opening their sealed secrets) with their latest state, budgets and their
    /// current-period spend from the store into this router.
    ///
    /// Keys already registered here are skipped. Throws `secretUnsealFailed` (naming the key) if
    /// a secret was sealed under a master key this router does not have, `storeFailure` if the
    /// store cannot be read.
    public func restore() async throws(RouterError) {
        try checkOpen()
        let keys: [StoredKey]
        let budgets: [Budget]
        do {
            keys = try await store.loadKeys()
            budgets = try await store.loadBudgets()
        } catch {
            throw Self.storeError(error, "loading keys and budgets")
        }
        for budget in budgets {
            try engine.setBudget(budget, now: clock.now())
            // The current period's spend carries over from the store's counters.
            if let periodStart = engine.currentPeriodStart(budget.id, now: clock.now()) {
                do {
                    let spent = try await store.spend(of: budget.id, periodStart: periodStart)
                    engine.restoreSpend(budget.id, spent: spent, now: clock.now())
                } catch {
                    throw Self.storeError(error, "reading the spend of budget '\(budget.id)'")
                }
            }
        }
        for stored in keys where engine.slotByID[stored.id] == nil {
            let secret = try sealer.open(stored.sealedSecret, keyID: stored.id)
            // Failure-driven transitions (throttled, exhausted, invalid) are in the audit log, not
            // the key record: the newer of the two is the key's state, so cooldowns stay in force.
            var state = stored.state
            do {
                if let latest = try await store.transitions(of: stored.id, limit: 1).first, latest.at >= stored.updatedAt {
                    state = latest.to
                }
            } catch {
                throw Self.storeError(error, "reading the transitions of key '\(stored.id)'", keyID: stored.id)
            }
            if case .disabled(let reason) = state, reason == "removed" { continue }
            try engine.register(APIKey(id: stored.id, secret: secret, settings: stored.settings), state: state, version: stored.version, now: clock.now())
            recordRegistered(state)
        }
        logger.info("restored from state store", metadata: ["keys": "\(keys.count)", "budgets": "\(budgets.count)"])
        await afterManagement()
    }

    /// Writes a key's current settings, sealed secret and state with a version check.
    private func persist(_ id: KeyID) async throws(RouterError) {
        guard let slot = engine.slotByID[id] else { return }
        let record = engine.keys[Int(slot)]
        let stored = StoredKey(
            id: id, settings: record.settings, sealedSecret: try sealer.seal(record.secret), state: record.state,
            version: record.version, updatedAt: clock.now())
        do {
            try await store.saveKey(stored, expectedVersion: record.version - 1)
        } catch {
            throw Self.storeError(error, "saving key '\(id)'", keyID: id)
        }
    }

    /// Wraps a store error as `storeFailure`, keeping typed router errors as they are.
    static func storeError(_ error: any Error, _ action: String, keyID: KeyID? = nil) -> RouterError {
        if let error = error as? RouterError { return error }
        return RouterError(.storeFailure, "state store failed while \(action): \(error)", keyID: keyID)
    }
}
