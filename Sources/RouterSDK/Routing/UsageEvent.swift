/// One settled (or released) request in the usage ledger: the source of truth for spend reports.
public struct UsageEvent: Sendable, Hashable, Codable {
    /// How the request ended.
    ///
    /// Extensible: a struct of named constants (like ``RouterError/Code``), so a later version can add values without breaking a `switch` — match the constants you handle and keep a `default`.
    public struct Outcome: RawRepresentable, Sendable, Hashable, Codable, CustomStringConvertible {
        /// The stable name, as logged, exported in metrics and stored.
        public var rawValue: String

        /// Wraps a name; values this version does not define compare unequal to every constant.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// Settled with usage.
        public static let success = Outcome(rawValue: "success")
        /// Released after a failure.
        public static let failure = Outcome(rawValue: "failure")

        public var description: String { rawValue }
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
