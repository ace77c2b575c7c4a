/// What a provider's headers say about a key's remaining capacity.
public struct ProviderRateLimits: Sendable, Hashable {
    /// Requests left in the current window.
    public var remainingRequests: Int?
    /// Tokens left in the current window.
    public var remainingTokens: Int?
    /// When the request window resets, from now.
    public var requestsReset: Duration?
    /// When the token window resets, from now.
    public var tokensReset: Duration?

    /// Creates a reading.
    public init(remainingRequests: Int? = nil, remainingTokens: Int? = nil, requestsReset: Duration? = nil, tokensReset: Duration? = nil) {
        self.remainingRequests = remainingRequests
        self.remainingTokens = remainingTokens
        self.requestsReset = requestsReset
        self.tokensReset = tokensReset
    }

    /// How long the key has nothing left, if the headers say so: the reset of whichever of
    /// requests or tokens is at zero (the later one if both are).
    public var exhaustedFor: Duration? {
        var wait: Duration?
        if remainingRequests == 0, let reset = requestsReset { wait = reset }
        if remainingTokens == 0, let reset = tokensReset { wait = max(wait ?? .zero, reset) }
        return wait
    }
}
