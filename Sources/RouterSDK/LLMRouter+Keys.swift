internal import CoreMetrics
internal import Logging
extension LLMRouter {
    /// Registers a key: validates it, seals its secret into the store, and makes it routable.
    ///
    /// Idempotent for the same definition: registering a key whose id, settings and secret equal
    /// one already registered here, or already in the store (another replica registered it),
    /// succeeds and adopts the stored key with its state and version — so every replica of an
    /// app can start by registering the same keys. A *different* key under an existing id is
    /// refused.
    ///
    /// - Throws: `duplicateKeyID` (a different key has this id, here or in the store),
    ///   `invalidArgument` (empty id or secret, bad weight), `invalidLimits`, `unknownModel` (a
    ///   listed model the catalog lacks), `storeFailure`.
    public func register(_ key: APIKey) async throws {
        try checkOpen()
        // Serialised with key sync, which may adopt this key from the store meanwhile.
        await lockKey(key.id)
        defer { unlockKey(key.id) }
        if let existing = engine.definition(of: key.id) {
            guard existing.settings == key.settings, existing.secret == key.secret else {
                throw RouterError(.duplicateKeyID, "a different key with id '\(key.id)' is already registered", keyID: key.id)
            }
            return
        }
        try engine.checkRegistrable(key)
        let stored = StoredKey(
            id: key.id, settings: key.settings, sealedSecret: try sealer.seal(key.secret, keyID: key.id), state: .available,
            version: 1, updatedAt: clock.now())
        var adopted: StoredKey?
        do {
            try await store.saveKey(stored, expectedVersion: nil)
        } catch let error as RouterError where error.code == .versionConflict {
            adopted = try await storedTwin(of: key)
        } catch {
            throw Self.storeError(error, "saving key '\(key.id)'", keyID: key.id)
        }
        if let adopted {
            // Another replica registered the same key: take it as the store has it.
            var state = adopted.state
            if let transition = try? await store.transitions(of: key.id, limit: 1).first, transition.at >= adopted.updatedAt { state = transition.to }
            guard engine.definition(of: key.id) == nil else { return }  // registered here meanwhile
            try engine.register(key, state: state, version: adopted.version, now: engineNow())
            recordRegistered(state)
            logger.debug("key adopted from the state store", metadata: ["key": "\(key.id)"])
        } else {
            try engine.register(key, now: engineNow())
            recordRegistered(.available)
            logger.debug("key registered", metadata: ["key": "\(key.id)", "provider": "\(key.settings.provider)"])
        }
        await afterManagement()
    }

    /// The stored key with `key`'s id if it is the same key (settings and secret); throws
    /// `duplicateKeyID` if a different key has the id.
    private func storedTwin(of key: APIKey) async throws -> StoredKey {
        let stored: StoredKey?
        do {
            stored = try await store.loadKeys().first { $0.id == key.id }
        } catch {
            throw Self.storeError(error, "loading key '\(key.id)'", keyID: key.id)
        }
        guard let stored, stored.settings == key.settings, (try? sealer.open(stored.sealedSecret, keyID: key.id)) == key.secret else {
            throw RouterError(.duplicateKeyID, "a different key with id '\(key.id)' already exists in the state store; call restore() to load it, or remove it first", keyID: key.id)
        }
        return stored
    }

    /// Replaces a key's settings (provider, models, weight, priority, tags, limits).
    ///
    /// Persist, then apply: the store is written first (compare-and-set on the key's version); if
    /// that fails nothing changes here. Changes to one key are serialised.
    public func update(_ id: KeyID, settings: KeySettings) async throws {
        try await changeKey(id, check: { () throws(RouterError) in try engine.checkUpdate(id, settings: settings) }) { current in
            (settings, current.secret, current.state)
        } apply: { () throws(RouterError) in
            try engine.update(id, settings: settings, now: engineNow())
        }
    }

    /// Replaces a key's secret, keeping its id; an `invalid` key becomes `available`.
    /// Persisted before it takes effect, like ``update(_:settings:)``.
    public func rotate(_ id: KeyID, to secret: Secret) async throws {
        try await changeKey(id, check: { () throws(RouterError) in try engine.checkRotate(id, secret: secret) }) { current in
            (current.settings, secret, current.state == .invalid ? .available : current.state)
        } apply: { () throws(RouterError) in
            try engine.rotate(id, secret: secret, now: engineNow())
        }
        logger.info("key secret rotated", metadata: ["key": "\(id)"])
    }

    /// Disables a key with an operator's reason; it is not chosen until ``enable(_:)``.
    /// Persisted before it takes effect, like ``update(_:settings:)``.
    public func disable(_ id: KeyID, reason: String) async throws {
        try await changeKey(id, check: { () throws(RouterError) in _ = try engine.slot(of: id) }) { current in
            (current.settings, current.secret, .disabled(reason: reason))
        } apply: { () throws(RouterError) in
            try engine.disable(id, reason: reason, now: engineNow())
        }
    }

    /// Enables a key (also lifts a throttle or exhaustion early).
    /// Persisted before it takes effect, like ``update(_:settings:)``.
    ///
    /// - Throws: `invalidTransition` for an `invalid` key (rotate its secret instead).
    public func enable(_ id: KeyID) async throws {
        try await changeKey(id, check: { () throws(RouterError) in try engine.checkEnable(id) }) { current in
            (current.settings, current.secret, .available)
        } apply: { () throws(RouterError) in
            try engine.enable(id, now: engineNow())
        }
    }

