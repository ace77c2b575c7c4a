internal import Logging

/// Fleet rate limits (``FleetRateLimits``): grants on keys' fleet-wide limits taken from the store.
extension LLMRouter {
    /// Gets grants for the candidates of `request` that lack one (a few keys, one after another),
    /// until one key can take it; returns whether one can.
    func takeFleetPermits(for request: RouteRequest) async -> Bool {
        let needs = engine.fleetPermitNeeds(request, nowMs: engineNow().millisecondsSinceEpoch)
        var keys: [KeyID] = []
        for need in needs where !keys.contains(need.key) { keys.append(need.key) }
        for key in keys {
            var ready = true
            for need in needs where need.key == key {
                guard await renewFleetPermit(key, need.kind, needed: need.units, topUp: false) else {
                    ready = false
                    break
                }
            }
            if ready { return true }
        }
        return false
    }

    /// `error` with the earliest time the store can grant what the request's keys lack.
    func withFleetRetryTime(_ error: RouterError, _ request: RouteRequest) -> RouterError {
        let needs = engine.fleetPermitNeeds(request, nowMs: engineNow().millisecondsSinceEpoch)
        let blocked = needs.compactMap { permitRefusals[FleetRateLimits.ledgerKey($0.key, $0.kind)]?.retryAtMs }.min()
        guard let blocked, var report = error.noEligibleKey else { return error }
        let retry = Timestamp(nanosecondsSinceEpoch: blocked * 1_000_000)
        report.earliestRetry = min(report.earliestRetry ?? retry, retry)
        var error = error
        error.noEligibleKey = report
        return error
    }

    /// Renews this instance's grant on `id`'s `kind` limit, joining a renewal under way; returns
    /// whether the grant now admits `needed` units. Does not ask the store again before a time
    /// it said the window is full until.
    private func renewFleetPermit(_ id: KeyID, _ kind: FleetRateKind, needed: Int64, topUp: Bool) async -> Bool {
        let name = FleetRateLimits.ledgerKey(id, kind)
        if let running = permitRenewals[name] {
            await running.value
            if engine.fleetPermitAdmits(id, kind, units: needed, nowMs: engineNow().millisecondsSinceEpoch) { return true }
        }
        if permitRefusals[name]?.holds(at: clock.now().millisecondsSinceEpoch) == true { return false }
        let task = Task { [weak self] () -> Void in
            await self?.writeFleetPermit(id, kind, needed: needed, topUp: topUp)
            await self?.permitRenewalEnded(name)
        }
        permitRenewals[name] = task
        await task.value
        return engine.fleetPermitAdmits(id, kind, units: needed, nowMs: engineNow().millisecondsSinceEpoch)
    }

    private func permitRenewalEnded(_ name: String) {
        permitRenewals[name] = nil
    }

    /// Renews, in the background, the grants of `id` running low (what is left below
    /// ``FleetRateLimits/renewBelowPermille`` of the grant, or a third of its lifetime left).
    func renewRunningLowPermits(of id: KeyID, _ settings: FleetRateLimits) {
        // Keys without limits (most, often) cost one lookup here, no clock reading.
        guard engine.hasFleetPermits(id) else { return }
        let nowMs = engineNow().millisecondsSinceEpoch
        let soonMs = (settings.grantLifetime / 3).wholeMillisecondsRoundedUp
        for kind in engine.fleetPermitsRunningLow(id, renewBelowPermille: settings.renewBelowPermille, soonMs: soonMs, nowMs: nowMs) {
            let name = FleetRateLimits.ledgerKey(id, kind)
            guard permitRenewals[name] == nil else { continue }
            if permitRefusals[name]?.holds(at: clock.now().millisecondsSinceEpoch) == true { continue }
            permitRenewals[name] = Task { [weak self] in
                await self?.writeFleetPermit(id, kind, needed: 1, topUp: true)
                await self?.permitRenewalEnded(name)
            }
        }
    }

