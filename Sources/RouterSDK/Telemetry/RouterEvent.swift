/// Something an app may want to react to, delivered through ``LLMRouter/events()``.
///
/// Extensible: a struct with a ``Kind`` code (like ``RouterError``) rather than an enum, so a
/// later version can add kinds of events without breaking a `switch`. Match the kinds you handle
/// and read their details from the property the kind documents:
///
/// ```swift
/// for await event in await router.events() {
///     switch event.kind {
///     case .budgetExhausted: page(event.budgetAlert!)
///     case .keyStateChanged where event.transition?.to == .invalid: rotate(event.transition!.keyID)
///     default: break
///     }
/// }
/// ```
public struct RouterEvent: Sendable, Hashable, CustomStringConvertible {
    /// What happened.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The stable name, as logged.
        public var rawValue: String

        /// Wraps a name; values this version does not define compare unequal to every constant.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// A key changed state (audited transition): ``RouterEvent/transition``.
        public static let keyStateChanged = Kind(rawValue: "keyStateChanged")
        /// Settled spend crossed an alert threshold of a budget (once per threshold per period):
        /// ``RouterEvent/budgetAlert``.
        public static let budgetThresholdCrossed = Kind(rawValue: "budgetThresholdCrossed")
        /// A hard budget refused a reservation, or a soft budget's spend passed its limit:
        /// ``RouterEvent/budgetAlert``.
        public static let budgetExhausted = Kind(rawValue: "budgetExhausted")
        /// A key will run out of its daily requests at the current rate before the warning
        /// horizon: ``RouterEvent/keyID`` and ``RouterEvent/at`` (when).
        public static let exhaustionPredicted = Kind(rawValue: "exhaustionPredicted")
        /// `execute` moved from a failed key to another attempt: ``RouterEvent/failover``.
        public static let failover = Kind(rawValue: "failover")
        /// A key's circuit breaker opened after repeated failures: ``RouterEvent/keyID`` and
        /// ``RouterEvent/at`` (until when).
        public static let circuitOpened = Kind(rawValue: "circuitOpened")
        /// A provider rate-limited one model on a key (a per-model limit): that key is out for
        /// that model only, until a time; its other models stay available. ``RouterEvent/keyID``,
        /// ``RouterEvent/model`` and ``RouterEvent/at`` (until when).
        public static let modelThrottled = Kind(rawValue: "modelThrottled")
        /// A call used more than its lease reserved and took a hard budget past its limit:
        /// ``RouterEvent/overrun``. The excess was charged; the budget admits nothing more until
        /// it is back under its limit.
        ///
        /// The bound this gives: a hard budget's settled spend never exceeds its limit by more
        /// than the sum of `charged − reserved` over the leases that were in flight together when
        /// the budget admitted its last reservation — zero while no call uses more than it
        /// reserved (``RouterConfiguration/reservationHeadroomPercent`` pads input estimates).
        public static let budgetOverrun = Kind(rawValue: "budgetOverrun")
        /// A lease was neither settled nor released within ``RouterConfiguration/leaseTimeToLive``;
        /// its reservation, concurrency slot and reserved tokens were returned:
        /// ``RouterEvent/leaseExpiry``.
        public static let leaseExpired = Kind(rawValue: "leaseExpired")
        /// The state store stopped taking writes; records are buffered (bounded) and retried:
        /// ``RouterEvent/storeHealth``.
        public static let storeUnavailable = Kind(rawValue: "storeUnavailable")
        /// The state store took writes again; everything buffered meanwhile has been written:
        /// ``RouterEvent/storeHealth``.
        public static let storeRecovered = Kind(rawValue: "storeRecovered")

