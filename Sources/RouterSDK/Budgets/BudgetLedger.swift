/// One budget's running figures for its current period.
struct BudgetAccount {
    var budget: Budget
    /// The version of the definition in the store (``StoredBudget/version``).
    var version: Int64
    var periodStartMs: Int64
    var periodEndMs: Int64
    var spent: Money = .zero
    var reserved: Money = .zero
    /// Thresholds already alerted this period (indices into `budget.alertThresholds`).
    var alerted: Set<Int> = []
    var exhaustedAlerted = false
    /// Fleet budgets (``FleetBudgets``): what this instance may reach this period — its spend
    /// when the period's fleet accounting began plus every slice the store granted it. `nil`:
    /// the budget is not shared.
    var fleetCap: Money?
    /// The size of the last slice granted (renewal is measured against it).
    var lastSlice: Money = .zero
    /// Fleet budgets: the counter of this instance's own settled spend, written with the ledger
    /// (what it spent stays counted when its slices are reclaimed).
    var fleetSpendCounter: BudgetID?

    init(budget: Budget, version: Int64, nowMs: Int64) {
        self.budget = budget
        self.version = version
        (periodStartMs, periodEndMs) = budget.period.bounds(containing: nowMs)
    }

    /// Starts a new period once `nowMs` passed the end of the current one. Outstanding
    /// reservations carry over: their cost is charged to the period in which they settle.
    ///
    /// Periods only move forward: when the wall clock steps back (an NTP correction, a VM
    /// restored from a snapshot), the current period and its spend stay as they are, so a step
    /// back across midnight can never hand out a fresh day's budget.
    mutating func roll(to nowMs: Int64) {
        guard nowMs >= periodEndMs else { return }
        (periodStartMs, periodEndMs) = budget.period.bounds(containing: nowMs)
        spent = .zero
        alerted = []
        exhaustedAlerted = false
        // A new period starts with no slice of it granted.
        if fleetCap != nil { fleetCap = .zero }
    }

    /// The period start as stores key it: the Unix epoch for `total` budgets.
    var periodStart: Timestamp {
        budget.period == .total ? Timestamp(nanosecondsSinceEpoch: 0) : Timestamp(nanosecondsSinceEpoch: periodStartMs * 1_000_000)
    }

    /// Marks thresholds the current spend has already passed as alerted, so changing a budget or
    /// restoring its spend does not re-announce them.
    mutating func markPassedThresholds() {
        alerted = []
        guard spent > .zero else { return }
        for (position, percent) in budget.alertThresholds.enumerated()
        where Int128(spent.nanodollars) * 100 >= Int128(budget.limit.nanodollars) * Int128(percent) {
            alerted.insert(position)
        }
        exhaustedAlerted = budget.enforcement == .soft && spent > budget.limit
    }

    /// Whether a hard budget admits `cost` more.
    func admits(_ cost: Money) -> Bool {
        guard budget.enforcement == .hard else { return true }
        let total = spent + reserved + cost
        return total <= budget.limit && (fleetCap.map { total <= $0 } ?? true)
    }

    /// For a fleet budget: the part of its slices not yet spent or reserved.
    var fleetHeadroom: Money? {
        fleetCap.map { $0 - spent - reserved }
    }

    func status() -> BudgetStatus {
        let bounded = budget.period != .total
        var status = BudgetStatus(
            budget: budget,
            periodStart: bounded ? Timestamp(nanosecondsSinceEpoch: periodStartMs * 1_000_000) : nil,
            periodEnd: bounded ? Timestamp(nanosecondsSinceEpoch: periodEndMs * 1_000_000) : nil,
            spent: spent, reserved: reserved)
        status.version = version
        return status
    }
}

/// All budgets, indexed by scope so a decision finds the ones that apply without scanning.
struct BudgetLedger {
    private(set) var accounts: [BudgetAccount?] = []
    private(set) var indexByID: [BudgetID: Int32] = [:]
    private(set) var global: [Int32] = []
    private(set) var byProvider: [ProviderID: [Int32]] = [:]
    private(set) var byModel: [String: [Int32]] = [:]
    private(set) var byKey: [KeyID: [Int32]] = [:]
    private(set) var byTag: [String: [Int32]] = [:]

    var isEmpty: Bool { indexByID.isEmpty }
    var hasTagBudgets: Bool { !byTag.isEmpty }

    /// Adds or replaces a budget at `version`. Replacing keeps the period's spend and reservations.
    mutating func set(_ budget: Budget, version: Int64, nowMs: Int64) {
        if let index = indexByID[budget.id], var account = accounts[Int(index)] {
            let samePeriod = account.budget.period == budget.period
            removeFromIndex(index, account.budget.scope)
            account.budget = budget
            account.version = version
            if !samePeriod {
                (account.periodStartMs, account.periodEndMs) = budget.period.bounds(containing: nowMs)
            }
            account.markPassedThresholds()
            accounts[Int(index)] = account
            addToIndex(index, budget.scope)
        } else {
            let index = Int32(accounts.count)
            accounts.append(BudgetAccount(budget: budget, version: version, nowMs: nowMs))
            indexByID[budget.id] = index
            addToIndex(index, budget.scope)
        }
    }

    /// Removes a budget; leases holding reservations against it stop charging it.
    mutating func remove(_ id: BudgetID) -> Bool {
        guard let index = indexByID.removeValue(forKey: id), let account = accounts[Int(index)] else { return false }
        removeFromIndex(index, account.budget.scope)
        accounts[Int(index)] = nil
        return true
    }

    subscript(index: Int32) -> BudgetAccount? {
        get { accounts[Int(index)] }
        set { accounts[Int(index)] = newValue }
    }

    private mutating func addToIndex(_ index: Int32, _ scope: Budget.Scope) {
        switch scope {
        case .global: global.append(index)
        case .provider(let provider): byProvider[provider, default: []].append(index)
        case .model(let model): byModel[model, default: []].append(index)
        case .key(let key): byKey[key, default: []].append(index)
        case .tag(let tag): byTag[tag, default: []].append(index)
        }
    }

    private mutating func removeFromIndex(_ index: Int32, _ scope: Budget.Scope) {
        switch scope {
        case .global: global.removeAll { $0 == index }
        case .provider(let provider): byProvider[provider]?.removeAll { $0 == index }
        case .model(let model): byModel[model]?.removeAll { $0 == index }
        case .key(let key): byKey[key]?.removeAll { $0 == index }
        case .tag(let tag): byTag[tag]?.removeAll { $0 == index }
        }
    }

    /// Accounts that apply to requests carrying `tags`.
    func accounts(forTags tags: Set<String>) -> [Int32] {
        guard hasTagBudgets, !tags.isEmpty else { return [] }
        var result: [Int32] = []
        for tag in tags {
            if let found = byTag[tag] { result.append(contentsOf: found) }
        }
        return result
    }
}
