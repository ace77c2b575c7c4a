/// Fleet budgets (``FleetBudgets``): the engine enforces each shared hard budget against the
/// slices the store granted this instance; the router asks the store for them.
extension RoutingEngine {
    /// Makes hard budget `id` shared: from now on this instance may reach only what it has
    /// spent and reserved so far plus the slices granted to it. Does nothing for soft budgets.
    func enableFleet(_ id: BudgetID, instance: String, now: Timestamp) {
        guard let index = budgets.indexByID[id], budgets[index]!.budget.enforcement == .hard, budgets[index]!.fleetCap == nil else { return }
        budgets[index]!.roll(to: now.millisecondsSinceEpoch)
        budgets[index]!.fleetCap = budgets[index]!.spent + budgets[index]!.reserved
        budgets[index]!.fleetSpendCounter = FleetBudgets.instanceCounter(id, instance)
    }

    /// Stops this instance spending the slices of `id` (its lease ran out unrenewed); returns
    /// the unused part they still had, to give back if the lease is renewed.
    func freezeFleet(_ id: BudgetID, now: Timestamp) -> Money {
        guard let index = budgets.indexByID[id] else { return .zero }
        budgets[index]!.roll(to: now.millisecondsSinceEpoch)
        guard let headroom = budgets[index]!.fleetHeadroom else { return .zero }
        let unused = max(.zero, headroom)
        budgets[index]!.fleetCap! -= unused
        return unused
    }

    /// What a refill of fleet budget `id` works with: the budget, the period its slices belong
    /// to, the unused part of the slices, and what this instance spent and reserved this period.
    /// `nil` if the budget is gone or not shared.
    func fleetAccount(_ id: BudgetID, now: Timestamp) -> (budget: Budget, periodStart: Timestamp, headroom: Money, used: Money)? {
        guard let index = budgets.indexByID[id], budgets[index]!.fleetCap != nil else { return nil }
        budgets[index]!.roll(to: now.millisecondsSinceEpoch)
        let account = budgets[index]!
        return (account.budget, account.periodStart, account.fleetHeadroom ?? .zero, account.spent + account.reserved)
    }

    /// Adds a slice the store granted for the period starting at `periodStart`; a slice of a
    /// period that has ended meanwhile is not usable (it stays counted in that period).
    /// Returns whether it was added.
    @discardableResult
    func addFleetSlice(_ id: BudgetID, periodStart: Timestamp, amount: Money, now: Timestamp) -> Bool {
        guard let index = budgets.indexByID[id], budgets[index]!.fleetCap != nil else { return false }
        budgets[index]!.roll(to: now.millisecondsSinceEpoch)
        guard budgets[index]!.periodStart == periodStart else { return false }
        budgets[index]!.fleetCap! += amount
        if amount > .zero { budgets[index]!.lastSlice = amount }
        return true
    }

    /// Reports shared budget `id` exhausted (once, as for a local budget): the store granted
    /// every slice there is and this instance's are used up.
    func fleetBudgetExhausted(_ id: BudgetID, now: Timestamp) {
        guard let account = budgets.indexByID[id] else { return }
        alertExhausted(account: account, now: now)
    }

    /// Fleet budgets whose unused slice has fallen below `renewBelowPermille` of their last
    /// slice: those to refill before a request has to wait.
    func fleetBudgetsRunningLow(renewBelowPermille: Int) -> [BudgetID] {
        guard renewBelowPermille > 0 else { return [] }
        var low: [BudgetID] = []
        for id in budgets.indexByID.keys {
            guard let account = budgets[budgets.indexByID[id]!], let headroom = account.fleetHeadroom, account.lastSlice > .zero else { continue }
            if Int128(headroom.nanodollars) * 1000 < Int128(account.lastSlice.nanodollars) * Int128(renewBelowPermille) { low.append(id) }
        }
        return low
    }

    /// The largest worst-case cost `request` could reserve on any of its candidate models: what
    /// a refill must make room for.
    func worstCaseCost(_ request: RouteRequest) -> Money? {
        guard let indices = try? resolvePools(request.models) else { return nil }
        return indices.map { reservationCost(pools[Int($0)].info.price, request) }.max()
    }

    /// The unused part of every fleet budget's slices, per budget and period: what shutting
    /// down returns to the fleet. Zeroes them here, so nothing is returned twice.
    func takeUnusedFleetSlices(now: Timestamp) -> [(budget: BudgetID, periodStart: Timestamp, unused: Money)] {
        var unused: [(BudgetID, Timestamp, Money)] = []
        for (id, index) in budgets.indexByID {
            budgets[index]!.roll(to: now.millisecondsSinceEpoch)
            guard let headroom = budgets[index]!.fleetHeadroom, headroom > .zero else { continue }
            budgets[index]!.fleetCap! -= headroom
            unused.append((id, budgets[index]!.periodStart, headroom))
        }
        return unused
    }
}
