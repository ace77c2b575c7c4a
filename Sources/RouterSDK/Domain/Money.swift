/// An exact amount of money in US dollars, held as whole nanodollars (10⁻⁹ USD) in an `Int64`.
///
/// Spend is never floating point: prices, reservations, budgets and the usage ledger all add and
/// compare integers, so totals are exact and reproducible. The range is about ±9.2 billion USD.
/// Arithmetic saturates at the bounds instead of trapping, so an absurd price blows a budget
/// rather than the process.
public struct Money: Sendable, Hashable, Comparable, Codable, CustomStringConvertible, ExpressibleByIntegerLiteral {
    /// The amount in nanodollars.
    public var nanodollars: Int64

    /// Nanodollars per dollar.
    public static let nanodollarsPerDollar: Int64 = 1_000_000_000

    /// Zero dollars.
    public static let zero = Money(nanodollars: 0)

    /// Creates an amount from nanodollars.
    public init(nanodollars: Int64) {
        self.nanodollars = nanodollars
    }

    /// Creates an amount from whole dollars; an integer literal means dollars too.
    public init(dollars: Int64) {
        self.nanodollars = dollars.multipliedSaturating(by: Self.nanodollarsPerDollar)
    }

    /// Creates an amount from whole cents.
    public init(cents: Int64) {
        self.nanodollars = cents.multipliedSaturating(by: 10_000_000)
    }

    /// Creates an amount from microdollars (10⁻⁶ USD).
    public init(microdollars: Int64) {
        self.nanodollars = microdollars.multipliedSaturating(by: 1000)
    }

    public init(integerLiteral dollars: Int64) {
        self.init(dollars: dollars)
    }

    /// Parses a decimal dollar amount such as `"12"`, `"0.15"` or `"-3.000000001"` exactly.
    ///
    /// Returns `nil` for anything that is not an optionally signed decimal with at most nine
    /// fractional digits, or that is out of range. No floating point is involved.
    public init?(decimal text: some StringProtocol) {
        var utf8 = Substring(text).utf8[...]
        var negative = false
        if let first = utf8.first, first == UInt8(ascii: "-") || first == UInt8(ascii: "+") {
            negative = first == UInt8(ascii: "-")
            utf8 = utf8.dropFirst()
        }
        var whole: Int64 = 0
        var fraction: Int64 = 0
        var fractionDigits = 0
        var seenDigit = false
        var inFraction = false
        for byte in utf8 {
            if byte == UInt8(ascii: ".") {
                if inFraction { return nil }
                inFraction = true
                continue
            }
            guard byte >= UInt8(ascii: "0"), byte <= UInt8(ascii: "9") else { return nil }
            seenDigit = true
            let digit = Int64(byte - UInt8(ascii: "0"))
            if inFraction {
                fractionDigits += 1
                if fractionDigits > 9 { return nil }
                fraction = fraction * 10 + digit
            } else {
                let (times10, o1) = whole.multipliedReportingOverflow(by: 10)
                let (next, o2) = times10.addingReportingOverflow(digit)
                if o1 || o2 { return nil }
                whole = next
            }
        }
        guard seenDigit else { return nil }
        for _ in fractionDigits..<9 { fraction *= 10 }
        let (scaled, o1) = whole.multipliedReportingOverflow(by: Self.nanodollarsPerDollar)
        let (total, o2) = scaled.addingReportingOverflow(fraction)
        if o1 || o2 { return nil }
        nanodollars = negative ? -total : total
    }

    /// The amount as a plain decimal string with nine fractional digits trimmed to at least two,
    /// e.g. `"0.15"`, `"12.00"`, `"0.000002"`. Round-trips through ``init(decimal:)``.
    public var decimalString: String {
        let negative = nanodollars < 0
        let magnitude = nanodollars.magnitude
        let whole = magnitude / UInt64(Self.nanodollarsPerDollar)
        var fraction = String(magnitude % UInt64(Self.nanodollarsPerDollar))
        fraction = String(repeating: "0", count: 9 - fraction.count) + fraction
        while fraction.count > 2, fraction.hasSuffix("0") { fraction.removeLast() }
        return (negative ? "-" : "") + "\(whole).\(fraction)"
    }

    /// `$` followed by ``decimalString``.
    public var description: String {
        nanodollars < 0 ? "-$" + decimalString.dropFirst() : "$" + decimalString
    }

    public static func < (lhs: Money, rhs: Money) -> Bool { lhs.nanodollars < rhs.nanodollars }

    public static func + (lhs: Money, rhs: Money) -> Money {
        Money(nanodollars: lhs.nanodollars.addingSaturating(rhs.nanodollars))
    }

    public static func - (lhs: Money, rhs: Money) -> Money {
        Money(nanodollars: lhs.nanodollars.addingSaturating(-rhs.nanodollars))
    }

    public static func += (lhs: inout Money, rhs: Money) { lhs = lhs + rhs }
    public static func -= (lhs: inout Money, rhs: Money) { lhs = lhs - rhs }

    public init(from decoder: any Decoder) throws {
        nanodollars = try decoder.singleValueContainer().decode(Int64.self)
    }

    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(nanodollars)
    }
}

extension Int64 {
    @inlinable
    func multipliedSaturating(by other: Int64) -> Int64 {
        let (result, overflow) = multipliedReportingOverflow(by: other)
        if !overflow { return result }
        return (self < 0) == (other < 0) ? .max : .min
    }
}
