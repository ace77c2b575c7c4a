package import Logging

/// Fleet budgets (``FleetBudgets``): leased slices of shared hard budgets taken from the store.
extension LLMRouter {
    /// Routes as ``route(_:logger:)`` does; in fleet mode a request that a shared budget's
    /// slices cannot cover takes a new slice from the store and is tried again (a few times:
    /// each pass may meet another shared budget).
    package func lease(for request: RouteRequest, logger callLogger: Logger? = nil) async throws(RouterError) -> Lease {
        guard let fleet else { return try tracedLease(for: request, logger: callLogger) }
        // A lease that ran out unrenewed (the heartbeat may be stuck on an unreachable store)
        // stops this instance spending its slices before anyone may reclaim them.
        if let deadline = fleetLeaseDeadline, clock.monotonicNow() >= deadline { freezeLapsedLeases() }
        var refills = 0
        while true {
            let routed: Result<Lease, RouterError>
            do {
                routed = .success(try tracedLease(for: request, logger: callLogger))
            } catch {
                routed = .failure(error)
            }
            switch routed {
            case .success(let lease):
                renewRunningLowSlices(fleet)
                if let rateLimits = fleet.rateLimits { renewRunningLowPermits(of: lease.keyID, rateLimits) }
                return lease
            case .failure(let error):
                if refills < 4, error.code == .noEligibleKey, (error.noEligibleKey?.counts[.fleetRateLimit] ?? 0) > 0 {
                    refills += 1
                    if await takeFleetPermits(for: request) { continue }
                    throw withFleetRetryTime(error, request)
                }
                guard refills < 4, error.code == .budgetExceeded || error.code == .noEligibleKey, let budgetID = error.budgetID,
                    engine.fleetAccount(budgetID, now: clock.now()) != nil
                else { throw error }
                refills += 1
                let needed = engine.worstCaseCost(request) ?? fleet.minimumSlice
                guard await refill(budgetID, needed: needed) else {
                    engine.fleetBudgetExhausted(budgetID, now: clock.now())
                    deferEffects()
                    throw error
                }
            }
        }
    }

    /// Takes the next slice of every fleet budget running low, in the background.
    private func renewRunningLowSlices(_ fleet: FleetBudgets) {
        for id in engine.fleetBudgetsRunningLow(renewBelowPermille: fleet.renewBelowPermille) where fleetRefills[id] == nil {
            fleetRefills[id] = Task { [weak self] in
                _ = await self?.takeSlice(id, needed: fleet.minimumSlice, always: true)
                await self?.refillEnded(id)
            }
        }
    }

    private func refillEnded(_ id: BudgetID) {
        fleetRefills[id] = nil
    }

    /// Takes a slice of `id` covering at least `needed`, joining a refill already under way;
    /// returns whether this instance can spend more of it now.
    private func refill(_ id: BudgetID, needed: Money) async -> Bool {
        if let running = fleetRefills[id] {
            await running.value
            if let account = engine.fleetAccount(id, now: clock.now()), account.headroom >= needed { return true }
        }
        let task = Task { [weak self] () -> Void in
            _ = await self?.takeSlice(id, needed: needed)
            await self?.refillEnded(id)
        }
        fleetRefills[id] = task
        await task.value
        guard let account = engine.fleetAccount(id, now: clock.now()) else { return false }
        return account.headroom >= needed
    }

