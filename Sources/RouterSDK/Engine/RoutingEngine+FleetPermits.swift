/// Fleet rate limits (``FleetRateLimits``): the engine sends a request on a key only within the
/// grants the store gave this instance on the key's fleet-wide limits; the router asks for them.
extension RoutingEngine {
    /// Whether keys' rate limits are shared with the fleet.
    var sharesRateLimits: Bool { configuration.fleet?.rateLimits != nil }

    /// What a grant renewal needs to know of this instance's grant on `id`'s `kind` limit.
    struct PermitReading {
        var limit: Int64
        var usedSinceRenewal: Int64
    }

    /// Candidates of `request` that could serve it but for a grant on a fleet-wide limit: each
    /// (key, limit, units the request needs). At most `maximum` keys, in pool order.
    func fleetPermitNeeds(_ request: RouteRequest, nowMs: Int64, maximum: Int = 4) -> [(key: KeyID, kind: FleetRateKind, units: Int64)] {
        guard sharesRateLimits, let poolIndices = try? resolvePools(request.models) else { return [] }
        var needs: [(KeyID, FleetRateKind, Int64)] = []
        var seen = Set<Int32>()
        let tokens = Int64(request.reservedTokens)
        for poolIndex in poolIndices {
            if !request.providers.isEmpty, !request.providers.contains(pools[Int(poolIndex)].model.provider) { continue }
            for slot in pools[Int(poolIndex)].members where slot >= 0 && !seen.contains(slot) {
                seen.insert(slot)
                let key = keys[Int(slot)]
                guard let permits = key.fleetPermits, !permits.admit(tokens: tokens, nowMs: nowMs) else { continue }
                guard key.state == .available, !request.excludedKeys.contains(key.id), request.requiredKeyTags.isSubset(of: key.settings.tags) else { continue }
                switch key.circuit {
                case .closed, .halfOpen(probeInFlight: false): break
                case .open, .halfOpen(probeInFlight: true): continue
                }
                for kind in FleetRateKind.allCases {
                    let units = FleetPermits.units(kind, tokens: tokens)
                    if let permit = permits[kind], !permit.admits(units, nowMs: nowMs) { needs.append((key.id, kind, units)) }
                }
                if Set(needs.map(\.0)).count >= maximum { return needs }
            }
        }
        return needs
    }

    /// This instance's grant on `id`'s `kind` limit, as a renewal writes it; `nil` if the key is
    /// gone or the limit no longer shared.
    func fleetPermitReading(_ id: KeyID, _ kind: FleetRateKind) -> PermitReading? {
        guard let slot = slotByID[id], let permit = keys[Int(slot)].fleetPermits?[kind],
            let limit = kind.limit(in: keys[Int(slot)].settings.limits)
        else { return nil }
        return PermitReading(limit: Int64(limit), usedSinceRenewal: permit.used)
    }

    /// Installs a grant the store wrote: `units` usable until `untilMs` (engine milliseconds),
    /// of which what was used since the renewal read `usedAtRead` is already spent.
    func installFleetPermit(_ id: KeyID, _ kind: FleetRateKind, units: Int64, usedAtRead: Int64, untilMs: Int64, nowMs: Int64) {
        guard let slot = slotByID[id], var permit = keys[Int(slot)].fleetPermits?[kind] else { return }
        permit.granted = units
        // Tokens given back after the read were written as used: nothing comes back twice.
        permit.used = max(0, permit.used - usedAtRead)
        permit.untilMs = untilMs
        permit.epoch &+= 1
        keys[Int(slot)].fleetPermits![kind] = permit
        refresh(slot: slot, nowMs: nowMs)
    }

    /// The limits of key `id` whose grant should be renewed before a request has to wait: what
    /// is left fell below `renewBelowPermille` of it, or less than `soonMs` of its time remains.
    func fleetPermitsRunningLow(_ id: KeyID, renewBelowPermille: Int, soonMs: Int64, nowMs: Int64) -> [FleetRateKind] {
        guard let slot = slotByID[id], let permits = keys[Int(slot)].fleetPermits else { return [] }
        return FleetRateKind.allCases.filter { kind in
            guard let permit = permits[kind], permit.granted > 0 else { return false }
            let left = permit.granted - permit.used
            return permit.untilMs - nowMs < soonMs || Int128(left) * 1000 < Int128(permit.granted) * Int128(renewBelowPermille)
        }
    }

    /// Ends every grant (shutdown): returns, for each, what was used since its last renewal.
    func takeFleetPermits() -> [(key: KeyID, kind: FleetRateKind, usedSinceRenewal: Int64)] {
        var taken: [(KeyID, FleetRateKind, Int64)] = []
        for index in keys.indices where keys[index].live {
            guard var permits = keys[index].fleetPermits else { continue }
            for kind in FleetRateKind.allCases {
                guard let permit = permits[kind], permit.granted > 0 || permit.used > 0 else { continue }
                taken.append((keys[index].id, kind, permit.used))
                permits[kind] = FleetPermit(epoch: permit.epoch &+ 1)
            }
            keys[index].fleetPermits = permits
        }
        return taken
    }
}

extension RoutingEngine {
    /// Whether key `id` has fleet-wide limits.
    func hasFleetPermits(_ id: KeyID) -> Bool {
        guard let slot = slotByID[id] else { return false }
        return keys[Int(slot)].fleetPermits != nil
    }

    /// Whether this instance's grant on `id`'s `kind` limit admits `units` now.
    func fleetPermitAdmits(_ id: KeyID, _ kind: FleetRateKind, units: Int64, nowMs: Int64) -> Bool {
        guard let slot = slotByID[id], let permit = keys[Int(slot)].fleetPermits?[kind] else { return false }
        return permit.admits(units, nowMs: nowMs)
    }
}
