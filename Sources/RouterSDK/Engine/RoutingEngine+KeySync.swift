/// Fleet key sync (``FleetBudgets/keySyncInterval``): keys follow what other instances of the
/// fleet stored — management changes (settings, secret, version) and state changes (invalid,
/// disabled, throttled until a time).
extension RoutingEngine {
    /// What key sync compares with the store.
    struct KeySyncView {
        var version: Int64
        var settings: KeySettings
        var secret: Secret
    }

    func keySyncView(_ id: KeyID) -> KeySyncView? {
        guard let slot = slotByID[id] else { return nil }
        let key = keys[Int(slot)]
        return KeySyncView(version: key.version, settings: key.settings, secret: key.secret)
    }

    /// Takes a key's definition as another instance stored it at `version` (newer than this
    /// instance's): settings (re-indexing it when its provider or models changed) and secret.
    ///
    /// - Throws: what ``update(_:settings:now:)`` throws for settings this instance cannot
    ///   apply (a model its catalog lacks); nothing changes then.
    func syncDefinition(_ id: KeyID, settings: KeySettings, secret: Secret, version: Int64, now: Timestamp) throws(RouterError) {
        let slot = try slot(of: id)
        if keys[Int(slot)].settings != settings { try update(id, settings: settings, now: now) }
        if keys[Int(slot)].secret != secret {
            keys[Int(slot)].secret = secret
            keys[Int(slot)].consecutiveFailures = 0
            keys[Int(slot)].consecutiveRateLimits = 0
        }
        keys[Int(slot)].version = version
    }

    /// Moves key `id` to `state`, which another instance stored at `at`, unless this instance's
    /// own state is newer, already the same, or `state` is a cooldown that has ended. Returns
    /// whether it moved. (A tie goes to the store: every instance then follows the same latest
    /// record, so they agree after one sync.)
    @discardableResult
    func syncState(_ id: KeyID, to state: KeyState, at: Timestamp, now: Timestamp) -> Bool {
        guard let slot = slotByID[id], at >= keys[Int(slot)].stateChangedAt, keys[Int(slot)].state != state else { return false }
        if let until = state.cooldownDeadline, until <= wallNow { return false }
        transition(slot: slot, to: state, reason: .fleetSync, detail: nil, now: now)
        // Ordered by the time the other instance changed it, not by when this one followed.
        keys[Int(slot)].stateChangedAt = at
        return true
    }
}
