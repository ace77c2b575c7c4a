internal import Foundation

/// Hard budgets (and, with ``rateLimits``, key rate limits) shared by every router instance on one store: each instance spends only what the
/// store has granted it, as leased slices, and the store grants a slice with a compare-and-set on
/// the budget period's slice ledger that can never take the slices granted past the budget's
/// limit — so the fleet's settled spend never exceeds a hard budget, whatever the number of
/// processes, while each decision stays local.
///
/// - An instance starts a period with nothing granted. A reservation its slices cannot cover
///   takes a new slice first (two store round trips, off the hot path for every request the
///   slice then covers); when the unused part of its slices runs low it takes the next one in
///   the background, before a request has to wait.
/// - A slice covers about ``sliceCoverage`` of the instance's recent spending of the budget
///   (measured between its slices), at most ``slicePermille`` of what is still ungranted, and at
///   least ``minimumSlice`` and the reservation at hand — so a busy instance takes its share, one
///   spending little takes little, and slices shrink as a budget nears its limit so the last
///   dollars go where requests still arrive.
/// - Slices are leased: an instance renews its lease every third of ``leaseTimeToLive``. One
///   that stops renewing (killed, or cut off from the store) stops spending its slices when its
///   lease runs out; once the lease is ``leaseTimeToLive`` plus half of it past, any other
///   instance reclaims what the dead one did not spend (its settled spend, counted per instance
///   in the store with the ledger, stays spent) — provided the reclaiming instance has reached
///   the store without a break for half the TTL plus the writer's longest retry delay
///   (``RouterConfiguration/Persistence/maxRetryDelay``). After a store stall every lease looks
///   run out; that wait lets live instances write the settles they booked meanwhile and renew
///   before anyone counts what they spent.
/// - ``LLMRouter/shutdown()`` returns the unused part of the instance's slices at once.
/// - Requires committed acknowledgement (the default on the SQLite, PostgreSQL and MongoDB
///   stores): a settle returns once its spend is in the store.
///
/// The one bound: an instance cut off from the store (alive, not killed) whose lease is
/// reclaimed may still settle the calls it had in flight when it was cut off; when the store
/// returns their spend is recorded (nothing is lost) and can pass the limit by at most what
/// those calls had reserved.
public struct FleetBudgets: Sendable, Hashable {
    /// The largest share of a budget's ungranted amount one slice takes, in thousandths
    /// (1...1000); the first slice of a period, before the instance's spend rate is known, takes it.
    public var slicePermille: Int
    /// How long a slice should last at the instance's recent spend rate of the budget (default
    /// 60 s; `nil`: every slice is ``slicePermille`` of the ungranted amount). Shorter strands less
    /// in idle or dead instances and costs more store round trips.
    public var sliceCoverage: Duration?
    /// The smallest slice taken (a reservation larger than it takes a slice its size).
    public var minimumSlice: Money
    /// Take the next slice in the background once the unused part of the slices falls below
    /// this share of the last slice, in thousandths (0...1000; 0: only when a request needs it).
    public var renewBelowPermille: Int
    /// How long a slice lease lasts without renewal (renewed every third of it).
    public var leaseTimeToLive: Duration
    /// This instance's name in the slice ledgers; `nil` (the default): each router makes up a
    /// random one. Two routers must never share one (they would count as one instance).
    public var instanceID: String?
    /// Share the keys' rate limits with the fleet too (``FleetRateLimits``, the default); `nil`:
    /// each instance enforces them alone, as without fleet mode.
    public var rateLimits: FleetRateLimits?
    /// How often the instance reads the keys and budgets from the store to follow what other
    /// instances changed (default 2 s; `nil`: never): a key another instance saw become
    /// invalid, disabled or throttled until a time becomes so here, and management changes
    /// (key settings, secrets, keys registered or removed; budget definitions set, changed or
    /// removed, by version) made through another instance or the store directly apply here —
    /// within this interval plus one read of the store. Each sync reads every key, each key's
    /// latest transition and every budget.
    public var keySyncInterval: Duration?

