/// A continuous-refill rate limit (GCRA / leaky bucket) with a burst equal to the limit.
///
/// The bucket's level is kept in unit·milliseconds so every operation is exact integer
/// arithmetic: taking `n` units adds `n × window`, and the bucket drains `limit` per millisecond.
/// It admits at most `limit` units in any window of length `window`.
struct RateWindow {
    let limit: Int64
    let windowMs: Int64
    private(set) var level: Int64 = 0
    private var updatedMs: Int64?

    init(limit: Int, windowMs: Int64) {
        self.limit = Int64(limit)
        self.windowMs = windowMs
    }

    private var capacity: Int64 { limit * windowMs }

    /// Drains the bucket for the time passed since the last update.
    mutating func advance(to nowMs: Int64) {
        guard let updatedMs else {
            self.updatedMs = nowMs
            return
        }
        let elapsed = nowMs - updatedMs
        guard elapsed > 0 else { return }
        level = max(0, level - elapsed.multipliedSaturating(by: limit))
        self.updatedMs = nowMs
    }

    /// Whether `units` more fit now (call ``advance(to:)`` first).
    func fits(_ units: Int64) -> Bool {
        units <= limit && level + units * windowMs <= capacity
    }

    /// Takes `units`, even past the capacity (real usage above a reservation still counts).
    mutating func take(_ units: Int64) {
        level = level.addingSaturating(units.multipliedSaturating(by: windowMs))
    }

    /// Returns unused `units` from a reservation.
    mutating func giveBack(_ units: Int64) {
        level = max(0, level - units.multipliedSaturating(by: windowMs))
    }

    /// Whole units that fit now.
    var remaining: Int64 { max(0, (capacity - level) / windowMs) }

    /// Milliseconds until `units` fit (0 if they fit now).
    func millisecondsUntilFits(_ units: Int64) -> Int64 {
        let excess = level + min(units, limit) * windowMs - capacity
        return excess <= 0 ? 0 : (excess + limit - 1) / limit
    }
}
