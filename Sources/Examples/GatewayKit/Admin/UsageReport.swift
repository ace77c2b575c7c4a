internal import Foundation
internal import RouterChat
internal import RouterSDK

/// Requests, tokens and cost per group over a period, as JSON or CSV (money in exact integer
/// nanodollars in both).
struct UsageReport: Sendable {
    let from: Timestamp
    let to: Timestamp
    let grouping: SpendGrouping
    /// Rows by group name, sorted by name.
    let rows: [(group: String, totals: UsageTotals)]

    init(from: Timestamp, to: Timestamp, grouping: SpendGrouping, totals: [String: UsageTotals]) {
        self.from = from
        self.to = to
        self.grouping = grouping
        rows = totals.sorted { $0.key < $1.key }.map { ($0.key, $0.value) }
    }

    var json: JSONValue {
        [
            "from": AdminJSON.time(from), "to": AdminJSON.time(to), "group_by": .string(grouping.rawValue),
            "rows": .array(rows.map { row in
                [
                    "group": .string(row.group), "requests": .integer(Int64(row.totals.requests)), "input_tokens": .integer(row.totals.inputTokens),
                    "output_tokens": .integer(row.totals.outputTokens), "cost_nanodollars": AdminJSON.money(row.totals.cost),
                ]
            }),
        ]
    }

    /// RFC 4180 CSV with a header row; group names are quoted when they need it.
    var csv: String {
        var text = "group,requests,input_tokens,output_tokens,cost_nanodollars\r\n"
        for row in rows {
            text += "\(Self.field(row.group)),\(row.totals.requests),\(row.totals.inputTokens),\(row.totals.outputTokens),\(row.totals.cost.nanodollars)\r\n"
        }
        return text
    }

    private static func field(_ text: String) -> String {
        guard text.contains(where: { $0 == "," || $0 == "\"" || $0 == "\r" || $0 == "\n" }) else { return text }
        return "\"" + text.replacingOccurrences(of: "\"", with: "\"\"") + "\""
    }
}
