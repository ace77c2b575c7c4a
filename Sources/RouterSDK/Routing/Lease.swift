/// What a routing decision hands the caller: the key to use and the reservations held for it.
///
/// Settle it exactly once with ``LLMRouter/settle(_:usage:logger:)`` or release it with
/// ``LLMRouter/release(_:failure:usage:logger:)``; a second settle or release throws
/// ``RouterError/Code/leaseNotActive``. Printing a lease never shows the secret.
public struct Lease: Sendable, Hashable, CustomStringConvertible {
    /// Unique per router.
    public let id: UInt64
    /// The chosen key.
    public let keyID: KeyID
    /// The chosen model (and its provider).
    public let model: ModelRef
    /// The secret to call the provider with.
    public let secret: Secret
    /// The worst-case cost reserved against budgets.
    public let reservedCost: Money
    /// Tokens reserved against the key's TPM limit.
    public let reservedTokens: Int
    /// When the lease was issued.
    public let issuedAt: Timestamp
    /// Why this key was chosen.
    public let decision: RoutingDecision

    init(id: UInt64, keyID: KeyID, model: ModelRef, secret: Secret, reservedCost: Money, reservedTokens: Int, issuedAt: Timestamp, decision: RoutingDecision) {
        self.id = id
        self.keyID = keyID
        self.model = model
        self.secret = secret
        self.reservedCost = reservedCost
        self.reservedTokens = reservedTokens
        self.issuedAt = issuedAt
        self.decision = decision
    }

    /// The provider of the chosen model.
    public var provider: ProviderID { model.provider }

    public var description: String { "Lease #\(id) key \(keyID) \(model) reserved \(reservedCost)" }
}
