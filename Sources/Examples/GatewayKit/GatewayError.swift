public import HTTPTypes
public import RouterSDK
internal import RouterChat

/// A request the gateway answers with an error: the HTTP status, the error's kind and message
/// as the caller's API spells them, and how long to wait before retrying, if that is known.
public struct GatewayError: Error, Sendable, Hashable {
    /// The kind, in OpenAI's vocabulary (`invalid_request_error`, `authentication_error`,
    /// `not_found_error`, `rate_limit_error`, `api_error`, …); other formats map from it.
    public var type: String
    /// A machine-readable code (`model_not_found`, `budget_exceeded`, …), if any.
    public var code: String?
    /// The message for the caller. Never carries a secret: it is built from a `RouterError`'s
    /// message, which never does, or from the gateway's own text.
    public var message: String
    /// The HTTP status.
    public var status: HTTPResponse.Status
    /// The request member at fault, if any.
    public var parameter: String?
    /// Seconds after which a retry may succeed (`retry-after`), if known.
    public var retryAfterSeconds: Int?

    /// Creates an error answer.
    public init(
        _ status: HTTPResponse.Status, type: String, code: String? = nil, _ message: String, parameter: String? = nil, retryAfterSeconds: Int? = nil
    ) {
        self.status = status
        self.type = type
        self.code = code
        self.message = message
        self.parameter = parameter
        self.retryAfterSeconds = retryAfterSeconds
    }

    /// A malformed or unsupported request (400).
    public static func invalidRequest(_ message: String, parameter: String? = nil) -> GatewayError {
        GatewayError(.badRequest, type: "invalid_request_error", message, parameter: parameter)
    }

    /// How a router or provider failure reaches the caller. `retryAt` is when a retry may
    /// succeed (the first key back, the budget's next period), `now` the router's clock.
    public static func from(_ error: RouterError, retryAt: Timestamp?, now: Timestamp) -> GatewayError {
        switch error.code {
        case .invalidArgument, .invalidLimits:
            return .invalidRequest(error.message)
        case .unknownModel:
            return GatewayError(.notFound, type: "invalid_request_error", code: "model_not_found", error.message, parameter: "model")
        case .budgetExceeded:
            return GatewayError(.tooManyRequests, type: "rate_limit_error", code: "budget_exceeded", error.message, retryAfterSeconds: seconds(until: retryAt, now: now))
        case .noEligibleKey:
            // Every key cooling down, rate limited or spent: the caller may retry when the
            // first comes back; no key for the model at all is a 503.
            if let retry = seconds(until: retryAt, now: now) {
                return GatewayError(.tooManyRequests, type: "rate_limit_error", code: "no_key_available", error.message, retryAfterSeconds: retry)
            }
            return GatewayError(.serviceUnavailable, type: "api_error", code: "no_key_available", error.message)
        case .deadlineExceeded:
            return GatewayError(.gatewayTimeout, type: "api_error", code: "upstream_timeout", error.message)
        case .shutDown:
            return GatewayError(.serviceUnavailable, type: "api_error", code: "shutting_down", error.message)
        case .providerFailed, .attemptsExhausted:
            if let provider = error.providerError, provider.kind == .timeout {
                return GatewayError(.gatewayTimeout, type: "api_error", code: "upstream_timeout", error.message)
            }
            if let provider = error.providerError, provider.kind == .badRequest || provider.kind == .contextTooLong {
                // The upstream refused the request itself: the caller's to fix, not a failover.
                return GatewayError(.badRequest, type: "invalid_request_error", code: provider.kind.description, error.message)
            }
            return GatewayError(.badGateway, type: "api_error", code: "upstream_error", error.message)
        default:
            return GatewayError(.internalServerError, type: "api_error", code: error.code.description, error.message)
        }
    }

    /// Whole seconds from `now` to `instant`, at least 1; `nil` without an instant.
    private static func seconds(until instant: Timestamp?, now: Timestamp) -> Int? {
        guard let instant else { return nil }
        let nanoseconds = instant.nanosecondsSinceEpoch - now.nanosecondsSinceEpoch
        return max(1, Int((nanoseconds + 999_999_999) / 1_000_000_000))
    }
}
