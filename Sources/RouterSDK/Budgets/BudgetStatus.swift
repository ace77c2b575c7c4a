/// A budget's figures for its current period.
public struct BudgetStatus: Sendable, Hashable {
    /// The budget.
    public var budget: Budget
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

    /// Creates a status.
    public init(budget: Budget, periodStart: Timestamp?, periodEnd: Timestamp?, spent: Money, reserved: Money) {
        self.budget = budget
        self.periodStart = periodStart
        self.periodEnd = periodEnd
        self.spent = spent
        self.reserved = reserved
    }
}