    /// One renewal in the store: a compare-and-set of the key limit's shared record
    /// (``FleetRateLedger/renew(instance:usedSinceRenewal:needed:topUp:settings:limit:windowMs:nowMs:)``).
    private func writeFleetPermit(_ id: KeyID, _ kind: FleetRateKind, needed: Int64, topUp: Bool) async {
        guard let fleet, let settings = fleet.rateLimits else { return }
        let name = FleetRateLimits.ledgerKey(id, kind)
        do {
            for _ in 0..<8 {
                let record = try await store.sharedRecord(name)
                noteStoreContact()
                // Read after the await: requests sent meanwhile count.
                guard let reading = engine.fleetPermitReading(id, kind) else { return }
                var ledger = try FleetRateLedger(decoding: record?.body, key: name)
                let held = ledger.active[fleet.instance] != nil
                // Stamped before the write: the grant's time starts no later than the store sees it.
                let wallMs = clock.now().millisecondsSinceEpoch
                let engineMs = engineNow().millisecondsSinceEpoch
                let grant = ledger.renew(
                    instance: fleet.instance, usedSinceRenewal: reading.usedSinceRenewal, needed: needed, topUp: topUp, settings: settings,
                    limit: reading.limit, windowMs: kind.windowMs, nowMs: wallMs)
                permitRefusals[name] = grant.retryAtMs.map {
                    FleetPermitRefusal(retryAtMs: $0, recheckAtMs: min($0, wallMs + settings.recheckAfterRefusal.wholeMillisecondsRoundedUp))
                }
                // Nothing held, nothing used, nothing granted: nothing to write.
                guard grant.units > 0 || held || reading.usedSinceRenewal > 0 else { return }
                if try await store.writeSharedRecord(name, body: ledger.encoded, expectedVersion: record?.version) {
                    noteStoreContact()
                    engine.installFleetPermit(
                        id, kind, units: grant.units, usedAtRead: reading.usedSinceRenewal, untilMs: engineMs + (grant.untilMs - wallMs),
                        nowMs: engineNow().millisecondsSinceEpoch)
                    if grant.added > 0 {
                        logger.trace("took a fleet rate-limit grant", metadata: ["key": "\(id)", "limit": "\(kind.name)", "units": "\(grant.units)"])
                    }
                    return
                }
                // Another instance wrote meanwhile: read again.
            }
        } catch {
            logger.warning("could not renew a fleet rate-limit grant", metadata: ["key": "\(id)", "limit": "\(kind.name)", "error": "\(error)"])
        }
    }

    /// Gives back the unused part of every grant (shutdown): what was used stays counted.
    func returnUnusedFleetPermits() async {
        guard let fleet, fleet.rateLimits != nil else { return }
        for task in permitRenewals.values { await task.value }
        for (id, kind, used) in engine.takeFleetPermits() {
            let name = FleetRateLimits.ledgerKey(id, kind)
            do {
                for _ in 0..<8 {
                    let record = try await store.sharedRecord(name)
                    var ledger = try FleetRateLedger(decoding: record?.body, key: name)
                    guard ledger.active[fleet.instance] != nil else { break }
                    ledger.release(instance: fleet.instance, usedSinceRenewal: used, nowMs: clock.now().millisecondsSinceEpoch)
                    if try await store.writeSharedRecord(name, body: ledger.encoded, expectedVersion: record?.version) { break }
                }
            } catch {
                logger.warning("could not return an unused fleet rate-limit grant", metadata: ["key": "\(id)", "limit": "\(kind.name)", "error": "\(error)"])
            }
        }
    }
}

/// The store found a key limit's window full: when it can next grant, and when to ask again
/// anyway (grants returned early at shutdown free units before ``retryAtMs``).
struct FleetPermitRefusal {
    var retryAtMs: Int64
    var recheckAtMs: Int64

    /// Whether a renewal at `nowMs` should not ask the store.
    func holds(at nowMs: Int64) -> Bool { nowMs < recheckAtMs }
}
