internal import RouterSDK

/// A time in a query string, as the admin API's document declares it: Unix seconds (up to ten
/// digits) or RFC 3339 `YYYY-MM-DDTHH:MM:SS[.fraction](Z|±HH:MM)`. A day past its month's end
/// rolls over into the next month, as most date libraries do; a time past what a
/// ``RouterSDK/Timestamp`` holds (the year 2262) is clamped to it.
enum QueryTime {
    static func parse(_ text: String) -> Timestamp? {
        let bytes = Array(text.utf8)
        if (1...10).contains(bytes.count), bytes.allSatisfy(isDigit) {
            return clamped(seconds: Int64(number(bytes[...])), nanoseconds: 0)
        }
        // The fixed part: YYYY-MM-DDTHH:MM:SS.
        guard bytes.count >= 20, bytes[4] == UInt8(ascii: "-"), bytes[7] == UInt8(ascii: "-"), bytes[10] == UInt8(ascii: "T"),
            bytes[13] == UInt8(ascii: ":"), bytes[16] == UInt8(ascii: ":")
        else { return nil }
        let fields = [0..<4, 5..<7, 8..<10, 11..<13, 14..<16, 17..<19]
        guard fields.allSatisfy({ bytes[$0].allSatisfy(isDigit) }) else { return nil }
        let (year, month, day, hour, minute, second) = (
            number(bytes[0..<4]), number(bytes[5..<7]), number(bytes[8..<10]), number(bytes[11..<13]), number(bytes[14..<16]), number(bytes[17..<19])
        )
        guard (1...12).contains(month), (1...31).contains(day), hour < 24, minute < 60, second < 60 else { return nil }
        var index = 19
        var nanoseconds: Int64 = 0
        if bytes[index] == UInt8(ascii: ".") {
            let start = index + 1
            index = start
            while index < bytes.count, isDigit(bytes[index]) { index += 1 }
            let digits = index - start
            guard (1...9).contains(digits) else { return nil }
            nanoseconds = Int64(number(bytes[start..<index]))
            for _ in digits..<9 { nanoseconds *= 10 }
        }
        var offset = 0
        guard index < bytes.count else { return nil }
        switch bytes[index] {
        case UInt8(ascii: "Z") where index + 1 == bytes.count: break
        case UInt8(ascii: "+"), UInt8(ascii: "-"):
            guard index + 6 == bytes.count, bytes[index + 3] == UInt8(ascii: ":"),
                bytes[(index + 1)..<(index + 3)].allSatisfy(isDigit), bytes[(index + 4)..<(index + 6)].allSatisfy(isDigit)
            else { return nil }
            let hours = number(bytes[(index + 1)..<(index + 3)])
            let minutes = number(bytes[(index + 4)..<(index + 6)])
            guard hours < 24, minutes < 60 else { return nil }
            offset = (hours * 60 + minutes) * 60 * (bytes[index] == UInt8(ascii: "+") ? 1 : -1)
        default: return nil
        }
        let days = CivilDate(year: Int64(year), month: Int64(month), day: Int64(day)).daysSinceEpoch
        let seconds = days * 86_400 + Int64(hour * 3_600 + minute * 60 + second - offset)
        return clamped(seconds: seconds, nanoseconds: nanoseconds)
    }

    private static func isDigit(_ byte: UInt8) -> Bool { byte >= UInt8(ascii: "0") && byte <= UInt8(ascii: "9") }

    private static func number(_ digits: ArraySlice<UInt8>) -> Int {
        digits.reduce(0) { $0 * 10 + Int($1 - UInt8(ascii: "0")) }
    }

    private static func clamped(seconds: Int64, nanoseconds: Int64) -> Timestamp {
        let (scaled, overflow) = seconds.multipliedReportingOverflow(by: 1_000_000_000)
        guard !overflow else { return Timestamp(nanosecondsSinceEpoch: seconds < 0 ? 0 : .max) }
        let (total, overflowAdding) = scaled.addingReportingOverflow(nanoseconds)
        return Timestamp(nanosecondsSinceEpoch: overflowAdding ? .max : max(0, total))
    }
}
