/// A provider call that failed, classified from its status, headers and body.
///
/// ``LLMRouter/execute(_:options:logger:operation:)`` understands it (through
/// ``ProviderFailureConvertible``): its ``failure`` drives the key's transition and whether
/// another key is tried; `ChatClient` also uses ``triggersFallback`` to move down a fallback
/// chain.
public struct ProviderError: Error, Sendable, Hashable, CustomStringConvertible, ProviderFailureConvertible {
    /// The classes of failure every adapter maps its provider's errors to.
    ///
    /// Extensible: a struct of named constants (like ``RouterError/Code``), so a later version can add values without breaking a `switch` — match the constants you handle and keep a `default`.
    public struct Kind: RawRepresentable, Sendable, Hashable, CaseIterable, CustomStringConvertible {
        /// The stable name, as logged, exported in metrics and stored.
        public var rawValue: String

        /// Wraps a name; values this version does not define compare unequal to every constant.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// 429: too many requests or tokens for now.
        public static let rateLimited = Kind(rawValue: "rate_limited")
        /// Out of quota or credit (billing).
        public static let quotaExhausted = Kind(rawValue: "quota_exhausted")
        /// The key was rejected (401/403, or Gemini's invalid-key 400).
        public static let authInvalid = Kind(rawValue: "auth_invalid")
        /// The provider does not know the model (or this key may not use it).
        public static let modelNotFound = Kind(rawValue: "model_not_found")
        /// The prompt is longer than the model's context.
        public static let contextTooLong = Kind(rawValue: "context_too_long")
        /// Refused by the provider's content policy.
        public static let contentPolicy = Kind(rawValue: "content_policy")
        /// The provider is overloaded (503, Anthropic's 529).
        public static let overloaded = Kind(rawValue: "overloaded")
        /// Another 5xx.
        public static let serverError = Kind(rawValue: "server_error")
        /// No answer in time.
        public static let timeout = Kind(rawValue: "timeout")
        /// No connection, or it broke before the answer was complete.
        public static let connection = Kind(rawValue: "connection")
        /// The answer was not what the wire format promises (bad JSON, truncated stream, not UTF-8).
        public static let malformedResponse = Kind(rawValue: "malformed_response")
        /// The answer passed the configured size limit.
        public static let responseTooLarge = Kind(rawValue: "response_too_large")
        /// Another 4xx: the request itself is wrong.
        public static let badRequest = Kind(rawValue: "bad_request")

        /// The values this version defines.
        public static let allCases: [Kind] = [.rateLimited, .quotaExhausted, .authInvalid, .modelNotFound, .contextTooLong, .contentPolicy, .overloaded, .serverError, .timeout, .connection, .malformedResponse, .responseTooLarge, .badRequest]

        public var description: String { rawValue }
    }

    /// The class.
    public var kind: Kind
    /// The HTTP status, when there was one.
    public var status: Int?
    /// The provider's message: once a `ChatClient` attributes it to a lease, scrubbed of the
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
    package var streamStarted = false
    /// For `rateLimited`: the provider's limit is per model (OpenAI's "Rate limit reached for
    /// gpt-4o-mini …", Gemini's `…PerModel` quotas), so only this key's use of ``model`` cools
    /// down and a fallback to another model may use the same key.
    public var isModelScoped = false

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

    package static func truncated(_ message: String) -> String {
        message.count > maximumMessageLength ? String(message.prefix(maximumMessageLength)) + "…" : message
    }

    /// What this failure does to the key, and whether another key is tried.
    public var failure: ProviderFailure {
        switch kind {
        case .rateLimited: .rateLimited(retryAfter: retryAfter, modelScoped: isModelScoped)
        case .quotaExhausted: .quotaExhausted(resetAt: nil)
        // The provider's message goes with it into the key's audited transition.
        case .authInvalid: .authInvalid(reason: status.map { "\($0): \(message)" } ?? message)
        case .overloaded, .serverError: .serverError(status: status ?? 500)
        // A broken answer counts against the key's reliability; another key may answer well.
        case .malformedResponse: .serverError(status: status ?? 502)
        case .timeout, .connection: .timeout
        // modelNotFound, contextTooLong, contentPolicy, responseTooLarge, badRequest: the
        // request itself is refused.
        default: .rejected(status: status ?? 400, reason: kind.rawValue)
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

/// An error that says what it means for the key that was used; ``LLMRouter/execute(_:options:logger:operation:)``
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
