/// This instance's grant on one fleet-wide key limit (``FleetRateLimits``): units the store
/// granted and units used since the grant was last written.
struct FleetPermit {
    /// Units of the grant as last written to the store.
    var granted: Int64 = 0
    /// Units used since then (may pass `granted` when real token usage exceeds a reservation).
    var used: Int64 = 0
    /// Until when the grant may be used (engine milliseconds).
    var untilMs: Int64 = .min
    /// Bumped at every renewal: a settle gives tokens back only to the grant it reserved from.
    var epoch: UInt32 = 0

    func admits(_ units: Int64, nowMs: Int64) -> Bool {
        nowMs < untilMs && used + units <= granted
    }
}

/// A key's grants on its fleet-wide limits; a limit the key does not have has none.
struct FleetPermits {
    var requestsPerMinute: FleetPermit?
    var tokensPerMinute: FleetPermit?
    var requestsPerDay: FleetPermit?

    /// Grants for the limits of `limits`, keeping those of `current` still limited.
    init?(_ limits: KeyLimits, keeping current: FleetPermits?) {
        guard limits.requestsPerMinute != nil || limits.tokensPerMinute != nil || limits.requestsPerDay != nil else { return nil }
        requestsPerMinute = limits.requestsPerMinute.map { _ in current?.requestsPerMinute ?? FleetPermit() }
        tokensPerMinute = limits.tokensPerMinute.map { _ in current?.tokensPerMinute ?? FleetPermit() }
        requestsPerDay = limits.requestsPerDay.map { _ in current?.requestsPerDay ?? FleetPermit() }
    }

    subscript(kind: FleetRateKind) -> FleetPermit? {
        get {
            switch kind {
            case .requestsPerMinute: requestsPerMinute
            case .tokensPerMinute: tokensPerMinute
            case .requestsPerDay: requestsPerDay
            }
        }
        set {
            switch kind {
            case .requestsPerMinute: requestsPerMinute = newValue
            case .tokensPerMinute: tokensPerMinute = newValue
            case .requestsPerDay: requestsPerDay = newValue
            }
        }
    }

    /// Units one request of `tokens` reserved tokens takes from the `kind` grant.
    static func units(_ kind: FleetRateKind, tokens: Int64) -> Int64 {
        kind == .tokensPerMinute ? tokens : 1
    }

    /// Whether every grant can take a request reserving `tokens` now.
    func admit(tokens: Int64, nowMs: Int64) -> Bool {
        (requestsPerMinute?.admits(1, nowMs: nowMs) ?? true)
            && (requestsPerDay?.admits(1, nowMs: nowMs) ?? true)
            && (tokensPerMinute?.admits(tokens, nowMs: nowMs) ?? true)
    }

    /// Takes a request reserving `tokens` from every grant.
    mutating func take(tokens: Int64) {
        requestsPerMinute?.used += 1
        requestsPerDay?.used += 1
        tokensPerMinute?.used += tokens
    }
}
