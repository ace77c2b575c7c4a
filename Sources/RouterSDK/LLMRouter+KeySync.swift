internal import Logging

/// Fleet key sync (``FleetBudgets/keySyncInterval``): keys and budgets follow what other
/// instances stored.
extension LLMRouter {
    /// Starts reading the keys from the store every ``FleetBudgets/keySyncInterval`` (fleet mode;
    /// once, at the first registration or restore), until shutdown.
    func startKeySync() {
        guard keySync == nil, !isShutDown, let interval = fleet?.keySyncInterval else { return }
        keySync = repeating(every: interval) { await $0.syncKeys() }
    }

    /// One sync: every stored key newer than this instance's copy is taken (settings, secret,
    /// version); each key's newest stored state — its record's or its latest transition's,
    /// whichever is later — is taken when it is newer than this instance's own change; keys
    /// registered elsewhere are adopted, keys removed elsewhere (seen at the last sync, gone now)
    /// are removed. A key whose record cannot be applied here (a model this catalog lacks, a
    /// secret sealed under a master key this router does not have) is logged and left as it is.
    func syncKeys() async {
        let stored: [StoredKey]
        let latest: [KeyID: KeyTransition]
        do {
            stored = try await store.loadKeys()
            latest = try await store.latestTransitions()
        } catch {
            logger.warning("could not read the keys for fleet key sync", metadata: ["error": "\(error)"])
            return
        }
        guard !isShutDown else { return }
        for key in stored {
            await lockKey(key.id)
            defer { unlockKey(key.id) }
            do {
                try syncKey(key, latest: latest[key.id])
            } catch {
                logger.warning("could not follow a key changed by another instance", metadata: ["key": "\(key.id)", "error": "\(error)"])
            }
        }
        let present = Set(stored.map(\.id))
        for id in keysInStore ?? [] where !present.contains(id) && engine.slotByID[id] != nil {
            await lockKey(id)
            defer { unlockKey(id) }
            if engine.slotByID[id] != nil, (try? engine.remove(id, now: engineNow())) != nil {
                logger.info("removed a key another instance removed", metadata: ["key": "\(id)"])
            }
        }
        keysInStore = present
        await syncBudgets()
        await afterManagement()
    }

    /// Budgets follow the store the same way, by version: a newer stored definition replaces this
    /// router's (keeping the period's spend), a budget set elsewhere is adopted with its period's
    /// spend from the store, and one removed elsewhere (seen at the last sync, gone now) is
    /// removed. A definition that cannot be applied here (a model this catalog lacks) is logged
    /// and left as it is.
    private func syncBudgets() async {
        let stored: [StoredBudget]
        do {
            stored = try await store.loadBudgets()
        } catch {
            logger.warning("could not read the budgets for fleet sync", metadata: ["error": "\(error)"])
            return
        }
        guard !isShutDown else { return }
        for budget in stored {
            await lock(.budget(budget.id))
            defer { unlock(.budget(budget.id)) }
            let local = engine.budgetDefinition(budget.id)
            if let local, local.version >= budget.version { continue }
            do {
                try adoptBudget(budget)
                if local == nil { try await restoreBudgetSpend(budget.id) }
                logger.info(local == nil ? "adopted a budget another instance set" : "followed a budget another instance changed", metadata: [
                    "budget": "\(budget.id)", "version": "\(budget.version)",
                ])
            } catch {
                logger.warning("could not follow a budget changed by another instance", metadata: ["budget": "\(budget.id)", "error": "\(error)"])
            }
        }
        let present = Set(stored.map(\.id))
        for id in budgetsInStore ?? [] where !present.contains(id) && engine.budgetDefinition(id) != nil {
            await lock(.budget(id))
            defer { unlock(.budget(id)) }
            if (try? engine.removeBudget(id)) != nil {
                logger.info("removed a budget another instance removed", metadata: ["budget": "\(id)"])
            }
        }
        budgetsInStore = present
    }

    private func syncKey(_ key: StoredKey, latest: KeyTransition?) throws {
        // The newer of the record's state (management) and the latest transition (failures).
        let (state, at) = latest.map { $0.at >= key.updatedAt ? ($0.to, $0.at) : (key.state, key.updatedAt) } ?? (key.state, key.updatedAt)
        guard let local = engine.keySyncView(key.id) else {
            let secret = try sealer.open(key.sealedSecret, keyID: key.id)
            try engine.register(APIKey(id: key.id, secret: secret, settings: key.settings), state: state, version: key.version, now: engineNow())
            recordRegistered(state)
            logger.info("adopted a key another instance registered", metadata: ["key": "\(key.id)"])
            return
        }
        if key.version > local.version {
            let secret = try sealer.open(key.sealedSecret, keyID: key.id)
            try engine.syncDefinition(key.id, settings: key.settings, secret: secret, version: key.version, now: engineNow())
        }
        engine.syncState(key.id, to: state, at: at, now: engineNow())
    }
}
