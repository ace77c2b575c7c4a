/// How a provider call failed, as reported to ``LLMRouter/release(_:failure:usage:logger:)`` or thrown by
/// an `execute` operation. Each kind has a defined effect on the key.
///
/// Extensible: a struct with a ``Kind`` code (like ``RouterError``) rather than an enum, so a
/// later version can add kinds without breaking a `switch` over ``kind``. Make one with the
/// static constructors (`.rateLimited(retryAfter:)`, `.authInvalid`, …).
public struct ProviderFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// Which failure; it decides the effect on the key.
    public struct Kind: RawRepresentable, Sendable, Hashable, CustomStringConvertible {
        /// The stable name, as logged and exported in metrics.
        public var rawValue: String

        /// Wraps a name; values this version does not define compare unequal to every constant.
        public init(rawValue: String) {
            self.rawValue = rawValue
        }

        /// 429 or equivalent. The key is throttled for ``ProviderFailure/retryAfter``, or with
        /// exponential backoff from ``RouterConfiguration/rateLimitBackoff`` without a hint —
        /// only for the lease's model when ``ProviderFailure/isModelScoped``.
        public static let rateLimited = Kind(rawValue: "rate_limited")
        /// Quota or billing exhausted. The key is exhausted until ``ProviderFailure/resetAt``, or
        /// for ``RouterConfiguration/quotaResetFallback``.
        public static let quotaExhausted = Kind(rawValue: "quota_exhausted")
        /// The credential was rejected (401/403). The key becomes `invalid` until its secret is
        /// rotated — also when a proxy in front of the provider relayed the 401 (the router
        /// cannot tell), so the transition's detail carries ``ProviderFailure/reason``, the
        /// provider's message, for an operator to tell.
        public static let authInvalid = Kind(rawValue: "auth_invalid")
        /// 5xx or overloaded (``ProviderFailure/status``). Counts against the key's reliability
        /// and circuit breaker.
        public static let serverError = Kind(rawValue: "server_error")
        /// The call timed out. Counts against reliability and the circuit breaker.
        public static let timeout = Kind(rawValue: "timeout")
        /// The caller gave up (task cancelled). No effect on the key.
        public static let cancelled = Kind(rawValue: "cancelled")
        /// The provider rejected the request itself (400, content policy, context too long;
        /// ``ProviderFailure/status`` and ``ProviderFailure/reason``): the key is fine and another
        /// key would fail the same way, so `execute` does not fail over.
        public static let rejected = Kind(rawValue: "rejected")

        public var description: String { rawValue }
    }

    /// Which failure.
    public var kind: Kind
    /// For `rateLimited`: the provider's retry hint, if it gave one.
    public var retryAfter: Duration?
    /// For `quotaExhausted`: when the quota resets, if the provider said.
    public var resetAt: Timestamp?
    /// For `serverError` and `rejected`: the HTTP status.
    public var status: Int?
    /// For `rejected`: why; for `authInvalid`: the provider's message, when known (never the
    /// secret).
    public var reason: String?
    /// For `rateLimited`: the limit is the provider's per-model limit, so the key cools down for
    /// the lease's model only and stays available for its other models.
    public var isModelScoped: Bool

    private init(_ kind: Kind, retryAfter: Duration? = nil, resetAt: Timestamp? = nil, status: Int? = nil, reason: String? = nil, isModelScoped: Bool = false) {
        self.kind = kind
        self.retryAfter = retryAfter
        self.resetAt = resetAt
        self.status = status
        self.reason = reason
        self.isModelScoped = isModelScoped
    }

    /// 429 or equivalent, with the provider's retry hint if any; `modelScoped` when the
    /// provider's limit is per model (only the lease's model cools down on the key).
    public static func rateLimited(retryAfter: Duration?, modelScoped: Bool = false) -> ProviderFailure {
        ProviderFailure(.rateLimited, retryAfter: retryAfter, isModelScoped: modelScoped)
    }
    /// Quota or billing exhausted, with the reset time if known.
    public static func quotaExhausted(resetAt: Timestamp?) -> ProviderFailure { ProviderFailure(.quotaExhausted, resetAt: resetAt) }
    /// The credential was rejected.
    public static let authInvalid = ProviderFailure(.authInvalid)
    /// The credential was rejected, with the provider's message (kept in the key's transition).
    public static func authInvalid(reason: String) -> ProviderFailure { ProviderFailure(.authInvalid, reason: reason) }
    /// 5xx or overloaded.
    public static func serverError(status: Int) -> ProviderFailure { ProviderFailure(.serverError, status: status) }
    /// The call timed out.
    public static let timeout = ProviderFailure(.timeout)
    /// The caller gave up.
    public static let cancelled = ProviderFailure(.cancelled)
    /// The provider rejected the request itself.
    public static func rejected(status: Int, reason: String) -> ProviderFailure { ProviderFailure(.rejected, status: status, reason: reason) }

    /// Whether `execute` should try another key after this failure.
    public var isRetryable: Bool {
        switch kind {
        case .rateLimited, .quotaExhausted, .authInvalid, .serverError, .timeout: true
        default: false
        }
    }

    /// A short label for metrics and logs.
    public var label: String { kind.rawValue }

    public var description: String {
        switch kind {
        case .rateLimited: "rate limited" + (retryAfter.map { " (retry after \($0))" } ?? "")
        case .quotaExhausted: "quota exhausted" + (resetAt.map { " (resets \($0))" } ?? "")
        case .authInvalid: "credential rejected"
        case .serverError: "server error \(status ?? 500)"
        case .rejected: "rejected \(status ?? 400): \(reason ?? "")"
        default: kind.rawValue
        }
    }
}
