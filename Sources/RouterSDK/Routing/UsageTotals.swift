/// What a group of usage events adds up to: how many there were, their tokens and their cost.
/// ``StateStore/usageTotals(from:to:groupedBy:)`` answers it in the store (a `GROUP BY` or an
/// aggregation), without loading the events.
public struct UsageTotals: Sendable, Hashable, Codable {
    /// Usage events (requests settled or released with usage).
    public var requests: Int
    /// Input tokens of those events.
    public var inputTokens: Int64
    /// Output tokens of those events.
    public var outputTokens: Int64
    /// What they cost, exactly.
    public var cost: Money

    /// Creates totals.
    public init(requests: Int = 0, inputTokens: Int64 = 0, outputTokens: Int64 = 0, cost: Money = .zero) {
        self.requests = requests
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cost = cost
    }

    /// Adds one event.
    public mutating func add(_ event: UsageEvent) {
        requests += 1
        inputTokens += Int64(event.inputTokens)
        outputTokens += Int64(event.outputTokens)
        cost += event.cost
    }
}
