/// How a provider call failed, as reported to ``Router/release(_:failure:usage:)`` or thrown by an
/// `execute` operation. Each case has a defined effect on the key.
public enum ProviderFailure: Error, Sendable, Hashable, CustomStringConvertible {
    /// 429 or equivalent. The key is throttled for `retryAfter`, or with exponential backoff
    /// from ``RouterConfiguration/rateLimitBackoff`` when the provider gave no hint.
    case rateLimited(retryAfter: Duration?)
    /// Quota or billing exhausted. The key is exhausted until `resetAt`, or for
    /// ``RouterConfiguration/quotaResetFallback``.
    case quotaExhausted(resetAt: Timestamp?)
    /// The credential was rejected (401/403). The key becomes `invalid`.
    case authInvalid
    /// 5xx or overloaded. Counts against the key's reliability and circuit breaker.
    case serverError(status: Int)
    /// The call timed out. Counts against reliability and the circuit breaker.
    case timeout
    /// The caller gave up (task cancelled). No effect on the key.
    case cancelled
    /// The provider rejected the request itself (400, content policy, context too long): the
    /// key is fine and another key would fail the same way, so `execute` does not fail over.
    case rejected(status: Int, reason: String)

    /// Whether `execute` should try another key after this failure.
    public var isRetryable: Bool {
        switch self {
        case .rateLimited, .quotaExhausted, .authInvalid, .serverError, .timeout: true
        case .cancelled, .rejected: false
        }
    }

    /// A short label for metrics and logs.
    public var label: String {
        switch self {
        case .rateLimited: "rate_limited"
        case .quotaExhausted: "quota_exhausted"
        case .authInvalid: "auth_invalid"
        case .serverError: "server_error"
        case .timeout: "timeout"
        case .cancelled: "cancelled"
        case .rejected: "rejected"
        }
    }

    public var description: String {
        switch self {
        case .rateLimited(let after): "rate limited" + (after.map { " (retry after \($0))" } ?? "")
        case .quotaExhausted(let reset): "quota exhausted" + (reset.map { " (resets \($0))" } ?? "")
        case .authInvalid: "credential rejected"
        case .serverError(let status): "server error \(status)"
        case .timeout: "timeout"
        case .cancelled: "cancelled"
        case .rejected(let status, let reason): "rejected \(status): \(reason)"
        }
    }
}
