/// A routing decision recorded in the audit log (every Nth decision, see
/// ``RouterConfiguration/decisionSampleInterval``).
public struct DecisionSample: Sendable, Hashable, Codable {
    /// The lease id.
    public var leaseID: UInt64
    /// The chosen key.
    public var keyID: KeyID
    /// The chosen model.
    public var model: ModelRef
    /// The strategy.
    public var strategy: RoutingStrategy
    /// The worst-case cost reserved.
    public var reservedCost: Money
    /// The human-readable explanation.
    public var explanation: String
    /// When it was decided.
    public var at: Timestamp

    /// Creates a sample.
    public init(leaseID: UInt64, keyID: KeyID, model: ModelRef, strategy: RoutingStrategy, reservedCost: Money, explanation: String, at: Timestamp) {
        self.leaseID = leaseID
        self.keyID = keyID
        self.model = model
        self.strategy = strategy
        self.reservedCost = reservedCost
        self.explanation = explanation
        self.at = at
    }
}