    /// One grant from the store: a compare-and-set of the budget period's slice ledger that adds
    /// a slice to this instance's share only while everything granted (and everything retired
    /// instances spent) stays within the limit. On the way it reclaims the slices of instances
    /// whose lease ran out (their settled spend stays counted) and renews this instance's lease.
    /// Shrinks the ask to what is left when that still covers `needed`; unless `always`, takes
    /// nothing new when renewing a lapsed lease gives back enough. Returns the slice granted
    /// (zero if none).
    private func takeSlice(_ id: BudgetID, needed: Money, always: Bool = false) async -> Money {
        guard let fleet, let period = engine.fleetAccount(id, now: clock.now())?.periodStart else { return .zero }
        let key = FleetBudgets.ledgerKey(id, period)
        do {
            for _ in 0..<8 {
                let record = try await store.sharedRecord(key)
                noteStoreContact()
                // Read after every await: a heartbeat renewing meanwhile may have thawed slices.
                guard let account = engine.fleetAccount(id, now: clock.now()), account.periodStart == period else { return .zero }
                var ledger = try FleetSliceLedger(decoding: record?.body, key: key)
                let reclaimed = try await reclaimExpired(&ledger, budget: id, periodStart: account.periodStart)
                if ledger.holders[fleet.instance] == nil, fleetLeases[id]?.periodStart == account.periodStart {
                    // This instance's slices were reclaimed while it could not renew: they are gone.
                    _ = engine.freezeFleet(id, now: clock.now())
                    fleetLeases[id] = nil
                }
                let ungranted = account.budget.limit - Money(nanodollars: ledger.total)
                var mine = ledger.holders[fleet.instance] ?? .init(granted: 0, expiresAtMs: 0)
                // A lease that lapsed and is still held gets its frozen slices back with this
                // write; when they cover the request, renewing is all it takes.
                let thawed = ledger.holders[fleet.instance] != nil && fleetLeases[id]?.lapsed == true ? fleetLeases[id]?.frozen ?? .zero : .zero
                let covered = !always && account.headroom + thawed >= needed
                let takenAt = clock.monotonicNow()
                let rate = fleetSpendRates[id, default: FleetSpendRate()].estimate(used: account.used, at: takenAt)
                let ask = !covered && ungranted >= needed && ungranted > .zero
                    ? min(fleet.slice(ungranted: ungranted, needed: needed, rate: rate), ungranted) : .zero
                guard ask > .zero || record != nil else { return .zero }  // nothing to grant, nothing to write
                mine.granted += ask.nanodollars
                mine.expiresAtMs = (clock.now() + fleet.leaseTimeToLive).millisecondsSinceEpoch
                ledger.holders[fleet.instance] = mine
                let renewedAt = clock.monotonicNow()
                let written = try await store.writeSharedRecord(key, body: ledger.encoded, expectedVersion: record?.version)
                noteStoreContact()
                if written {
                    for (instance, spent, freed) in reclaimed {
                        logger.info("reclaimed the fleet budget slices of an instance whose lease ran out", metadata: [
                            "budget": "\(id)", "instance": "\(instance)", "spent": "\(spent)", "reclaimed": "\(freed)",
                        ])
                    }
                    leaseRenewed(id, periodStart: account.periodStart, at: renewedAt, stillHeld: true)
                    guard ask > .zero else { return .zero }  // renewed (and thawed), nothing new taken
                    guard engine.addFleetSlice(id, periodStart: account.periodStart, amount: ask, now: clock.now()) else { return .zero }
                    fleetSpendRates[id, default: FleetSpendRate()].sliceTaken(used: account.used, at: takenAt)
                    logger.debug("took a fleet budget slice", metadata: ["budget": "\(id)", "slice": "\(ask)"])
                    startHeartbeat()
                    return ask
                }
                // Another instance wrote meanwhile: read again.
            }
        } catch {
            logger.warning("could not take a fleet budget slice", metadata: ["budget": "\(id)", "error": "\(error)"])
        }
        return .zero
    }

    /// Reclaims, in `ledger`, the slices of every other instance whose lease ran out more than the
    /// grace ago: what it settled (its counter in the store) stays spent, the rest is free again.
    /// Only once this instance has reached the store without a break for ``fleetReclaimContact``
    /// (``StoreContact``): right after a store stall, every lease looks run out, and live instances
    /// have not yet written the settles they booked meanwhile nor renewed.
    /// Returns what it reclaimed (instance, its settled spend, the amount freed), to log once written.
    private func reclaimExpired(
        _ ledger: inout FleetSliceLedger, budget: BudgetID, periodStart: Timestamp
    ) async throws -> [(instance: String, spent: Money, freed: Money)] {
        guard let fleet else { return [] }
        let cutoff = (clock.now() - fleet.reclaimGrace).millisecondsSinceEpoch
        let expired = ledger.holders.filter { $0.key != fleet.instance && $0.value.expiresAtMs < cutoff }
        guard !expired.isEmpty else { return [] }
        guard fleetContact.continuous(for: fleetReclaimContact, at: clock.monotonicNow()) else {
            logger.debug("not reclaiming expired fleet budget leases yet: the store has not answered long enough without a break", metadata: [
                "budget": "\(budget)", "expired": "\(expired.count)",
            ])
            return []
        }
        var reclaimed: [(instance: String, spent: Money, freed: Money)] = []
        for (instance, holder) in expired {
            let spent = try await store.spend(of: FleetBudgets.instanceCounter(budget, instance), periodStart: periodStart)
            ledger.retire(instance, spent: max(0, spent.nanodollars))
            reclaimed.append((instance, spent, Money(nanodollars: holder.granted) - spent))
        }
        return reclaimed
    }

