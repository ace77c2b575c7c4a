/// A provider call that failed, classified from its status, headers and body.
///
/// ``Router/execute(_:options:operation:)`` understands it (through
/// ``ProviderFailureConvertible``): its ``failure`` drives the key's transition and whether
/// another key is tried; ``ChatClient`` also uses ``triggersFallback`` to move down a fallback
/// chain.
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible, ProviderFailureConvertible {
    /// The classes of failure every adapter maps its provider's errors to.
    public enum Kind: String, Sendable, Hashable, CaseIterable {
        /// 429: too many requests or tokens for now.
        case rateLimited = "rate_limited"
        /// Out of quota or credit (billing).
        case quotaExhausted = "quota_exhausted"
        /// The key was rejected (401/403, or Gemini's invalid-key 400).
        case authInvalid = "auth_invalid"
        /// The provider does not know the model (or this key may not use it).
        case modelNotFound = "model_not_found"
        /// The prompt is longer than the model's context.
        case contextTooLong = "context_too_long"
        /// Refused by the provider's content policy.
        case contentPolicy = "content_policy"
        /// The provider is overloaded (503, Anthropic's 529).
        case overloaded
        /// Another 5xx.
        case serverError = "server_error"
        /// No answer in time.
        case timeout
        /// No connection, or it broke before the answer was complete.
        case connection
        /// The answer was not what the wire format promises (bad JSON, truncated stream, not UTF-8).
        case malformedResponse = "malformed_response"
        /// The answer passed the configured size limit.
        case responseTooLarge = "response_too_large"
        /// Another 4xx: the request itself is wrong.
        case badRequest = "bad_request"
    }

    /// The class.
    public var kind: Kind
    /// The HTTP status, when there was one.
    public var status: Int?
    /// The provider's message: once a ``ChatClient`` attributes it to a lease, scrubbed of the
    /// key's secret and then cut to ``maximumMessageLength`` characters.
    public var message: String
    /// How long the provider asked to wait (`retry-after`, Gemini's `retryDelay`).
    public var retryAfter: Duration?
    /// The model that was called, when known.
    public var model: ModelRef?
    /// The key that was used, when known.
    public var keyID: KeyID?
    /// Tokens the call used before it failed (a stream that broke mid-way), charged on release.
    public var partialUsage: Usage?
    /// Whether a stream had already delivered content (then no other key or model is tried).
    var streamStarted = false

    /// Creates an error.
    public init(_ kind: Kind, status: Int? = nil, message: String, retryAfter: Duration? = nil, model: ModelRef? = nil, keyID: KeyID? = nil) {
        self.kind = kind
        self.status = status
        // Kept long enough here for the secret to be scrubbed before the final cut (`ChatClient`
        // does both); bounded so a huge error body cannot make a huge error.
        self.message = message.count > 8_192 ? String(message.prefix(8_192)) + "…" : message
        self.retryAfter = retryAfter
        self.model = model
        self.keyID = keyID
    }

    /// The longest message an attributed error carries, in characters (plus an ellipsis).
    public static let maximumMessageLength = 500

    static func truncated(_ message: String) -> String {
        message.count > maximumMessageLength ? String(message.prefix(maximumMessageLength)) + "…" : message
    }

    /// What this failure does to the key, and whether another key is tried.
    public var failure: ProviderFailure {
        switch kind {
        case .rateLimited: .rateLimited(retryAfter: retryAfter)
        case .quotaExhausted: .quotaExhausted(resetAt: nil)
        case .authInvalid: .authInvalid
        case .overloaded, .serverError: .serverError(status: status ?? 500)
        // A broken answer counts against the key's reliability; another key may answer well.
        case .malformedResponse: .serverError(status: status ?? 502)
        case .timeout, .connection: .timeout
        case .modelNotFound, .contextTooLong, .contentPolicy, .responseTooLarge, .badRequest: .rejected(status: status ?? 400, reason: kind.rawValue)
        }
    }

    /// Whether a fallback model should be tried: another key of the same model would fail alike.
    public var triggersFallback: Bool {
        switch kind {
        case .modelNotFound, .contextTooLong, .contentPolicy: true
        default: false
        }
    }

    public var description: String {
        var text = "\(kind.rawValue)"
        if let status { text += " (\(status))" }
        if let model { text += " from \(model)" }
        if let keyID { text += " with key \(keyID)" }
        if let retryAfter { text += ", retry after \(retryAfter)" }
        return message.isEmpty ? text : text + ": " + message
    }
}

/// An error that says what it means for the key that was used; ``Router/execute(_:options:operation:)``
/// applies ``providerFailure`` to the key, fails over when it is retryable and otherwise rethrows
/// the error itself (so callers keep its details).
public protocol ProviderFailureConvertible: Error {
    /// The effect on the key.
    var providerFailure: ProviderFailure { get }
}

/// An error that reports tokens already used before the failure, so they are charged.
public protocol PartialUsageCarrying: Error {
    /// The tokens used, if any.
    var partialUsage: Usage? { get }
}

extension ProviderError: PartialUsageCarrying {}

extension ProviderError {
    public var providerFailure: ProviderFailure { failure }
}

extension ProviderFailure: ProviderFailureConvertible {
    public var providerFailure: ProviderFailure { self }
}
