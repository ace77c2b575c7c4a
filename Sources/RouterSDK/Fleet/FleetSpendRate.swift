/// An instance's recent spending of one fleet budget, measured between the slices it takes, so
/// the next slice can be sized to last about ``FleetBudgets/sliceCoverage``: an instance spending
/// little takes little (and strands little if it dies or goes idle), a busy one takes up to its
/// share.
struct FleetSpendRate {
    /// The last slice taken: when (monotonic) and what the instance had used of the period by then.
    private var last: (at: Duration, used: Money)?
    /// Nanodollars per second, each new interval weighing half; `nil` until a second slice.
    private(set) var nanodollarsPerSecond: Int64?

    /// The rate as it would be if a slice were taken now, at `used` (spent plus reserved this
    /// period); changes nothing. A period that restarted (less used than before) keeps the rate.
    func estimate(used: Money, at: Duration) -> Int64? {
        guard let last, used >= last.used, at > last.at else { return nanodollarsPerSecond }
        let elapsed = Int128(at.components.seconds) * 1_000_000_000_000_000_000 + Int128(at.components.attoseconds)
            - Int128(last.at.components.seconds) * 1_000_000_000_000_000_000 - Int128(last.at.components.attoseconds)
        let interval = Int64(clamping: Int128(used.nanodollars - last.used.nanodollars) * 1_000_000_000_000_000_000 / elapsed)
        return nanodollarsPerSecond.map { $0 / 2 + interval / 2 } ?? interval
    }

    /// Records a slice taken at `at` with `used` used: the interval since the last one counts.
    mutating func sliceTaken(used: Money, at: Duration) {
        nanodollarsPerSecond = estimate(used: used, at: at)
        last = (at, used)
    }

    /// What `rate` (nanodollars per second) spends in `coverage`.
    static func amount(_ rate: Int64, covering coverage: Duration) -> Money {
        let attoseconds = Int128(coverage.components.seconds) * 1_000_000_000_000_000_000 + Int128(coverage.components.attoseconds)
        return Money(nanodollars: Int64(clamping: Int128(rate) * attoseconds / 1_000_000_000_000_000_000))
    }
}
