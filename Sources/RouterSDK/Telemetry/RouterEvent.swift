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
    /// A call used more than its lease reserved and took a hard budget past its limit. The
    /// excess was charged; the budget admits nothing more until it is back under its limit.
    ///
    /// The bound this gives: a hard budget's settled spend never exceeds its limit by more than
    /// the sum of `charged − reserved` over the leases that were in flight together when the
    /// budget admitted its last reservation — zero while no call uses more than it reserved
    /// (``RouterConfiguration/reservationHeadroomPercent`` pads input estimates for that).
    case budgetOverrun(BudgetOverrun)
    /// A lease was neither settled nor released within ``RouterConfiguration/leaseTimeToLive``;
    /// its reservation, concurrency slot and reserved tokens were returned.
    case leaseExpired(LeaseExpiry)
    /// The state store stopped taking writes; records are buffered (bounded) and retried.
    case storeUnavailable(StoreHealth)
    /// The state store took writes again; everything buffered meanwhile has been written.
    case storeRecovered(StoreHealth)
}

/// Details of a ``RouterEvent/budgetOverrun(_:)``.
public struct BudgetOverrun: Sendable, Hashable {
    /// The hard budget that was passed.
    public var budgetID: BudgetID
    /// The lease whose usage passed it.
    public var leaseID: UInt64
    /// What the lease reserved.
    public var reserved: Money
    /// What its real usage cost (more than `reserved`).
    public var charged: Money
    /// The budget's settled spend in the period after the charge (above `limit`).
    public var spent: Money
    /// The budget's limit.
    public var limit: Money
    /// When.
    public var at: Timestamp

    /// Creates an overrun record.
    public init(budgetID: BudgetID, leaseID: UInt64, reserved: Money, charged: Money, spent: Money, limit: Money, at: Timestamp) {
        self.budgetID = budgetID
        self.leaseID = leaseID
        self.reserved = reserved
        self.charged = charged
        self.spent = spent
        self.limit = limit
        self.at = at
    }
}

/// Details of a ``RouterEvent/leaseExpired(_:)``.
public struct LeaseExpiry: Sendable, Hashable {
    /// The reclaimed lease.
    public var leaseID: UInt64
    /// Its key.
    public var keyID: KeyID
    /// Its model.
    public var model: ModelRef
    /// The reservation returned to its budgets.
    public var reservedCost: Money
    /// When it was reclaimed.
    public var at: Timestamp

    /// Creates an expiry record.
    public init(leaseID: UInt64, keyID: KeyID, model: ModelRef, reservedCost: Money, at: Timestamp) {
        self.leaseID = leaseID
        self.keyID = keyID
        self.model = model
        self.reservedCost = reservedCost
        self.at = at
    }
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
