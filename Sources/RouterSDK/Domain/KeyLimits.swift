/// Per-key rate limits, enforced when a key is chosen. `nil` means unlimited.
///
/// Minute and day limits are continuous-refill windows (GCRA, a leaky bucket with a burst equal
/// to the limit, at millisecond resolution): a key with `requestsPerMinute: 60` may take 60
/// requests at once and then one more every second, and never more than 60 in any 60 seconds.
/// Tokens are reserved at the request's worst case (input estimate + max output) and corrected to
/// the real usage on settle. `maxConcurrentRequests` caps leases held at once.
///
/// These windows are each router instance's own. In fleet mode (``FleetBudgets/rateLimits``) the
/// minute and day limits are also the fleet's: instances on one store together stay within them
/// (``FleetRateLimits``). `maxConcurrentRequests` stays per instance.
public struct KeyLimits: Sendable, Hashable, Codable {
    /// Requests per minute.
    public var requestsPerMinute: Int?
    /// Tokens (input + output) per minute.
    public var tokensPerMinute: Int?
    /// Requests per day (a rolling 24-hour window).
    public var requestsPerDay: Int?
    /// Leases held at once.
    public var maxConcurrentRequests: Int?

    /// The largest limit accepted (keeps window arithmetic exact in 64 bits).
    public static let maximum = 1_000_000_000

    /// No limits.
    public static let unlimited = KeyLimits()

    /// Creates limits; `nil` means unlimited.
    public init(requestsPerMinute: Int? = nil, tokensPerMinute: Int? = nil, requestsPerDay: Int? = nil, maxConcurrentRequests: Int? = nil) {
        self.requestsPerMinute = requestsPerMinute
        self.tokensPerMinute = tokensPerMinute
        self.requestsPerDay = requestsPerDay
        self.maxConcurrentRequests = maxConcurrentRequests
    }

    /// Throws ``RouterError/Code/invalidLimits`` when a limit is zero, negative or above ``maximum``.
    package func validate(keyID: KeyID? = nil) throws(RouterError) {
        let fields: [(String, Int?)] = [
            ("requestsPerMinute", requestsPerMinute), ("tokensPerMinute", tokensPerMinute),
            ("requestsPerDay", requestsPerDay), ("maxConcurrentRequests", maxConcurrentRequests),
        ]
        for (name, value) in fields {
            if let value, value <= 0 || value > Self.maximum {
                throw RouterError(.invalidLimits, "\(name) must be between 1 and \(Self.maximum), got \(value)", keyID: keyID)
            }
        }
    }
}
