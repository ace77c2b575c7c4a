/// A point in wall-clock time: nanoseconds since the Unix epoch (UTC).
///
/// RouterSDK uses wall-clock time rather than a monotonic clock because budget periods are
/// calendar-aligned in UTC and cooldowns from providers (`Retry-After`, quota resets) are
/// wall-clock deadlines. Inject a ``RouterClock`` to control it in tests.
public struct Timestamp: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// Nanoseconds since 1970-01-01T00:00:00Z.
    public var nanosecondsSinceEpoch: Int64

    /// Creates a timestamp from nanoseconds since the Unix epoch.
    public init(nanosecondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = nanosecondsSinceEpoch
    }

    /// Creates a timestamp from whole seconds since the Unix epoch.
    public init(secondsSinceEpoch: Int64) {
        self.nanosecondsSinceEpoch = secondsSinceEpoch * 1_000_000_000
    }

    /// Milliseconds since the Unix epoch, rounded down; the resolution of rate-limit windows.
    public var millisecondsSinceEpoch: Int64 { nanosecondsSinceEpoch.floorDivided(by: 1_000_000) }

    /// Whole seconds since the Unix epoch, rounded down.
    public var secondsSinceEpoch: Int64 { nanosecondsSinceEpoch.floorDivided(by: 1_000_000_000) }

    public static func < (lhs: Timestamp, rhs: Timestamp) -> Bool {
        lhs.nanosecondsSinceEpoch < rhs.nanosecondsSinceEpoch
    }

    /// The timestamp `duration` later (or earlier, for a negative duration); saturates instead of trapping.
    public static func + (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: lhs.nanosecondsSinceEpoch.addingSaturating(rhs.wholeNanoseconds))
    }

    /// The timestamp `duration` earlier.
    public static func - (lhs: Timestamp, rhs: Duration) -> Timestamp {
        Timestamp(nanosecondsSinceEpoch: lhs.nanosecondsSinceEpoch.addingSaturating(-rhs.wholeNanoseconds))
    }

    /// The signed duration from `rhs` to `lhs`.
    public static func - (lhs: Timestamp, rhs: Timestamp) -> Duration {
        .nanoseconds(lhs.nanosecondsSinceEpoch - rhs.nanosecondsSinceEpoch)
    }

    /// ISO 8601 in UTC with millisecond precision, for logs and reports.
    public var description: String {
        let millis = millisecondsSinceEpoch
        let civil = CivilDate(daysSinceEpoch: millis.floorDivided(by: 86_400_000))
        let msOfDay = millis - millis.floorDivided(by: 86_400_000) * 86_400_000
        let hour = msOfDay / 3_600_000
        let minute = msOfDay / 60_000 % 60
        let second = msOfDay / 1000 % 60
        let ms = msOfDay % 1000
        return "\(civil.year)-\(pad(civil.month, 2))-\(pad(civil.day, 2))T\(pad(hour, 2)):\(pad(minute, 2)):\(pad(second, 2)).\(pad(ms, 3))Z"
    }
}

private func pad(_ value: some BinaryInteger, _ width: Int) -> String {
    let digits = String(value)
    return digits.count >= width ? digits : String(repeating: "0", count: width - digits.count) + digits
}

extension Int64 {
    /// Division rounding towards negative infinity, so pre-epoch instants land in the right period.
    @inlinable
    func floorDivided(by divisor: Int64) -> Int64 {
        let quotient = self / divisor
        return (self % divisor != 0 && (self < 0) != (divisor < 0)) ? quotient - 1 : quotient
    }

    @inlinable
    package func addingSaturating(_ other: Int64) -> Int64 {
        let (result, overflow) = addingReportingOverflow(other)
        if !overflow { return result }
        return other > 0 ? .max : .min
    }
}

extension Duration {
    /// The duration in whole nanoseconds, saturating at the bounds of `Int64`.
    var wholeNanoseconds: Int64 {
        let (seconds, attoseconds) = components
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        if overflow { return seconds > 0 ? .max : .min }
        return scaled.addingSaturating(attoseconds / 1_000_000_000)
    }

    /// The duration in whole milliseconds, rounded up so cooldowns never end early.
    var wholeMillisecondsRoundedUp: Int64 {
        let nanos = wholeNanoseconds
        return nanos <= 0 ? 0 : (nanos - 1) / 1_000_000 + 1
    }
}
