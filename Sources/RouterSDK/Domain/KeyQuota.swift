/// A forward-looking view of what a key may still do.
public struct KeyQuota: Sendable, Hashable {
    /// A coarse reading of remaining capacity.
    ///
    /// Extensible: a struct of named constants (like ``RouterError/Code``), so a later version can add values without breaking a `switch` — match the constants you handle and keep a `default`.
    public struct CapacityState: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The stable name, as logged, exported in metrics and stored.
        public var rawValue: String

        /// Wraps a name; values this version does not define compare unequal to every constant.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// More than half of the tightest limit left.
        public static let abundant = CapacityState(rawValue: "abundant")
        /// 20–50 % left.
        public static let constrained = CapacityState(rawValue: "constrained")
        /// Under 20 % left.
        public static let critical = CapacityState(rawValue: "critical")
        /// Nothing left, or the key is throttled/exhausted/disabled/invalid.
        public static let exhausted = CapacityState(rawValue: "exhausted")
        /// Was exhausted; capacity is coming back (cooldown over or window refilling).
        public static let recovering = CapacityState(rawValue: "recovering")

        public var description: String { rawValue }
    }

    /// The key.
    public var keyID: KeyID
    /// Its state.
    public var state: KeyState
    /// Requests left in the current minute window (`nil`: unlimited).
    public var remainingRequestsPerMinute: Int?
    /// Tokens left in the current minute window.
    public var remainingTokensPerMinute: Int?
    /// Requests left in the rolling day window.
    public var remainingRequestsPerDay: Int?
    /// Leases held now.
    public var inFlight: Int
    /// The coarse state.
    public var capacity: CapacityState
    /// When the daily request limit runs out at the current request rate (`nil`: not at this rate).
    public var predictedExhaustion: Timestamp?
    /// Requests routed to the key since registration.
    public var requests: Int
    /// Failed requests.
    public var failures: Int
    /// Exact spend through the key since registration.
    public var spend: Money
    /// Moving-average latency (`nil` until measured).
    public var averageLatency: Duration?
    /// Moving-average success rate in parts per million.
    public var successRatePPM: Int
    /// Models this key is rate-limited for alone (a provider's per-model limit), and until
    /// when; the key serves its other models meanwhile. Empty when none is.
    public var modelCooldowns: [ModelRef: Timestamp] = [:]

    /// Creates a quota view.
    public init(
        keyID: KeyID, state: KeyState, remainingRequestsPerMinute: Int?, remainingTokensPerMinute: Int?,
        remainingRequestsPerDay: Int?, inFlight: Int, capacity: CapacityState, predictedExhaustion: Timestamp?,
        requests: Int, failures: Int, spend: Money, averageLatency: Duration?, successRatePPM: Int
    ) {
        self.keyID = keyID
        self.state = state
        self.remainingRequestsPerMinute = remainingRequestsPerMinute
        self.remainingTokensPerMinute = remainingTokensPerMinute
        self.remainingRequestsPerDay = remainingRequestsPerDay
        self.inFlight = inFlight
        self.capacity = capacity
        self.predictedExhaustion = predictedExhaustion
        self.requests = requests
        self.failures = failures
        self.spend = spend
        self.averageLatency = averageLatency
        self.successRatePPM = successRatePPM
    }
}
