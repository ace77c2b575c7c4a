@testable import GatewayKit
import RouterSDK
import Testing

/// The admin API's query times: Unix seconds or RFC 3339, exactly what its document declares.
@Suite struct QueryTimeTests {
    @Test(arguments: [
        ("0", Int64(0)), ("1767225600", 1_767_225_600_000_000_000), ("2026-01-01T00:00:00Z", 1_767_225_600_000_000_000),
        ("2026-01-01T01:00:00+01:00", 1_767_225_600_000_000_000), ("2025-12-31T23:00:00.5-01:00", 1_767_225_600_500_000_000),
        ("1970-01-01T00:00:00.000000001Z", 1), ("2024-02-29T12:00:00Z", 1_709_208_000_000_000_000),
        // A day past the month's end rolls over; before 1970 clamps to 0; past 2262 to the maximum.
        ("2026-02-31T00:00:00Z", 1_772_496_000_000_000_000), ("1744-09-30T15:35:33.70Z", 0), ("9999999999", .max),
    ])
    func readsWhatTheDocumentDeclares(_ text: String, _ nanoseconds: Int64) {
        #expect(QueryTime.parse(text) == Timestamp(nanosecondsSinceEpoch: nanoseconds))
    }

    @Test(arguments: [
        "", "12345678901", "-5", "yesterday", "2026-01-01", "2026-01-01T00:00:00", "2026-13-01T00:00:00Z", "2026-01-32T00:00:00Z",
        "2026-01-01T24:00:00Z", "2026-01-01T00:60:00Z", "2026-01-01T00:00:00.Z", "2026-01-01T00:00:00.1234567890Z", "2026-01-01T00:00:00+0100",
        "2026-01-01T00:00:00Zjunk", "2026-01-01t00:00:00z",
    ])
    func refusesTheRest(_ text: String) {
        #expect(QueryTime.parse(text) == nil)
    }
}
