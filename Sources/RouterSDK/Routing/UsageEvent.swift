/// One settled (or released) request in the usage ledger: the source of truth for spend reports.
public struct UsageEvent: Sendable, Hashable, Codable {
    /// How the request ended.
    public enum Outcome: String, Sendable, Hashable, Codable {
        /// Settled with usage.
        case success
        /// Released after a failure.
        case failure
    }

    /// The lease that produced it.
    public var leaseID: UInt64
    /// The key.
    public var keyID: KeyID
    /// The model and its provider.
    public var model: ModelRef
    /// Input tokens.
    public var inputTokens: Int
    /// Output tokens.
    public var outputTokens: Int
    /// The exact cost charged.
    public var cost: Money
    /// Provider latency, if measured.
    public var latencyNanoseconds: Int64?
    /// Success or failure.
    public var outcome: Outcome
    /// The failure label (``ProviderFailure/label``) for failures.
    public var failure: String?
    /// The request's attribution tags.
    public var tags: [String]
    /// When it was settled.
    public var at: Timestamp

    /// Creates a usage event.
    public init(
        leaseID: UInt64, keyID: KeyID, model: ModelRef, inputTokens: Int, outputTokens: Int, cost: Money,
        latencyNanoseconds: Int64?, outcome: Outcome, failure: String?, tags: [String], at: Timestamp
    ) {
        self.leaseID = leaseID
        self.keyID = keyID
        self.model = model
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cost = cost
        self.latencyNanoseconds = latencyNanoseconds
        self.outcome = outcome
        self.failure = failure
        self.tags = tags
        self.at = at
    }
}
