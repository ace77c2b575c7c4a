/// How long this instance has reached the store without a break: what tells a store that has
/// been reachable for a while from one that has just come back.
///
/// Reclaiming another instance's slices right after a store stall would read its spend counter
/// before the settles it booked during the stall are written (its writer retries them once the
/// store answers): what those settles spent would be granted twice. An instance therefore
/// reclaims only once it has reached the store continuously for long enough that a live
/// instance would have written its pending settles and renewed its lease.
struct StoreContact {
    /// When the current run of successful round trips began (monotonic).
    private var streakStart: Duration?
    /// When the last successful round trip ended (monotonic).
    private var lastSuccess: Duration?

    /// Records a round trip that succeeded at `now`; a gap longer than `maxGap` since the last
    /// one starts a new run.
    mutating func succeeded(at now: Duration, maxGap: Duration) {
        if let lastSuccess, streakStart != nil, now - lastSuccess <= maxGap {
            self.lastSuccess = now
            return
        }
        streakStart = now
        lastSuccess = now
    }

    /// Whether the store has been reached without a break for at least `span` up to `now`.
    func continuous(for span: Duration, at now: Duration) -> Bool {
        guard let streakStart else { return false }
        return now - streakStart >= span
    }
}
