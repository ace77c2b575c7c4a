/// One key limit's grants across the fleet, as its shared record holds them (JSON): each
/// instance's grant in use, and the units used under earlier grants with the time their use
/// ended. Times are wall-clock milliseconds.
///
/// The invariant it keeps: at every write, the units of every entry usable after `now − window`
/// sum to at most the limit. A unit is used only inside its entry's time, so for any window the
/// write of the last entry used in it counted every other entry used in it: no window holds more
/// units than the limit.
struct FleetRateLedger: Hashable {
    struct Entry: Codable, Hashable {
        var units: Int64
        /// Until when these units may be (or were) used.
        var untilMs: Int64
    }

    /// The grant each instance is using, by instance id.
    var active: [String: Entry] = [:]
    /// Units used under earlier grants, oldest first.
    var used: [Entry] = []

    /// Entries of ``used`` kept; older ones merge (conservatively: counted until the later end).
    static let usedEntries = 32

    /// What the outcome of ``renew(instance:usedSinceRenewal:needed:topUp:settings:limit:window:nowMs:)`` gives an instance.
    struct Grant: Equatable {
        /// The instance's grant now: units it may use until ``untilMs``.
        var units: Int64
        /// Units added by this renewal (beyond what was carried over).
        var added: Int64
        var untilMs: Int64
        /// When `needed` units could next be granted, if they could not now.
        var retryAtMs: Int64?
    }

    /// Units of every entry that may fall in a window reaching `nowMs` or later.
    func counted(nowMs: Int64, windowMs: Int64) -> Int64 {
        let horizon = nowMs - windowMs
        let active = self.active.values.reduce(Int64(0)) { $1.untilMs > horizon ? $0 + $1.units : $0 }
        return used.reduce(active) { $1.untilMs > horizon ? $0 + $1.units : $0 }
    }

    /// Drops entries no window reaching `nowMs` can hold any more.
    mutating func prune(nowMs: Int64, windowMs: Int64) {
        let horizon = nowMs - windowMs
        active = active.filter { $0.value.untilMs > horizon }
        used.removeAll { $0.untilMs <= horizon }
    }

    /// Records `units` used until `untilMs`, keeping at most ``usedEntries`` entries.
    mutating func recordUsed(_ units: Int64, untilMs: Int64) {
        guard units > 0 else { return }
        let position = used.firstIndex { $0.untilMs > untilMs } ?? used.endIndex
        used.insert(Entry(units: units, untilMs: untilMs), at: position)
        while used.count > Self.usedEntries {
            // Merging the two oldest counts their units until the later one's end: never less.
            let oldest = used.removeFirst()
            used[0].units += oldest.units
        }
    }

    /// The earliest time `units` more could be granted under `limit` (at the latest, once every
    /// entry has left the window).
    func freeAt(units: Int64, limit: Int64, nowMs: Int64, windowMs: Int64) -> Int64 {
        let horizon = nowMs - windowMs
        let entries = (Array(active.values) + used).filter { $0.untilMs > horizon }.sorted { $0.untilMs < $1.untilMs }
        var total = entries.reduce(0) { $0 + $1.units }
        var at = nowMs
        for entry in entries where total + units > limit {
            total -= entry.units
            at = entry.untilMs + windowMs
        }
        return at
    }

    /// Renews `instance`'s grant at `nowMs`: the units it used since its last renewal move to
    /// ``used`` (their use ended now, or when the grant ran out), what it has left is carried
    /// over, and — when that is less than `needed`, or `topUp` — new units are added as far as
    /// the window has room. The grant is then usable until `nowMs` plus the grant lifetime.
    mutating func renew(
        instance: String, usedSinceRenewal: Int64, needed: Int64, topUp: Bool, settings: FleetRateLimits, limit: Int64,
        windowMs: Int64, nowMs: Int64
    ) -> Grant {
        prune(nowMs: nowMs, windowMs: windowMs)
        var carried: Int64 = 0
        if let mine = active.removeValue(forKey: instance) {
            if mine.untilMs > nowMs {
                recordUsed(usedSinceRenewal, untilMs: nowMs)
                carried = max(0, mine.units - usedSinceRenewal)
            } else {
                recordUsed(usedSinceRenewal, untilMs: mine.untilMs)  // ran out: the rest was never used
            }
        } else {
            recordUsed(usedSinceRenewal, untilMs: nowMs)
        }
        let counted = counted(nowMs: nowMs, windowMs: windowMs)
        // A limit lowered since the grant: carry over only what still fits.
        carried = min(carried, max(0, limit - counted))
        let free = limit - counted - carried
        var added: Int64 = 0
        let missing = max(0, needed - carried)
        if missing > 0 || topUp, free >= max(1, missing) {
            added = min(settings.share(of: limit, needed: missing), free)
        }
        let units = carried + added
        // Before this instance's entry goes in: the carried units are taken off the limit instead.
        let retryAtMs = units >= needed ? nil : freeAt(units: missing, limit: limit - carried, nowMs: nowMs, windowMs: windowMs)
        let untilMs = nowMs + settings.grantLifetime.wholeMillisecondsRoundedUp
        if units > 0 { active[instance] = Entry(units: units, untilMs: untilMs) }
        return Grant(units: units, added: added, untilMs: untilMs, retryAtMs: retryAtMs)
    }

    /// `instance` stops using its grant (shutdown): what it used is recorded, the rest freed.
    mutating func release(instance: String, usedSinceRenewal: Int64, nowMs: Int64) {
        guard let mine = active.removeValue(forKey: instance) else { return }
        recordUsed(usedSinceRenewal, untilMs: min(nowMs, mine.untilMs))
    }

    init() {}
}

extension FleetRateLedger: SharedRecordBody {
    static let kind = "fleet rate ledger"
}
