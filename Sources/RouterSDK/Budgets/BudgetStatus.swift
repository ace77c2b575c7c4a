/// A budget's figures for its current period.
public struct BudgetStatus: Sendable, Hashable {
    /// The budget.
    public var budget: Budget
    /// The version of the budget's definition in the store (``StoredBudget/version``): every
    /// instance that follows the same definition reports the same version.
    public var version: Int64 = 0
    /// Start of the current period (`nil` for `total`).
    public var periodStart: Timestamp?
    /// End of the current period (`nil` for `total`).
    public var periodEnd: Timestamp?
    /// Settled spend in the period.
    public var spent: Money
    /// Worst-case cost of leases not yet settled.
    public var reserved: Money
    /// `limit - spent - reserved`, never below zero.
    public var remaining: Money { max(.zero, budget.limit - spent - reserved) }
    /// For a budget shared by a fleet (``FleetBudgets``), as ``LLMRouter/fleetBudgetStatus(_:)``
    /// reads it from the store; `nil` otherwise.
    public var fleet: FleetShare?

    /// A fleet budget's figures across every instance, read from the store.
    public struct FleetShare: Sendable, Hashable {
        /// Settled spend of every instance in the period (the store's counter).
        public var spent: Money
        /// Slices granted to all instances in the period; never above the limit.
        public var granted: Money
        /// The part of this instance's slices it has not spent or reserved.
        public var instanceUnused: Money

        /// Creates a fleet share.
        public init(spent: Money, granted: Money, instanceUnused: Money) {
            self.spent = spent
            self.granted = granted
            self.instanceUnused = instanceUnused
        }
    }

    /// Creates a status.
    public init(budget: Budget, periodStart: Timestamp?, periodEnd: Timestamp?, spent: Money, reserved: Money) {
        self.budget = budget
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.spent = spent
        self.reserved = reserved
    }
}