    /// Records a fleet store round trip that succeeded just now. A gap of more than half the lease
    /// TTL (the heartbeat comes every third) breaks the run.
    func noteStoreContact() {
        guard let fleet else { return }
        fleetContact.succeeded(at: clock.monotonicNow(), maxGap: fleet.leaseTimeToLive / 2)
    }

    /// Records a lease write: the lease is good until a sixth of its TTL before it runs out in
    /// the store (so this instance stops spending before anyone may reclaim). A lease renewed
    /// after it had lapsed gets back the slices it froze, if the ledger still holds them.
    private func leaseRenewed(_ id: BudgetID, periodStart: Timestamp, at renewedAt: Duration, stillHeld: Bool) {
        guard let fleet else { return }
        var lease = fleetLeases[id] ?? FleetLease(periodStart: periodStart)
        if lease.periodStart != periodStart { lease = FleetLease(periodStart: periodStart) }
        lease.validUntil = renewedAt + fleet.leaseTimeToLive - fleet.leaseTimeToLive / 6
        if stillHeld, lease.frozen > .zero {
            engine.addFleetSlice(id, periodStart: periodStart, amount: lease.frozen, now: clock.now())
        }
        lease.frozen = .zero
        lease.lapsed = false
        fleetLeases[id] = lease
    }

    /// Renews every lease this instance holds, every third of the TTL, until shutdown; a lease
    /// that could not be renewed before it runs out stops this instance spending its slices.
    private func startHeartbeat() {
        guard let fleet, fleetHeartbeat == nil else { return }
        fleetHeartbeat = repeating(every: fleet.leaseTimeToLive / 3) { await $0.renewLeases() }
    }

    /// A task running `body` every `interval` on the router's clock, until cancelled or the
    /// router is gone (it holds the router only while `body` runs).
    ///
    /// Ticks are an interval apart, not an interval after `body` ended: a slow `body` (a store
    /// round trip) does not push the schedule back, so a change made while one sync runs is
    /// still picked up within the next interval. A tick missed meanwhile runs once, at once.
    func repeating(every interval: Duration, _ body: @escaping @Sendable (isolated LLMRouter) async -> Void) -> Task<Void, Never> {
        let clock = self.clock
        return Task { [weak self] in
            var deadline = clock.now() + interval
            while !Task.isCancelled {
                try? await clock.sleep(until: deadline)
                guard !Task.isCancelled, let self else { return }
                await body(self)
                deadline = max(deadline + interval, clock.now())
            }
        }
    }

    /// The earliest time (monotonic) a lease held runs out unrenewed.
    private var fleetLeaseDeadline: Duration? {
        // Lazily: read on every fleet-mode route, so no arrays are built for it.
        fleetLeases.values.lazy.filter { !$0.lapsed }.map(\.validUntil).min()
    }

    /// Freezes the slices of every lease that ran out unrenewed (kept to give back on renewal).
    private func freezeLapsedLeases() {
        let now = clock.monotonicNow()
        for (id, lease) in fleetLeases where !lease.lapsed && now >= lease.validUntil {
            guard let account = engine.fleetAccount(id, now: clock.now()), account.periodStart == lease.periodStart else {
                fleetLeases[id] = nil  // the period ended: its slices are no use any more
                continue
            }
            fleetLeases[id]?.frozen = engine.freezeFleet(id, now: clock.now())
            fleetLeases[id]?.lapsed = true
            logger.warning("a fleet budget lease ran out unrenewed; its slices are frozen", metadata: ["budget": "\(id)"])
        }
    }

    private func renewLeases() async {
        guard let fleet else { return }
        freezeLapsedLeases()
        for (id, lease) in fleetLeases {
            guard let account = engine.fleetAccount(id, now: clock.now()), account.periodStart == lease.periodStart else {
                if fleetLeases[id]?.periodStart == lease.periodStart { fleetLeases[id] = nil }  // the period ended
                continue
            }
            let key = FleetBudgets.ledgerKey(id, lease.periodStart)
            var renewed = false
            do {
                for _ in 0..<4 where !renewed {
                    let record = try await store.sharedRecord(key)
                    noteStoreContact()
                    var ledger = try FleetSliceLedger(decoding: record?.body, key: key)
                    guard var mine = ledger.holders[fleet.instance] else {
                        // Reclaimed while this instance could not renew: those slices are gone.
                        _ = engine.freezeFleet(id, now: clock.now())
                        if fleetLeases[id]?.periodStart == lease.periodStart { fleetLeases[id] = nil }
                        break
                    }
                    mine.expiresAtMs = (clock.now() + fleet.leaseTimeToLive).millisecondsSinceEpoch
                    ledger.holders[fleet.instance] = mine
                    let renewedAt = clock.monotonicNow()
                    let written = try await store.writeSharedRecord(key, body: ledger.encoded, expectedVersion: record?.version)
                    noteStoreContact()
                    if written {
                        leaseRenewed(id, periodStart: lease.periodStart, at: renewedAt, stillHeld: true)
                        renewed = true
                    }
                }
            } catch {
                logger.warning("could not renew a fleet budget lease", metadata: ["budget": "\(id)", "error": "\(error)"])
            }
            if !renewed { freezeLapsedLeases() }
        }
    }

