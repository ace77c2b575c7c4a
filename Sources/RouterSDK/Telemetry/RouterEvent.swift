/// Something an app may want to react to, delivered through ``Router/events()``.
public enum RouterEvent: Sendable, Hashable {
    /// A key changed state (audited transition).
    case keyStateChanged(KeyTransition)
    /// Settled spend crossed an alert threshold of a budget (once per threshold per period).
    case budgetThresholdCrossed(BudgetAlert)
    /// A hard budget refused a reservation, or a soft budget's spend passed its limit.
    case budgetExhausted(BudgetAlert)
    /// A key will run out of its daily requests at the current rate before the warning horizon.
    case exhaustionPredicted(keyID: KeyID, at: Timestamp)
    /// `execute` moved from a failed key to another attempt.
    case failover(Failover)
    /// A key's circuit breaker opened after repeated failures.
    case circuitOpened(keyID: KeyID, until: Timestamp)
}

/// Details of a budget alert.
public struct BudgetAlert: Sendable, Hashable {
    /// The budget.
    public var budgetID: BudgetID
    /// The threshold percentage crossed (100 for exhaustion).
    public var percent: Int
    /// Settled spend in the period.
    public var spent: Money
    /// The period's limit.
    public var limit: Money
    /// Hard or soft.
    public var enforcement: Budget.Enforcement
    /// When.
    public var at: Timestamp

    /// Creates an alert.
    public init(budgetID: BudgetID, percent: Int, spent: Money, limit: Money, enforcement: Budget.Enforcement, at: Timestamp) {
        self.budgetID = budgetID
        self.percent = percent
        self.spent = spent
        self.limit = limit
        self.enforcement = enforcement
        self.at = at
    }
}

/// Details of a failover.
public struct Failover: Sendable, Hashable {
    /// The key that failed.
    public var from: KeyID
    /// Why it failed.
    public var failure: ProviderFailure
    /// The attempt number that failed (1-based).
    public var attempt: Int
    /// When.
    public var at: Timestamp

    /// Creates a failover record.
    public init(from: KeyID, failure: ProviderFailure, attempt: Int, at: Timestamp) {
        self.from = from
        self.failure = failure
        self.attempt = attempt
        self.at = at
    }
}
