/// A spending limit over a scope and a period, in exact integer money.
///
/// Before a request, the router reserves its worst-case cost against every budget that applies,
/// all or nothing; a `hard` budget rejects a reservation that would take spent + reserved past
/// the limit, a `soft` one lets it through and emits ``RouterEvent/Kind/budgetExhausted``.
/// ``alertThresholds`` (percent of the limit) emit ``RouterEvent/Kind/budgetThresholdCrossed``
/// once per period when settled spend crosses them.
public struct Budget: Sendable, Hashable, Codable {
    /// What spend a budget counts.
    ///
    /// Frozen: new groupings are expressed with `tag`, so this set does not grow in 1.x.
    public enum Scope: Sendable, Hashable, Codable, CustomStringConvertible {
        /// Every request.
        case global
        /// Requests to one provider.
        case provider(ProviderID)
        /// Requests through one key.
        case key(KeyID)
        /// Requests to one model name (at any provider).
        case model(String)
        /// Requests carrying a tag (a tenant, team or end-user id) in ``RouteRequest/tags``.
        case tag(String)

        public var description: String {
            switch self {
            case .global: "global"
            case .provider(let provider): "provider:\(provider)"
            case .key(let key): "key:\(key)"
            case .model(let model): "model:\(model)"
            case .tag(let tag): "tag:\(tag)"
            }
        }
    }

    /// The period over which spend accumulates; calendar-aligned in UTC.
    ///
    /// Frozen: the calendar periods and `total`; stores persist them by name.
    public enum Period: String, Sendable, Hashable, Codable, CaseIterable {
        /// Each UTC minute.
        case minute
        /// Each UTC hour.
        case hour
        /// Each UTC day.
        case day
        /// Each UTC calendar month.
        case month
        /// Forever.
        case total
    }

    /// Whether exceeding the limit rejects requests.
    ///
    /// Frozen: hard or soft.
    public enum Enforcement: String, Sendable, Hashable, Codable {
        /// Reject requests whose worst-case cost would pass the limit.
        case hard
        /// Allow them, but emit events and log a warning.
        case soft
    }

    /// The budget's id.
    public var id: BudgetID
    /// What it counts.
    public var scope: Scope
    /// Over what period.
    public var period: Period
    /// The limit per period (≥ 0; a hard zero budget blocks every paid request).
    public var limit: Money
    /// Hard or soft.
    public var enforcement: Enforcement
    /// Percentages of the limit (1...1000) at which to alert, e.g. `[50, 80, 100]`.
    public var alertThresholds: [Int]
    /// The operator's revision of this definition (≥ 0), or `nil`.
    ///
    /// Give every budget in your configuration a revision and raise it with each change, and
    /// replicas running different configurations at once (a rolling deploy, an old replica
    /// restarted) agree on the newest: ``LLMRouter/setBudget(_:)`` replaces a stored definition
    /// of a lower revision and refuses one of a higher revision — the router follows the stored
    /// definition instead. Without revisions the store's versions alone decide (see
    /// ``LLMRouter/setBudget(_:)``). The store's ``StoredBudget/version`` counts saves; this
    /// counts your configuration's changes.
    public var revision: Int?

    /// Creates a budget.
    public init(
        id: BudgetID, scope: Scope = .global, period: Period, limit: Money,
        enforcement: Enforcement = .hard, alertThresholds: [Int] = [50, 80, 100], revision: Int? = nil
    ) {
        self.id = id
        self.scope = scope
        self.period = period
        self.limit = limit
        self.enforcement = enforcement
        self.alertThresholds = alertThresholds
        self.revision = revision
    }

    /// Throws a typed error for an empty id, a negative limit or out-of-range thresholds.
    package func validate() throws(RouterError) {
        guard !id.rawValue.isEmpty else { throw RouterError(.invalidArgument, "a budget needs a non-empty id") }
        guard limit >= .zero else {
            throw RouterError(.invalidLimits, "limit of budget '\(id)' must not be negative, got \(limit)", budgetID: id)
        }
        for threshold in alertThresholds where threshold < 1 || threshold > 1000 {
            throw RouterError(.invalidArgument, "alert thresholds of budget '\(id)' must be 1...1000 percent, got \(threshold)", budgetID: id)
        }
        if let revision, revision < 0 {
            throw RouterError(.invalidArgument, "the revision of budget '\(id)' must not be negative, got \(revision)", budgetID: id)
        }
    }
}

extension Budget.Period {
    /// The UTC period containing `instant`, as `[start, end)` in milliseconds since the epoch.
    /// `total` spans all time.
    func bounds(containing instant: Int64) -> (start: Int64, end: Int64) {
        switch self {
        case .minute: return aligned(instant, 60_000)
        case .hour: return aligned(instant, 3_600_000)
        case .day: return aligned(instant, 86_400_000)
        case .total: return (.min, .max)
        case .month:
            let civil = CivilDate(daysSinceEpoch: instant.floorDivided(by: 86_400_000))
            let first = CivilDate(year: civil.year, month: civil.month, day: 1)
            return (first.daysSinceEpoch * 86_400_000, first.firstOfNextMonth.daysSinceEpoch * 86_400_000)
        }
    }

    private func aligned(_ instant: Int64, _ length: Int64) -> (start: Int64, end: Int64) {
        let start = instant.floorDivided(by: length) * length
        return (start, start + length)
    }
}