    /// Gives the unused part of every slice back to the fleet (shutdown): this instance leaves
    /// each slice ledger, its settled spend retired there as spent.
    func returnUnusedFleetSlices() async {
        guard let fleet else { return }
        fleetHeartbeat?.cancel()
        fleetHeartbeat = nil
        for task in fleetRefills.values { await task.value }
        _ = engine.takeUnusedFleetSlices(now: clock.now())
        for (id, lease) in fleetLeases {
            let key = FleetBudgets.ledgerKey(id, lease.periodStart)
            var failures = 0
            var returned = false
            // Other instances returning at the same moment conflict; a busy store may fail a few
            // calls: what is not returned stays stranded until the lease is reclaimed.
            for _ in 0..<16 where !returned {
                do {
                    let record = try await store.sharedRecord(key)
                    var ledger = try FleetSliceLedger(decoding: record?.body, key: key)
                    guard ledger.holders[fleet.instance] != nil else { break }
                    let spent = try await store.spend(of: FleetBudgets.instanceCounter(id, fleet.instance), periodStart: lease.periodStart)
                    ledger.retire(fleet.instance, spent: max(0, spent.nanodollars))
                    returned = try await store.writeSharedRecord(key, body: ledger.encoded, expectedVersion: record?.version)
                } catch {
                    failures += 1
                    guard failures < 4 else {
                        logger.warning("could not return unused fleet budget slices", metadata: ["budget": "\(id)", "error": "\(error)"])
                        break
                    }
                    // Real time, not the router's clock: shutdown must not wait on a clock a test holds still.
                    try? await Task.sleep(for: .milliseconds(50 << failures))
                }
            }
        }
        fleetLeases.removeAll()
    }

    /// A budget's status with the fleet's figures read from the store: its ``BudgetStatus/spent``
    /// is then the fleet's settled spend (every instance's), and ``BudgetStatus/fleet`` says
    /// what was granted and what of this instance's slices is unused. For a budget that is not
    /// shared, the same as ``budgetStatus(_:)``.
    ///
    /// - Throws: `unknownBudget`, `storeFailure`.
    public func fleetBudgetStatus(_ id: BudgetID) async throws -> BudgetStatus {
        var status = try budgetStatus(id)
        guard let account = engine.fleetAccount(id, now: clock.now()) else { return status }
        do {
            let spent = try await store.spend(of: id, periodStart: account.periodStart)
            let key = FleetBudgets.ledgerKey(id, account.periodStart)
            let ledger = try FleetSliceLedger(decoding: try await store.sharedRecord(key)?.body, key: key)
            noteStoreContact()
            // Settles of this instance still on their way to the store are counted too.
            status.spent = max(spent, status.spent)
            status.fleet = BudgetStatus.FleetShare(spent: spent, granted: Money(nanodollars: ledger.total), instanceUnused: max(.zero, account.headroom))
        } catch {
            throw Self.storeError(error, "reading the fleet's spend of budget '\(id)'")
        }
        return status
    }

    /// Shares the hard budgets this instance knows with the fleet (fleet mode only).
    func enableFleet(_ id: BudgetID) {
        guard let fleet else { return }
        engine.enableFleet(id, instance: fleet.instance, now: clock.now())
    }
}

/// This instance's lease on one fleet budget period's slices.
struct FleetLease {
    var periodStart: Timestamp
    /// Until when (monotonic) this instance may spend its slices without renewing.
    var validUntil: Duration = .zero
    /// Whether the lease ran out unrenewed (its slices are frozen until a renewal).
    var lapsed = false
    /// The unused part of the slices frozen when the lease ran out unrenewed.
    var frozen: Money = .zero
}

extension FleetBudgets {
    /// The instance id a router resolved (it fills in a random one at init).
    var instance: String { instanceID ?? "" }
}
