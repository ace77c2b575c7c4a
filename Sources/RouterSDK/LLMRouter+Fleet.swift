package import Logging

/// Fleet budgets (``FleetBudgets``): slices of shared hard budgets taken from the store.
extension LLMRouter {
    /// Routes as ``route(_:logger:)`` does; in fleet mode a request that a shared budget's
    /// slices cannot cover takes a new slice from the store and is tried again (a few times:
    /// each pass may meet another shared budget).
    package func lease(for request: RouteRequest, logger callLogger: Logger? = nil) async throws(RouterError) -> Lease {
        guard let fleet else { return try tracedLease(for: request, logger: callLogger) }
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
                return lease
            case .failure(let error):
                guard refills < 4, error.code == .budgetExceeded || error.code == .noEligibleKey, let budgetID = error.budgetID,
                    engine.fleetAccount(budgetID, now: clock.now()) != nil
                else { throw error }
                refills += 1
                let needed = engine.worstCaseCost(request) ?? fleet.minimumSlice
                guard await refill(budgetID, needed: needed) else { throw error }
            }
        }
    }

    /// Takes the next slice of every fleet budget running low, in the background.
    private func renewRunningLowSlices(_ fleet: FleetBudgets) {
        for id in engine.fleetBudgetsRunningLow(renewBelowPermille: fleet.renewBelowPermille) where fleetRefills[id] == nil {
            fleetRefills[id] = Task { [weak self] in
                _ = await self?.takeSlice(id, needed: fleet.minimumSlice)
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

    /// One grant from the store: adds a slice to the fleet counter of `id`'s period with the
    /// store's atomic conditional increment (never past the limit), shrinking the ask to what
    /// is left when that still covers `needed`. Returns the slice granted (zero if none).
    private func takeSlice(_ id: BudgetID, needed: Money) async -> Money {
        guard let fleet = engine.configuration.fleet, let account = engine.fleetAccount(id, now: clock.now()) else { return .zero }
        let counter = FleetBudgets.grantsCounter(id)
        let limit = account.budget.limit
        do {
            var ungranted = limit - (try await store.spend(of: counter, periodStart: account.periodStart))
            for _ in 0..<3 {
                guard ungranted >= needed, ungranted > .zero else { return .zero }
                let ask = min(fleet.slice(ungranted: ungranted, needed: needed), ungranted)
                if try await store.addSpend(ask, to: counter, periodStart: account.periodStart, limit: limit) != nil {
                    guard engine.addFleetSlice(id, periodStart: account.periodStart, amount: ask, now: clock.now()) else {
                        // The period ended while the grant was on its way: give it back to that period.
                        _ = try? await store.addSpend(.zero - ask, to: counter, periodStart: account.periodStart, limit: nil)
                        return .zero
                    }
                    logger.debug("took a fleet budget slice", metadata: ["budget": "\(id)", "slice": "\(ask)"])
                    return ask
                }
                // Others took some meanwhile: look again and ask for a share of what is left.
                ungranted = limit - (try await store.spend(of: counter, periodStart: account.periodStart))
            }
        } catch {
            logger.warning("could not take a fleet budget slice", metadata: ["budget": "\(id)", "error": "\(error)"])
        }
        return .zero
    }

    /// Gives the unused part of every slice back to the fleet (shutdown): what this instance
    /// was granted but did not spend becomes grantable to the others.
    func returnUnusedFleetSlices() async {
        guard engine.configuration.fleet != nil else { return }
        for task in fleetRefills.values { await task.value }
        for (id, periodStart, unused) in engine.takeUnusedFleetSlices(now: clock.now()) {
            do {
                _ = try await store.addSpend(.zero - unused, to: FleetBudgets.grantsCounter(id), periodStart: periodStart, limit: nil)
            } catch {
                logger.warning("could not return an unused fleet budget slice", metadata: ["budget": "\(id)", "unused": "\(unused)", "error": "\(error)"])
            }
        }
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
            let granted = try await store.spend(of: FleetBudgets.grantsCounter(id), periodStart: account.periodStart)
            // Settles of this instance still on their way to the store are counted too.
            status.spent = max(spent, status.spent)
            status.fleet = BudgetStatus.FleetShare(spent: spent, granted: granted, instanceUnused: max(.zero, account.headroom))
        } catch {
            throw Self.storeError(error, "reading the fleet's spend of budget '\(id)'")
        }
        return status
    }

    /// Shares the hard budgets this instance knows with the fleet (fleet mode only).
    func enableFleet(_ id: BudgetID) {
        guard engine.configuration.fleet != nil else { return }
        engine.enableFleet(id, now: clock.now())
    }
}