        public var description: String { rawValue }
    }

    /// What happened; it says which of the properties below are set.
    public var kind: Kind
    /// For `keyStateChanged`.
    public var transition: KeyTransition?
    /// For `budgetThresholdCrossed` and `budgetExhausted`.
    public var budgetAlert: BudgetAlert?
    /// For `exhaustionPredicted` and `circuitOpened`: the key.
    public var keyID: KeyID?
    /// For `exhaustionPredicted`: when the key runs out; for `circuitOpened`: until when it is open.
    public var at: Timestamp?
    /// For `modelThrottled`: the model the key is out for.
    public var model: ModelRef?
    /// For `failover`.
    public var failover: Failover?
    /// For `budgetOverrun`.
    public var overrun: BudgetOverrun?
    /// For `leaseExpired`.
    public var leaseExpiry: LeaseExpiry?
    /// For `storeUnavailable` and `storeRecovered`.
    public var storeHealth: StoreHealth?

    /// Creates an event of `kind` with no details; set the property the kind documents.
    public init(kind: Kind) {
        self.kind = kind
    }

    /// A `keyStateChanged` event.
    public static func keyStateChanged(_ transition: KeyTransition) -> RouterEvent {
        var event = RouterEvent(kind: .keyStateChanged)
        event.transition = transition
        return event
    }

    /// A `budgetThresholdCrossed` event.
    public static func budgetThresholdCrossed(_ alert: BudgetAlert) -> RouterEvent {
        var event = RouterEvent(kind: .budgetThresholdCrossed)
        event.budgetAlert = alert
        return event
    }

    /// A `budgetExhausted` event.
    public static func budgetExhausted(_ alert: BudgetAlert) -> RouterEvent {
        var event = RouterEvent(kind: .budgetExhausted)
        event.budgetAlert = alert
        return event
    }

    /// An `exhaustionPredicted` event.
    public static func exhaustionPredicted(keyID: KeyID, at: Timestamp) -> RouterEvent {
        var event = RouterEvent(kind: .exhaustionPredicted)
        event.keyID = keyID
        event.at = at
        return event
    }

    /// A `failover` event.
    public static func failover(_ failover: Failover) -> RouterEvent {
        var event = RouterEvent(kind: .failover)
        event.failover = failover
        return event
    }

    /// A `circuitOpened` event.
    public static func circuitOpened(keyID: KeyID, until: Timestamp) -> RouterEvent {
        var event = RouterEvent(kind: .circuitOpened)
        event.keyID = keyID
        event.at = until
        return event
    }

    /// A `modelThrottled` event.
    public static func modelThrottled(keyID: KeyID, model: ModelRef, until: Timestamp) -> RouterEvent {
        var event = RouterEvent(kind: .modelThrottled)
        event.keyID = keyID
        event.model = model
        event.at = until
        return event
    }

    /// A `budgetOverrun` event.
    public static func budgetOverrun(_ overrun: BudgetOverrun) -> RouterEvent {
        var event = RouterEvent(kind: .budgetOverrun)
        event.overrun = overrun
        return event
    }

    /// A `leaseExpired` event.
    public static func leaseExpired(_ expiry: LeaseExpiry) -> RouterEvent {
        var event = RouterEvent(kind: .leaseExpired)
        event.leaseExpiry = expiry
        return event
    }

    /// A `storeUnavailable` event.
    public static func storeUnavailable(_ health: StoreHealth) -> RouterEvent {
        var event = RouterEvent(kind: .storeUnavailable)
        event.storeHealth = health
        return event
    }

    /// A `storeRecovered` event.
    public static func storeRecovered(_ health: StoreHealth) -> RouterEvent {
        var event = RouterEvent(kind: .storeRecovered)
        event.storeHealth = health
        return event
    }

    public var description: String {
        let detail: String? = switch kind {
        case .keyStateChanged: transition.map { "\($0.keyID) \($0.from) → \($0.to) (\($0.reason))" }
        case .budgetThresholdCrossed, .budgetExhausted: budgetAlert.map { "\($0.budgetID) \($0.percent)% (\($0.spent) of \($0.limit))" }
        case .exhaustionPredicted, .circuitOpened: keyID.map { "\($0) at \(at.map(String.init(describing:)) ?? "?")" }
        case .modelThrottled: keyID.map { "\($0) for \(model.map(String.init(describing:)) ?? "?") until \(at.map(String.init(describing:)) ?? "?")" }
        case .failover: failover.map { "from \($0.from) after \($0.failure)" }
        case .budgetOverrun: overrun.map { "\($0.budgetID) \($0.spent) of \($0.limit)" }
        case .leaseExpired: leaseExpiry.map { "lease \($0.leaseID) on \($0.keyID)" }
        case .storeUnavailable, .storeRecovered: storeHealth.map { "\($0.bufferedRecords) buffered" }
        default: nil
        }
        return detail.map { "\(kind)(\($0))" } ?? kind.rawValue
    }
}

/// Details of a ``RouterEvent/Kind/budgetOverrun`` event.
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

/// Details of a ``RouterEvent/Kind/leaseExpired`` event.
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
