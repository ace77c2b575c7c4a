/// Per-key rate limits shared by every router instance on one store: a key's
/// ``KeyLimits/requestsPerMinute``, ``KeyLimits/tokensPerMinute`` and ``KeyLimits/requestsPerDay``
/// become the fleet's limits, not each instance's — as the provider counts them.
///
/// An instance sends a request on a key only with a *grant* for it: units (requests or tokens)
/// the store gave this instance for a short ``grantLifetime``. Grants are taken with one
/// compare-and-set of the key limit's shared record, which admits a grant only while every grant
/// whose use could fall in one window with it — every grant usable within the last window, with
/// what their holders already used — stays within the limit. Each unit is used inside its grant's
/// lifetime, so no window of the limit's length (60 s, or 24 h) ever holds more units than the
/// limit, however many instances send.
///
/// - A grant is ``grantPermille`` of the limit (at least the request at hand, at most what is
///   free in the window): a window fills in a handful of store round trips.
///   While an instance uses a key, it renews the grant in the background once what is left falls
///   below ``renewBelowPermille`` of it or a third of its lifetime remains: what it used so far
///   stays counted in the record (until it leaves the window), what is left is carried over.
/// - A grant an instance stops using (or a killed instance's) simply runs out; it stays counted,
///   conservatively, until its lifetime plus one window has passed. ``LLMRouter/shutdown()``
///   gives the unused part back at once.
/// - When the window is full, a request fails with `noEligibleKey` (``Ineligibility/fleetRateLimit``)
///   and ``IneligibilityReport/earliestRetry`` says when a grant can next be had; for a tenth of
///   the grant lifetime the store is not asked again (grants given back early can free units
///   before the earliest retry).
/// - Clocks: grants are stamped with the instances' wall clocks, so the bound holds as stated when
///   they agree (processes on one host, or hosts kept in step by NTP); a skew of *s* lets a
///   window of length 60 s − *s* hold the limit.
public struct FleetRateLimits: Sendable, Hashable {
    /// The share of a limit one grant takes, in thousandths (1...1000): larger grants take fewer
    /// store round trips, smaller ones leave less unused in an instance that goes idle.
    public var grantPermille: Int
    /// How long a grant may be used before it has to be renewed. Keep it well above the store's
    /// slowest round trip: a grant's time starts when it is asked for, so one that takes longer
    /// to write than it lasts is of no use.
    public var grantLifetime: Duration
    /// Renew in the background once what is left of a grant falls below this share of it, in
    /// thousandths (0...1000).
    public var renewBelowPermille: Int

    /// Creates shared rate-limit settings.
    public init(grantPermille: Int = 100, grantLifetime: Duration = .seconds(5), renewBelowPermille: Int = 500) {
        self.grantPermille = grantPermille
        self.grantLifetime = grantLifetime
        self.renewBelowPermille = renewBelowPermille
    }

    /// After the store found a window full, how long requests are refused without asking it
    /// again (a tenth of the grant lifetime): bounds the store load of a fleet at its limit.
    var recheckAfterRefusal: Duration { grantLifetime / 10 }

    func validate() throws(RouterError) {
        guard (1...1000).contains(grantPermille), (0...1000).contains(renewBelowPermille) else {
            throw RouterError(.invalidArgument, "fleet rate limits need grantPermille 1...1000 and renewBelowPermille 0...1000")
        }
        guard grantLifetime >= .milliseconds(100), grantLifetime <= .seconds(600) else {
            throw RouterError(.invalidArgument, "fleet rate limits need a grantLifetime between 100 ms and 10 minutes")
        }
    }

    /// The shared record of `key`'s `kind` limit.
    static func ledgerKey(_ key: KeyID, _ kind: FleetRateKind) -> String {
        "fleet-rate/\(key.rawValue)/\(kind.name)"
    }

    /// What a grant on a limit of `limit` asks for when `needed` units are wanted at least.
    func share(of limit: Int64, needed: Int64) -> Int64 {
        let share = (Int128(max(0, limit)) * Int128(grantPermille) + 999) / 1000
        return max(needed, Int64(share), 1)
    }
}

/// The key limits a fleet shares.
enum FleetRateKind: Int, CaseIterable, Sendable {
    case requestsPerMinute
    case tokensPerMinute
    case requestsPerDay

    var name: String {
        switch self {
        case .requestsPerMinute: "rpm"
        case .tokensPerMinute: "tpm"
        case .requestsPerDay: "rpd"
        }
    }

    var windowMs: Int64 {
        switch self {
        case .requestsPerMinute, .tokensPerMinute: 60_000
        case .requestsPerDay: 86_400_000
        }
    }

    func limit(in limits: KeyLimits) -> Int? {
        switch self {
        case .requestsPerMinute: limits.requestsPerMinute
        case .tokensPerMinute: limits.tokensPerMinute
        case .requestsPerDay: limits.requestsPerDay
        }
    }
}