    /// Removes a key from the store, then from the router. Outstanding leases may still be settled.
    public func remove(_ id: KeyID) async throws {
        try checkOpen()
        await lockKey(id)
        defer { unlockKey(id) }
        _ = try engine.slot(of: id)
        do {
            try await store.deleteKey(id)
        } catch let error as RouterError where error.code == .unknownKey {
            // Already gone from the store: the outcome the caller asked for.
        } catch {
            throw Self.storeError(error, "deleting key '\(id)'", keyID: id)
        }
        _ = try engine.remove(id, now: engineNow())
        await afterManagement()
    }

    /// Re-seals the secret of every key registered here under the current master key (bound to
    /// its key id), so an old master key can be retired: configure the new key as
    /// ``RouterConfiguration/masterKey`` and the old one in `previousMasterKeys`, `restore()`, call
    /// this, then drop the old key. Each key is written with a version check, like any change.
    ///
    /// - Returns: How many keys were re-sealed.
    @discardableResult
    public func resealSecrets() async throws -> Int {
        let ids = engine.registeredKeyIDs
        for id in ids {
            try await changeKey(id, check: { () throws(RouterError) in _ = try engine.slot(of: id) }) { current in
                (current.settings, current.secret, current.state)
            } apply: { () throws(RouterError) in
                engine.keys[Int(try engine.slot(of: id))].version += 1
            }
        }
        logger.notice("re-sealed key secrets under the current master key", metadata: ["keys": "\(ids.count)", "masterKey": "\(sealer.current.id)"])
        return ids.count
    }

    /// The one body of every key change: validate, write the new record to the store with a
    /// version check, and only then apply it to the engine — all under the key's lock.
    private func changeKey(
        _ id: KeyID,
        check: () throws(RouterError) -> Void,
        record: (KeyRecord) -> (KeySettings, Secret, KeyState),
        apply: () throws(RouterError) -> Void
    ) async throws(RouterError) {
        try checkOpen()
        await lockKey(id)
        defer { unlockKey(id) }
        try check()
        let current = engine.keys[Int(try engine.slot(of: id))]
        let (settings, secret, state) = record(current)
        let stored = StoredKey(
            id: id, settings: settings, sealedSecret: try sealer.seal(secret, keyID: id), state: state,
            version: current.version + 1, updatedAt: clock.now())
        do {
            try await store.saveKey(stored, expectedVersion: current.version)
        } catch {
            throw Self.storeError(error, "saving key '\(id)'", keyID: id)
        }
        try apply()
        await afterManagement()
    }

    /// A key's current state. Throws `unknownKey`.
    public func state(of id: KeyID) throws -> KeyState {
        engine.wakeDueKeys(now: engineNow())
        defer { deferEffects() }
        return engine.keys[Int(try engine.slot(of: id))].state
    }

    /// A key's settings: provider, models, weight, priority, tags and limits (never its
    /// secret). Throws `unknownKey`.
    public func settings(of id: KeyID) throws -> KeySettings {
        engine.keys[Int(try engine.slot(of: id))].settings
    }

    /// A forward-looking view of a key's remaining capacity. Throws `unknownKey`.
    public func quota(of id: KeyID) throws -> KeyQuota {
        defer { deferEffects() }
        return try engine.quota(id, now: engineNow())
    }

    /// The ids of all registered keys, sorted.
    public var keyIDs: [KeyID] { engine.registeredKeyIDs }

    /// Loads keys (opening their sealed secrets) with their latest state, budgets and their
    /// current-period spend from the store into this router.
    ///
    /// Keys already registered here are skipped. Throws `secretUnsealFailed` (naming the key) if
    /// a secret was sealed under a master key this router does not have, `storeFailure` if the
    /// store cannot be read.
    public func restore() async throws {
        try checkOpen()
        let keys: [StoredKey]
        let budgets: [StoredBudget]
        do {
            keys = try await store.loadKeys()
            budgets = try await store.loadBudgets()
        } catch {
            throw Self.storeError(error, "loading keys and budgets")
        }
        for budget in budgets {
            try adoptBudget(budget)
            // The current period's spend carries over from the store's counters.
            try await restoreBudgetSpend(budget.id)
        }
        let latest: [KeyID: KeyTransition]
        do {
            latest = try await store.latestTransitions()
        } catch {
            throw Self.storeError(error, "reading the latest key transitions")
        }
        for stored in keys where engine.slotByID[stored.id] == nil {
            let secret = try sealer.open(stored.sealedSecret, keyID: stored.id)
            // Failure-driven transitions (throttled, exhausted, invalid) are in the audit log, not
            // the key record: the newer of the two is the key's state, so cooldowns stay in force.
            var state = stored.state
            if let transition = latest[stored.id], transition.at >= stored.updatedAt { state = transition.to }
            try engine.register(APIKey(id: stored.id, secret: secret, settings: stored.settings), state: state, version: stored.version, now: engineNow())
            recordRegistered(state)
        }
        logger.info("restored from state store", metadata: ["keys": "\(keys.count)", "budgets": "\(budgets.count)"])
        await afterManagement()
    }

    /// Wraps a store error as `storeFailure`, keeping typed router errors as they are.
    static func storeError(_ error: any Error, _ action: String, keyID: KeyID? = nil) -> RouterError {
        if let error = error as? RouterError { return error }
        return RouterError(.storeFailure, "state store failed while \(action): \(error)", keyID: keyID)
    }
}
