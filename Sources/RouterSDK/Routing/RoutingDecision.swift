/// Why a key was chosen, and (when asked for) what else was considered.
///
/// Building the explanation costs nothing until you read ``explanation``; the alternatives list
/// is only collected when ``RouteRequest/explain`` is set.
public struct RoutingDecision: Sendable, Hashable, CustomStringConvertible {
    /// One candidate the router looked at.
    public struct Alternative: Sendable, Hashable, CustomStringConvertible {
        /// The key.
        public var keyID: KeyID
        /// The model it would have served.
        public var model: ModelRef
        /// `nil` if it was eligible; otherwise why not.
        public var ineligibility: Ineligibility?
        /// The worst-case cost of the request on this candidate.
        public var cost: Money

        public var description: String {
            "\(keyID) \(model) \(cost): " + (ineligibility.map { "skipped (\($0))" } ?? "eligible")
        }
    }

    /// The strategy that decided.
    public let strategy: RoutingStrategy
    /// The chosen key.
    public let keyID: KeyID
    /// The chosen model.
    public let model: ModelRef
    /// The worst-case cost reserved.
    public let cost: Money
    /// How many candidates were passed over before the chosen one (0 on the fast path).
    public let skipped: Int
    /// Every candidate with its verdict, when the request asked to explain; else empty.
    public let alternatives: [Alternative]

    /// A one-line, human-readable reason.
    public var explanation: String {
        let why: String = switch strategy {
        case .cost: "cheapest eligible model (\(cost) worst case)"
        case .latency: "lowest moving-average latency"
        case .reliability: "highest moving-average success rate"
        case .leastUsed: "fewest requests in flight"
        case .roundRobin: "next in rotation"
        case .weightedRandom: "weighted random draw"
        case .priority: "highest priority available"
        }
        var text = "chose \(keyID) for \(model): \(why)"
        if skipped > 0 { text += "; passed over \(skipped) ineligible candidate(s)" }
        if !alternatives.isEmpty { text += "; considered \(alternatives.count)" }
        return text
    }

    public var description: String { explanation }
}

/// Why a candidate key could not take a request.
///
/// Extensible: a struct of named constants (like ``RouterError/Code``), so a later version can add values without breaking a `switch` — match the constants you handle and keep a `default`.
public struct Ineligibility: RawRepresentable, Sendable, Hashable, Codable, CaseIterable, CustomStringConvertible {
    /// The stable name, as logged, exported in metrics and stored.
    public var rawValue: String

    /// Wraps a name; values this version does not define compare unequal to every constant.
    public init(rawValue: String) {
        self.rawValue = rawValue
    }

    /// Throttled by a provider 429.
    public static let throttled = Ineligibility(rawValue: "throttled")
    /// Quota exhausted.
    public static let exhausted = Ineligibility(rawValue: "exhausted")
    /// Disabled by an operator.
    public static let disabled = Ineligibility(rawValue: "disabled")
    /// Credential invalid.
    public static let invalid = Ineligibility(rawValue: "invalid")
    /// At its requests-per-minute or per-day limit.
    public static let requestLimit = Ineligibility(rawValue: "requestLimit")
    /// Not enough tokens-per-minute capacity for this request.
    public static let tokenLimit = Ineligibility(rawValue: "tokenLimit")
    /// At its concurrency limit.
    public static let concurrencyLimit = Ineligibility(rawValue: "concurrencyLimit")
    /// Circuit breaker open after repeated failures.
    public static let circuitOpen = Ineligibility(rawValue: "circuitOpen")
    /// A hard budget would be exceeded.
    public static let budget = Ineligibility(rawValue: "budget")
    /// Excluded by the request's provider, key-tag or excluded-key filters.
    public static let filtered = Ineligibility(rawValue: "filtered")
    /// Needs a grant on its fleet-wide rate limits (``FleetRateLimits``) that the store has not
    /// given (yet): the fleet used the key's limit in the current window.
    public static let fleetRateLimit = Ineligibility(rawValue: "fleetRateLimit")

    public var description: String { rawValue }

    /// The values this version defines.
    public static let allCases: [Ineligibility] = [.throttled, .exhausted, .disabled, .invalid, .requestLimit, .tokenLimit, .concurrencyLimit, .circuitOpen, .budget, .filtered, .fleetRateLimit]
}

/// Why no key could serve a request: how many candidates fell to each reason.
public struct IneligibilityReport: Sendable, Hashable, CustomStringConvertible {
    /// Candidate count per reason.
    public var counts: [Ineligibility: Int]
    /// Candidates (key × model) examined.
    public var candidates: Int
    /// The earliest time a throttled, exhausted or rate-limited candidate becomes usable again.
    public var earliestRetry: Timestamp?
    /// The hard budget that blocked, if budgets were a reason.
    public var blockingBudget: BudgetID?

    /// Creates an empty report.
    public init(counts: [Ineligibility: Int] = [:], candidates: Int = 0, earliestRetry: Timestamp? = nil, blockingBudget: BudgetID? = nil) {
        self.counts = counts
        self.candidates = candidates
        self.earliestRetry = earliestRetry
        self.blockingBudget = blockingBudget
    }

    public var description: String {
        if candidates == 0 { return "no key is registered for the requested model(s)" }
        let parts = counts.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.value) \($0.key)" }
        var text = "\(candidates) candidate(s): " + parts.joined(separator: ", ")
        if let earliestRetry { text += "; earliest retry \(earliestRetry)" }
        return text
    }
}