    /// Creates fleet settings.
    public init(
        slicePermille: Int = 50, minimumSlice: Money = Money(nanodollars: 10_000_000), renewBelowPermille: Int = 500,
        leaseTimeToLive: Duration = .seconds(30), instanceID: String? = nil, rateLimits: FleetRateLimits? = FleetRateLimits(),
        keySyncInterval: Duration? = .seconds(2), sliceCoverage: Duration? = .seconds(60)
    ) {
        self.keySyncInterval = keySyncInterval
        self.sliceCoverage = sliceCoverage
        self.slicePermille = slicePermille
        self.minimumSlice = minimumSlice
        self.renewBelowPermille = renewBelowPermille
        self.leaseTimeToLive = leaseTimeToLive
        self.instanceID = instanceID
        self.rateLimits = rateLimits
    }

    /// A random instance id.
    static func randomInstanceID() -> String {
        var random = SystemRandomNumberGenerator()
        return String(random.next(), radix: 36) + String(random.next(), radix: 36)
    }

    func validate() throws(RouterError) {
        guard (1...1000).contains(slicePermille), (0...1000).contains(renewBelowPermille), minimumSlice > .zero else {
            throw RouterError(.invalidArgument, "fleet budgets need slicePermille 1...1000, renewBelowPermille 0...1000 and a positive minimumSlice")
        }
        if let sliceCoverage, sliceCoverage <= .zero {
            throw RouterError(.invalidArgument, "fleet budgets need a positive sliceCoverage (or nil: slices of slicePermille)")
        }
        guard leaseTimeToLive >= .milliseconds(300) else { throw RouterError(.invalidArgument, "fleet budgets need a leaseTimeToLive of at least 300 ms") }
        try rateLimits?.validate()
        if let keySyncInterval, keySyncInterval < .milliseconds(50) {
            throw RouterError(.invalidArgument, "fleet key sync needs a keySyncInterval of at least 50 ms (or nil: no sync)")
        }
        if let instanceID, instanceID.isEmpty || instanceID.contains("/") || instanceID.contains("@") {
            throw RouterError(.invalidArgument, "a fleet instance id must be non-empty, without '/' or '@'")
        }
    }

    /// The shared record holding the slices of `budget`'s period starting at `periodStart`.
    static func ledgerKey(_ budget: BudgetID, _ periodStart: Timestamp) -> String {
        "fleet/\(budget.rawValue)/\(periodStart.nanosecondsSinceEpoch)"
    }

    /// The spend counter of one instance's settled spend of `budget` (written with the ledger).
    static func instanceCounter(_ budget: BudgetID, _ instance: String) -> BudgetID { BudgetID("\(budget.rawValue)@\(instance)") }

    /// The slice to ask for when `ungranted` is left, `needed` is wanted at least, and the
    /// instance recently spent `rate` nanodollars per second (`nil`: not known yet).
    func slice(ungranted: Money, needed: Money, rate: Int64?) -> Money {
        let share = Money(nanodollars: Int64(Int128(ungranted.nanodollars) * Int128(slicePermille) / 1000))
        var sized = share
        if let sliceCoverage, let rate { sized = min(share, FleetSpendRate.amount(rate, covering: sliceCoverage)) }
        return max(needed, max(minimumSlice, sized))
    }

    /// How long after its expiry a lease is reclaimed by others.
    var reclaimGrace: Duration { leaseTimeToLive / 2 }
}

/// One budget period's slices, as the shared record holds them (JSON).
struct FleetSliceLedger: Hashable {
    struct Holder: Codable, Hashable {
        /// Slices granted to the instance this period, in nanodollars.
        var granted: Int64
        /// When its lease runs out (wall clock, milliseconds since the epoch).
        var expiresAtMs: Int64
    }

    /// Instances holding slices, by instance id.
    var holders: [String: Holder] = [:]
    /// What each instance that left (returned its slices) or was reclaimed had settled by then:
    /// spent for good. Set, never added to, so an instance reclaimed and back later is not
    /// counted twice; while it holds slices again, its new spend is covered by them.
    var retired: [String: Int64] = [:]

    /// Everything granted or spent: never above the limit.
    var total: Int64 { holders.values.reduce(retired.values.reduce(0, +)) { $0 + $1.granted } }

    /// Retires `instance` with its settled spend `spent` (its counter): what it spent before and
    /// is already retired is not counted again, and its slices now held (if any) are released.
    mutating func retire(_ instance: String, spent: Int64) {
        holders[instance] = nil
        retired[instance] = max(retired[instance] ?? 0, spent)
    }

    init() {}
}

extension FleetSliceLedger: SharedRecordBody {
    static let kind = "fleet slice ledger"
}
